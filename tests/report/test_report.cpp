#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <regex>

#include "core/error.hpp"
#include "core/files.hpp"
#include "report/base64.hpp"
#include "report/figures.hpp"
#include "report/report.hpp"
#include "report/tables.hpp"

using namespace harmonize;
namespace fs = std::filesystem;

namespace {
MetricRow row(const std::string& subject, const std::string& method, const std::string& reference,
              const std::string& metric, const std::string& cls, double value,
              const std::string& direction = "3T-to-1p5T") {
  return MetricRow{subject, direction, method, reference, metric, cls, value};
}

// Known rows: hand-computed means, sds and changes relative to Original in the tests.
std::vector<MetricRow> known_rows() {
  return {
      row("s1", "Original", "target", "ahd", "", 100),
      row("s2", "Original", "target", "ahd", "", 200),
      row("s3", "Original", "target", "ahd", "", 300),  // mean 200, sd 100
      row("s1", "DM", "target", "ahd", "", 50),
      row("s2", "DM", "target", "ahd", "", 60),
      row("s3", "DM", "target", "ahd", "", 70),  // mean 60, sd 10: -70 %
      row("s1", "Original", "", "mse_sum", "", 10),
      row("s2", "Original", "", "mse_sum", "", 20),  // 15
      row("s1", "DM", "", "mse_sum", "", 3),
      row("s2", "DM", "", "mse_sum", "", 3),  // 3: -80 %
      row("s1", "Original", "target", "volume_abs_diff_mm3", "CSF", 100),
      row("s1", "Original", "target", "volume_abs_diff_mm3", "GM", 200),
      row("s1", "Original", "target", "volume_abs_diff_mm3", "WM", 300),  // mean of classes 200
      row("s1", "DM", "target", "volume_abs_diff_mm3", "CSF", 50),
      row("s1", "DM", "target", "volume_abs_diff_mm3", "GM", 50),
      row("s1", "DM", "target", "volume_abs_diff_mm3", "WM", 50),  // 50: -75 %; WM -83.3 %
      row("s1", "DM", "target", "hd", "CSF", 5),
      row("s2", "DM", "target", "hd", "CSF", std::numeric_limits<double>::infinity()),
      row("s3", "DM", "target", "hd", "CSF", 7),  // finite: mean 6, sd sqrt 2, n 2
      row("s1", "Target", "", "volume_mm3", "GM", 6e5),
      row("s1", "DM", "truth", "dice", "WM", 0.9, "1p5T-to-3T"),
  };
}

struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() /
           ("harmonize_report_test_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
};

// A 40 x 50 x 30 grid (1 mm, identity direction) with a box-shaped brain:
// i 10..29, j 12..41, k 5..24; centre voxel (20, 27, 15).
Geometry box_grid(Vec3 spacing = {1, 1, 1}) {
  Geometry g;
  g.size = {40, 50, 30};
  g.spacing = spacing;
  return g;
}
Mask box_mask(const Geometry& g) {
  Mask m(g, 0);
  for (std::size_t k = 5; k < 25; ++k)
    for (std::size_t j = 12; j < 42; ++j)
      for (std::size_t i = 10; i < 30; ++i) m.at(i, j, k) = 1;
  return m;
}

std::pair<int, int> argmax(const std::vector<float>& v, int width) {
  const auto it = std::max_element(v.begin(), v.end());
  const int p = int(it - v.begin());
  return {p % width, p / width};
}

// The same world content stored on another index layout (a signed permutation of the axes).
template <class T>
Image<T> relayout(const Image<T>& in, const Mat3& direction) {
  Geometry g = in.geom;
  g.direction = direction;
  for (int a = 0; a < 3; ++a) {  // new axis a runs along the old axis it points to
    int old = 0;
    for (int r = 0; r < 3; ++r)
      if (std::fabs(direction[3 * r + a]) > 0.5) old = r;
    g.size[a] = in.geom.size[old];
    g.spacing[a] = in.geom.spacing[old];
  }
  // Choose the origin so that the new grid covers the old one's corners.
  Vec3 lo{1e9, 1e9, 1e9};
  for (int m = 0; m < 8; ++m) {
    const Vec3 w =
        in.geom.index_to_world({(m & 1) ? double(in.geom.size[0] - 1) : 0, (m & 2) ? double(in.geom.size[1] - 1) : 0,
                                (m & 4) ? double(in.geom.size[2] - 1) : 0});
    for (int a = 0; a < 3; ++a) lo[a] = std::min(lo[a], w[a]);
  }
  g.origin = {0, 0, 0};
  Vec3 wmin{1e9, 1e9, 1e9};  // lowest world coordinates of the new grid's corners with origin 0
  for (int m = 0; m < 8; ++m) {
    const Vec3 w = g.index_to_world({(m & 1) ? double(g.size[0] - 1) : 0, (m & 2) ? double(g.size[1] - 1) : 0,
                                     (m & 4) ? double(g.size[2] - 1) : 0});
    for (int a = 0; a < 3; ++a) wmin[a] = std::min(wmin[a], w[a]);
  }
  g.origin = {lo[0] - wmin[0], lo[1] - wmin[1], lo[2] - wmin[2]};
  Image<T> out(g);
  for (std::size_t k = 0; k < g.size[2]; ++k)
    for (std::size_t j = 0; j < g.size[1]; ++j)
      for (std::size_t i = 0; i < g.size[0]; ++i) {
        const Vec3 p = in.geom.world_to_index(g.index_to_world({double(i), double(j), double(k)}));
        out.at(i, j, k) =
            in.at(std::size_t(std::lround(p[0])), std::size_t(std::lround(p[1])), std::size_t(std::lround(p[2])));
      }
  return out;
}
}  // namespace

