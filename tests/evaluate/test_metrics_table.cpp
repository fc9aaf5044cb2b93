// The long-format metrics CSV: round trip (quoting, NaN, 9 significant
// digits), and malformed files refused with the file named.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "core/error.hpp"
#include "core/files.hpp"
#include "evaluate/metrics_table.hpp"

using namespace harmonize;
namespace fs = std::filesystem;

namespace {
class MetricsTable : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (fs::temp_directory_path() / ("harmonize_mt_" + std::to_string(::getpid()))).string();
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& text) {
    const std::string p = dir_ + "/" + name;
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }
  void expect_refused(const std::string& path, const std::string& fragment) {
    try {
      read_metrics_csv(path);
      ADD_FAILURE() << "accepted " << path;
    } catch (const InputError& e) {
      const std::string m = e.what();
      EXPECT_NE(m.find(path), std::string::npos) << m;
      EXPECT_NE(m.find(fragment), std::string::npos) << m;
    }
  }
  std::string dir_;
};
}  // namespace

TEST_F(MetricsTable, RoundTrip) {
  const std::vector<MetricRow> rows = {
      {"sub-001", "1p5T-to-3T", "Original", "target", "mse_sum", "", 123.456789},
      {"sub-001", "1p5T-to-3T", "harmonize, \"cpu\"", "truth", "dice", "GM", 0.875},
      {"sub-002", "3T-to-1p5T", "Histogram matching", "", "volume_mm3", "WM", 4.5e5},
      {"sub-002", "3T-to-1p5T", "Original", "target", "hd", "CSF", 1e-12},
  };
  const std::string p = dir_ + "/m.csv";
  write_metrics_csv(p, rows);
  const std::string text = read_text_file(p);
  EXPECT_EQ(text.substr(0, text.find('\n')), "subject,direction,method,reference,metric,class,value");
  EXPECT_NE(text.find("\"harmonize, \"\"cpu\"\"\""), std::string::npos);  // RFC 4180 quoting
  EXPECT_EQ(read_metrics_csv(p), rows);
  // 9 significant digits; NaN survives.
  write_metrics_csv(p, {{"s", "d", "m", "", "hd", "GM", 1.23456789012345}, {"s", "d", "m", "", "hd", "WM", NAN}});
  const auto back = read_metrics_csv(p);
  EXPECT_EQ(back[0].value, 1.23456789);
  EXPECT_TRUE(std::isnan(back[1].value));
  // Written atomically: no temporary left beside it.
  std::size_t files = 0;
  for (const auto& e : fs::directory_iterator(dir_)) files += e.is_regular_file();
  EXPECT_EQ(files, 1u);
  // An empty table round-trips too; CRLF line ends are accepted.
  write_metrics_csv(p, {});
  EXPECT_TRUE(read_metrics_csv(p).empty());
  const auto crlf = write("crlf.csv", "subject,direction,method,reference,metric,class,value\r\na,b,c,,ahd,,5\r\n");
  ASSERT_EQ(read_metrics_csv(crlf).size(), 1u);
  EXPECT_EQ(read_metrics_csv(crlf)[0].value, 5.0);
}

TEST_F(MetricsTable, MalformedFilesAreRefused) {
  expect_refused(dir_ + "/missing.csv", "cannot open");
  expect_refused(write("empty.csv", ""), "empty");
  expect_refused(write("header.csv", "subject,direction,method,metric,class,value\na,b,c,ahd,,1\n"), "header");
  const std::string h = "subject,direction,method,reference,metric,class,value\n";
  expect_refused(write("fields.csv", h + "a,b,c,,ahd,1\n"), "line 2");
  expect_refused(write("value.csv", h + "a,b,c,,ahd,,abc\n"), "not a number");
  expect_refused(write("value2.csv", h + "a,b,c,,ahd,,1.5x\n"), "not a number");
  expect_refused(write("quote.csv", h + "a,\"b,c,,ahd,,1\n"), "quoted");
  expect_refused(write("metric.csv", h + "a,b,c,,,,1\n"), "metric");
}