TEST(Base64, Rfc4648TestVectors) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("foob"), "Zm9vYg==");
  EXPECT_EQ(base64_encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64_encode(std::string("\xff\xfe\x00", 3)), "//4A");
  EXPECT_EQ(base64_encode(std::string("\xfb\xff", 2)), "+/8=");
}

TEST(ReportTables, MeanAndSampleSdOverSubjects) {
  const auto s = summarize(known_rows());
  const Summary* a = find_summary(s, "3T-to-1p5T", "Original", "target", "ahd", "");
  ASSERT_NE(a, nullptr);
  EXPECT_DOUBLE_EQ(a->mean, 200);
  EXPECT_DOUBLE_EQ(a->sd, 100);
  EXPECT_EQ(a->n, 3u);
  const Summary* m = find_summary(s, "3T-to-1p5T", "Original", "", "mse_sum", "");
  ASSERT_NE(m, nullptr);
  EXPECT_DOUBLE_EQ(m->mean, 15);
  EXPECT_NEAR(m->sd, std::sqrt(50.0), 1e-12);
  const Summary* one = find_summary(s, "3T-to-1p5T", "DM", "target", "volume_abs_diff_mm3", "WM");
  ASSERT_NE(one, nullptr);
  EXPECT_DOUBLE_EQ(one->mean, 50);
  EXPECT_DOUBLE_EQ(one->sd, 0);
  EXPECT_EQ(one->n, 1u);
  // An infinite Hausdorff distance (empty class) is left out and n says so.
  const Summary* hd = find_summary(s, "3T-to-1p5T", "DM", "target", "hd", "CSF");
  ASSERT_NE(hd, nullptr);
  EXPECT_DOUBLE_EQ(hd->mean, 6);
  EXPECT_NEAR(hd->sd, std::sqrt(2.0), 1e-12);
  EXPECT_EQ(hd->n, 2u);
  EXPECT_EQ(find_summary(s, "1p5T-to-3T", "Original", "target", "ahd", ""), nullptr);
  EXPECT_EQ(format_cell(a), "200 [100]");
}

TEST(ReportTables, RelativeToOriginal) {
  const auto rel = relative_to_original(summarize(known_rows()));
  ASSERT_EQ(rel.size(), 1u);  // DM in 3T-to-1p5T; the other direction has no Original
  EXPECT_EQ(rel[0].method, "DM");
  EXPECT_NEAR(rel[0].ahd, -70.0, 1e-9);
  EXPECT_NEAR(rel[0].mse, -80.0, 1e-9);
  EXPECT_NEAR(rel[0].volume, -75.0, 1e-9);
  EXPECT_NEAR(rel[0].wm_volume, 100.0 * (50 - 300) / 300, 1e-9);
  EXPECT_EQ(format_percent(rel[0].ahd), "-70.0 %");
  EXPECT_TRUE(std::isnan(percent_change(1, 0)));
}

TEST(ReportTables, PaperNumbersGiveThePapersRelativeGains) {
  // PAPER.md: DM cuts AHD by ~79 % and ~76 %, MSE by ~13 % and ~59 %, WM volume difference by ~82 % and ~83 %.
  const auto rel = relative_to_original(paper_summaries());
  auto find = [&](const std::string& d) {
    for (const auto& r : rel)
      if (r.direction == d && r.method == "DM (paper)") return r;
    ADD_FAILURE() << d;
    return RelativeChange{};
  };
  const auto a = find("3T-to-1p5T"), b = find("1p5T-to-3T");
  EXPECT_EQ(std::lround(a.ahd), -79);
  EXPECT_EQ(std::lround(b.ahd), -76);
  EXPECT_EQ(std::lround(a.mse), -13);
  EXPECT_EQ(std::lround(b.mse), -59);
  EXPECT_EQ(std::lround(a.wm_volume), -82);
  EXPECT_EQ(std::lround(b.wm_volume), -83);
}

TEST(ReportTables, NumbersPrintedAsInThePaper) {
  EXPECT_EQ(format_number(1.85e-3), "1.85e-3");
  EXPECT_EQ(format_number(37200), "3.72e4");
  EXPECT_EQ(format_number(6.15e5), "6.15e5");
  EXPECT_EQ(format_number(0.823), "0.823");
  EXPECT_EQ(format_number(9.1), "9.1");
  EXPECT_EQ(format_number(1234.4), "1234");
  EXPECT_EQ(format_number(0.005), "5e-3");
  EXPECT_EQ(format_number(0), "0");
  EXPECT_EQ(format_number(std::numeric_limits<double>::quiet_NaN()), "–");
}

TEST(ReportTables, CsvHoldsMeanSdAndN) {
  const auto csv = summaries_csv(summarize(known_rows()), table_metrics(1));
  EXPECT_EQ(csv.substr(0, csv.find('\n')), "direction,method,reference,metric,class,mean,sd,n");
  EXPECT_NE(csv.find("\n3T-to-1p5T,Original,target,ahd,,200,100,3\n"), std::string::npos) << csv;
  EXPECT_NE(csv.find("\n3T-to-1p5T,DM,,mse_sum,,3,0,2\n"), std::string::npos) << csv;
  EXPECT_EQ(csv.find("volume"), std::string::npos);
  // Original comes before the model.
  EXPECT_LT(csv.find("Original,target,ahd"), csv.find("DM,target,ahd"));
}

TEST(ReportFigures, SliceGridHasSquarePixelsOverTheBrainInMillimetres) {
  const Geometry g = box_grid();
  const Mask m = box_mask(g);
  // Brain i 10..29 around centre 20: -10..9 mm, plus 6 mm margins: 32 px; j 12..41 around 27: 42 px.
  const SliceGrid ax = slice_grid(m, SliceView::Axial);
  EXPECT_EQ(ax.width, 32);
  EXPECT_EQ(ax.height, 42);
  const SliceGrid sag = slice_grid(m, SliceView::Sagittal);
  EXPECT_EQ(sag.width, 42);
  EXPECT_EQ(sag.height, 32);
  // 2 mm along i: the same 20 voxels span 40 mm, still drawn with 1 mm pixels.
  const Mask m2 = box_mask(box_grid({2, 1, 1}));
  const SliceGrid ax2 = slice_grid(m2, SliceView::Axial);
  EXPECT_DOUBLE_EQ(ax2.pixel_mm, 1.0);
  EXPECT_EQ(ax2.width, 20 + 18 + 12 + 1);  // -20..18 mm plus margins
  EXPECT_EQ(ax2.height, 42);
}

TEST(ReportFigures, AxialSliceShowsAnteriorUpAndSubjectsLeftOnTheRight) {
  const Geometry g = box_grid();
  const Mask m = box_mask(g);
  Volume v(g, 0.2f);
  v.at(25, 19, 15) = 1.0f;  // 5 mm to the subject's left (+x), 8 mm anterior (-y) of the centre (20, 27, 15)
  const SliceGrid s = slice_grid(m, SliceView::Axial);
  const auto img = sample_slice(v, s);
  const auto [x, y] = argmax(img, s.width);
  EXPECT_EQ(x, 16 + 5);  // the centre is at pixel (16, 21)
  EXPECT_EQ(y, 21 - 8);
  EXPECT_FLOAT_EQ(img[std::size_t(y) * s.width + x], 1.0f);
}

TEST(ReportFigures, FlippedOrPermutedStorageDisplaysTheSame) {
  const Geometry g = box_grid();
  const Mask m = box_mask(g);
  Volume v(g, 0.1f);
  v.at(25, 19, 15) = 1.0f;
  v.at(20, 27, 20) = 0.7f;
  v.at(12, 30, 15) = 0.5f;
  const Mat3 flipped = {-1, 0, 0, 0, -1, 0, 0, 0, 1};  // RAS-like storage
  const Mat3 permuted = {0, 1, 0, 0, 0, -1, 1, 0, 0};  // i along +z, j along +x, k along -y
  for (const Mat3& d : {flipped, permuted}) {
    const Volume v2 = relayout(v, d);
    const Mask m2 = relayout(m, d);
    for (SliceView view : {SliceView::Sagittal, SliceView::Coronal, SliceView::Axial}) {
      const SliceGrid a = slice_grid(m, view), b = slice_grid(m2, view);
      ASSERT_EQ(a.width, b.width);
      ASSERT_EQ(a.height, b.height);
      const auto ia = sample_slice(v, a), ib = sample_slice(v2, b);
      for (std::size_t p = 0; p < ia.size(); ++p)
        ASSERT_NEAR(ia[p], ib[p], 1e-5) << "view " << int(view) << " pixel " << p;
    }
  }
}

TEST(ReportFigures, ComparisonFigureSizeAndBrightestPixel) {
  const Geometry g = box_grid();
  const Mask m = box_mask(g);
  Volume v(g, 0.0f);
  for (std::size_t n = 0; n < v.data.size(); ++n) v.data[n] = m.data[n] ? 0.3f : 0.0f;
  v.at(20, 19, 21) = 1.0f;  // in the sagittal plane through the centre: 8 mm anterior, 6 mm superior
  const RgbImage fig = comparison_figure(v, v, v, m, "sub-001 3T to 1.5T");
  // Columns of kMinColumn (200) px; rows: sagittal 42 x 32, coronal 32 x 32, axial 32 x 42.
  EXPECT_EQ(fig.width, 10 + 4 * (200 + 10));
  EXPECT_EQ(fig.height, 34 + 26 + (20 + 32 + 10) + (20 + 32 + 10) + (20 + 42 + 10) + 40 + 10);
  // Pure white pixels only where the bright voxel is, in the sagittal row of the three grey columns:
  // the panel starts at x = 10 + (200 - 42) / 2, y = 34 + 26 + 20; the voxel is at (21 - 8, 15 - 6) in it.
  std::vector<std::pair<int, int>> white;
  for (int y = 0; y < fig.height; ++y)
    for (int x = 0; x < fig.width; ++x) {
      const std::size_t o = (std::size_t(y) * fig.width + x) * 3;
      if (fig.rgb[o] == 255 && fig.rgb[o + 1] == 255 && fig.rgb[o + 2] == 255) white.push_back({x, y});
    }
  const std::vector<std::pair<int, int>> expected = {
      {89 + 13, 80 + 9}, {89 + 13 + 210, 80 + 9}, {89 + 13 + 420, 80 + 9}};
  EXPECT_EQ(white, expected);
}

TEST(ReportFigures, HistogramFigureDrawsEachVolumeAtItsIntensity) {
  const Geometry g = box_grid();
  const Mask m = box_mask(g);
  Volume a(g, 0.2f), b(g, 0.4f), c(g, 0.6f);
  EXPECT_EQ(brain_histogram(a, m)[51], 20.0 * 30 * 20);
  const RgbImage fig = histogram_figure(a, b, c, m, "sub-001 histograms");
  ASSERT_EQ(fig.width, kHistogramWidth);
  ASSERT_EQ(fig.height, kHistogramHeight);
  const std::array<std::uint8_t, 3> colours[3] = {{31, 119, 180}, {255, 127, 14}, {44, 160, 44}};
  const double centre[3] = {51.5, 102.5, 153.5};  // bin centres of 0.2, 0.4 and 0.6
  for (int k = 0; k < 3; ++k) {
    int top_x = -1, top_y = fig.height;
    for (int y = kHistogramPlotTop; y < fig.height; ++y)  // below the legend
      for (int x = 0; x < fig.width; ++x) {
        const std::size_t o = (std::size_t(y) * fig.width + x) * 3;
        if (fig.rgb[o] == colours[k][0] && fig.rgb[o + 1] == colours[k][1] && fig.rgb[o + 2] == colours[k][2] &&
            y < top_y)
          top_x = x, top_y = y;
      }
    const double pw = kHistogramPlotRight - kHistogramPlotLeft;
    EXPECT_NEAR(top_x, kHistogramPlotLeft + centre[k] / 255 * pw, 3) << k;
    EXPECT_LT(top_y, (kHistogramPlotTop + kHistogramPlotBottom) / 2) << k;
  }
}

TEST(Report, HtmlIsSelfContainedWithOneImagePerFigure) {
  TempDir dir;
  fs::create_directories(dir.path / "figures");
  RgbImage a(30, 20, 40), b(25, 25, 200);
  write_png((dir.path / "figures/sub-001_comparison.png").string(), a);
  write_png((dir.path / "figures/sub-001_histogram.png").string(), b);
  ReportInput in;
  in.out_dir = dir.path.string();
  in.settings = {"cohort: `demo/cohort`, 6 subjects", "- folds: 2"};
  in.rows = known_rows();
  in.figures = {{"sub-001", "3T-to-1p5T", "comparison", "figures/sub-001_comparison.png"},
                {"sub-001", "3T-to-1p5T", "histograms", "figures/sub-001_histogram.png"}};
  write_report(in);
  const std::string html = read_text_file((dir.path / "report.html").string());
  std::size_t images = 0;
  for (std::size_t p = html.find("data:image/png;base64,"); p != std::string::npos;
       p = html.find("data:image/png;base64,", p + 1))
    ++images;
  EXPECT_EQ(images, 2u);
  EXPECT_NE(html.find(base64_encode(read_text_file((dir.path / "figures/sub-001_histogram.png").string()))),
            std::string::npos);
  // Every src is a data: URL; every href an anchor in the page; nothing names http.
  const std::regex ref("(src|href)=\"([^\"]*)\"");
  std::size_t refs = 0;
  for (auto it = std::sregex_iterator(html.begin(), html.end(), ref); it != std::sregex_iterator(); ++it, ++refs) {
    const std::string kind = (*it)[1], target = (*it)[2];
    if (kind == "src")
      EXPECT_EQ(target.rfind("data:image/png;base64,", 0), 0u) << target.substr(0, 40);
    else
      EXPECT_EQ(target.rfind("#", 0), 0u) << target;
  }
  EXPECT_GT(refs, 2u);
  EXPECT_EQ(html.find("http"), std::string::npos);
  EXPECT_EQ(html.find("<link"), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_NE(html.find("paper (Durrer et al. 2023, their data)"), std::string::npos);
  EXPECT_NE(html.find("<code>demo/cohort</code>"), std::string::npos);

  const std::string md = read_text_file((dir.path / "report.md").string());
  EXPECT_NE(md.find("![3T→1.5T: comparison](figures/sub-001_comparison.png)"), std::string::npos) << md;
  EXPECT_NE(md.find("| this run | Original | 15 [7.07] | – | 200 [100] | – | – | – |"), std::string::npos) << md;
  EXPECT_NE(md.find("- folds: 2\n"), std::string::npos);
  // Intervals where at least two subjects have the quantity (AHD, MSE), none for one (volumes).
  EXPECT_NE(md.find("| this run | 3T→1.5T | DM | -70.0 % ["), std::string::npos) << md;
  EXPECT_NE(md.find("| -75.0 % | -83.3 % |"), std::string::npos) << md;
  for (int t = 1; t <= 4; ++t) EXPECT_TRUE(fs::exists(dir.path / "tables" / ("table" + std::to_string(t) + ".csv")));
}

TEST(Report, MissingFigureThrowsAndWritesNothing) {
  TempDir dir;
  ReportInput in;
  in.out_dir = dir.path.string();
  in.rows = known_rows();
  in.figures = {{"sub-001", "3T-to-1p5T", "comparison", "figures/missing.png"}};
  EXPECT_THROW(write_report(in), Error);
  EXPECT_TRUE(fs::is_empty(dir.path));
  in.figures[0].png = (dir.path / "figures/missing.png").string();  // absolute paths are refused too
  EXPECT_THROW(write_report(in), Error);
  EXPECT_TRUE(fs::is_empty(dir.path));
}

TEST(ReportTables, BootstrapIntervalsOverSubjects) {
  // Every subject halves: the change is -50 % on every resample, a degenerate interval.
  std::vector<MetricRow> rows;
  for (int s = 0; s < 8; ++s) {
    const std::string sub = "s" + std::to_string(s);
    rows.push_back(row(sub, "Original", "target", "ahd", "", 100.0 + 10 * s));
    rows.push_back(row(sub, "DM", "target", "ahd", "", 0.5 * (100.0 + 10 * s)));
  }
  const SubjectValue ahd = [](const std::vector<const MetricRow*>& r) {
    for (const MetricRow* x : r)
      if (x->metric == "ahd") return x->value;
    return std::nan("");
  };
  const Interval exact = bootstrap_relative(rows, "3T-to-1p5T", "DM", "Original", ahd);
  ASSERT_TRUE(exact.known());
  EXPECT_NEAR(exact.lo, -50.0, 1e-9);
  EXPECT_NEAR(exact.hi, -50.0, 1e-9);
  EXPECT_FALSE(exact.includes_zero());
  // A method that is better on some subjects and worse on others: the interval
  // holds the point estimate and zero; the same rows give the same interval.
  std::vector<MetricRow> mixed;
  for (int s = 0; s < 10; ++s) {
    const std::string sub = "s" + std::to_string(s);
    mixed.push_back(row(sub, "Original", "target", "ahd", "", 100));
    mixed.push_back(row(sub, "DM", "target", "ahd", "", s % 2 ? 70 : 130));
  }
  const Interval a = bootstrap_relative(mixed, "3T-to-1p5T", "DM", "Original", ahd);
  const Interval b = bootstrap_relative(mixed, "3T-to-1p5T", "DM", "Original", ahd);
  ASSERT_TRUE(a.known());
  EXPECT_LT(a.lo, 0.0);
  EXPECT_GT(a.hi, 0.0);
  EXPECT_TRUE(a.includes_zero());
  EXPECT_GT(a.lo, -30.0);  // never below the best subject's -30 %
  EXPECT_LT(a.hi, 30.0);
  EXPECT_EQ(a.lo, b.lo);
  EXPECT_EQ(a.hi, b.hi);
  // Subjects lacking the value for either method are left out; one subject is too few.
  std::vector<MetricRow> one = {row("s1", "Original", "target", "ahd", "", 100),
                                row("s1", "DM", "target", "ahd", "", 50), row("s2", "DM", "target", "ahd", "", 40)};
  EXPECT_FALSE(bootstrap_relative(one, "3T-to-1p5T", "DM", "Original", ahd).known());
}

TEST(ReportTables, RelativeTableCarriesIntervalsAndNamesThoseThroughZero) {
  std::vector<MetricRow> rows;
  for (int s = 0; s < 6; ++s) {
    const std::string sub = "s" + std::to_string(s);
    rows.push_back(row(sub, "Original", "target", "ahd", "", 100));
    rows.push_back(row(sub, "DM", "target", "ahd", "", 40 + s));  // clearly better
    rows.push_back(row(sub, "Original", "target", "mse_sum", "", 10));
    rows.push_back(row(sub, "DM", "target", "mse_sum", "", s % 2 ? 8 : 12));  // no better on average
  }
  const auto tables = report_tables(summarize(rows), &rows);
  const TextTable* rel = nullptr;
  for (const auto& t : tables)
    if (t.id == "relative") rel = &t;
  ASSERT_NE(rel, nullptr);
  ASSERT_FALSE(rel->rows.empty());
  EXPECT_EQ(rel->rows[0][2], "DM");
  EXPECT_NE(rel->rows[0][3].find("-57.5 % ["), std::string::npos) << rel->rows[0][3];
  EXPECT_NE(rel->rows[0][4].find("+0.0 % ["), std::string::npos) << rel->rows[0][4];
  std::string notes;
  for (const auto& n : rel->notes) notes += n + "\n";
  EXPECT_NE(notes.find("DM (MSE)"), std::string::npos) << notes;
  EXPECT_EQ(notes.find("DM (AHD)"), std::string::npos) << notes;
  // Without per-subject rows: no brackets.
  const auto plain = report_tables(summarize(rows));
  for (const auto& t : plain) {
    if (t.id == "relative") {
      EXPECT_EQ(t.rows[0][3], "-57.5 %");
    }
  }
}

TEST(ReportTables, AnatomyTableWithStripeRatios) {
  std::vector<MetricRow> rows;
  for (int s = 0; s < 4; ++s) {
    const std::string sub = "s" + std::to_string(s);
    rows.push_back(row(sub, "Original", "target", "ahd", "", 100));
    rows.push_back(row(sub, "DM", "target", "ahd", "", 50));
    rows.push_back(row(sub, "Target", "", "stripe_index", "", 1.0 + 0.1 * s));
    rows.push_back(row(sub, "Original", "", "stripe_index", "", 1.0 + 0.1 * s));
    rows.push_back(row(sub, "DM", "", "stripe_index", "", 2.0 * (1.0 + 0.1 * s)));
    rows.push_back(row(sub, "DM", "truth", "lesion_false_mm3", "", 8));
  }
  const auto tables = report_tables(summarize(rows), &rows);
  const TextTable* t = nullptr;
  for (const auto& x : tables)
    if (x.id == "anatomy") t = &x;
  ASSERT_NE(t, nullptr);
  ASSERT_EQ(t->rows.size(), 3u);  // Target, Original, DM
  EXPECT_EQ(t->rows[0][1], "Target");
  EXPECT_EQ(t->rows[1][3], "1 [1, 1]");
  EXPECT_EQ(t->rows[2][3], "2 [2, 2]");
  EXPECT_EQ(t->rows[2][8], "8 [0]");
  EXPECT_EQ(table_metrics(4).front(), "stripe_index");
}
