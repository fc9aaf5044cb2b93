// evaluate_subject on a three-tissue phantom: row layout, a perfect method
// scores perfectly, a distorted source does not, refusals name the culprit.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <tuple>

#include "core/error.hpp"
#include "evaluate/evaluate.hpp"
#include "evaluate/metrics.hpp"
#include "evaluate/phantom.hpp"

using namespace harmonize;

namespace {
using Key = std::tuple<std::string, std::string, std::string, std::string>;  // method, reference, metric, class
std::map<Key, double> by_key(const std::vector<MetricRow>& rows) {
  std::map<Key, double> m;
  for (const auto& r : rows) {
    EXPECT_TRUE(m.emplace(Key{r.method, r.reference, r.metric, r.cls}, r.value).second)
        << "duplicate row " << r.method << " " << r.reference << " " << r.metric << " " << r.cls;
  }
  return m;
}
EvaluateInput phantom_input() {
  const auto p = test::eval_phantom();
  EvaluateInput in;
  in.subject = "sub-001";
  in.direction = "1p5T-to-3T";
  in.target = p.image;
  in.brain = p.brain;
  in.source = p.image;
  for (std::size_t n = 0; n < in.source.data.size(); ++n) in.source.data[n] = std::pow(p.image.data[n], 0.5f);
  in.methods.emplace_back("Perfect", p.image);
  in.truth_dseg = p.labels;
  return in;
}
}  // namespace

TEST(Evaluate, RowsForEveryMethodAndReference) {
  const EvaluateInput in = phantom_input();
  const auto rows = evaluate_subject(in);
  // 2 compared methods x 6 intensity metrics; the stripe index of Target + 2
  // methods (no lesion mask: no lesion rows); volume_mm3 per class and the
  // segmentation's sweeps for Target + 2 methods; 4 metrics x 3 classes vs
  // target for 2 methods and vs truth for 3 (Target too).
  EXPECT_EQ(rows.size(), 2u * 6 + 3u + 3u * 4 + 2u * 12 + 3u * 12);
  for (const auto& r : rows) {
    if (r.metric == "segment_sweeps") {
      EXPECT_GT(r.value, 1.0) << r.method << ": converged in a few sweeps";
    }
  }
  EXPECT_EQ(rows.front().method, "Original");
  EXPECT_EQ(rows.front().metric, "mse_sum");
  for (const auto& r : rows) {
    EXPECT_EQ(r.subject, "sub-001");
    EXPECT_EQ(r.direction, "1p5T-to-3T");
  }
  const auto table = by_key(rows);
  auto v = [&](const std::string& method, const std::string& ref, const std::string& metric, const std::string& cls) {
    const auto it = table.find(Key{method, ref, metric, cls});
    EXPECT_NE(it, table.end()) << "missing " << method << " " << ref << " " << metric << " " << cls;
    return it == table.end() ? std::nan("") : it->second;
  };
  // The perfect method: zero error, identical segmentation.
  EXPECT_EQ(v("Perfect", "target", "mse_sum", ""), 0.0);
  EXPECT_EQ(v("Perfect", "target", "ahd", ""), 0.0);
  EXPECT_EQ(v("Perfect", "target", "ahd_volume", ""), 0.0);
  for (const char* c : kTissueNames) {
    EXPECT_EQ(v("Perfect", "target", "dice", c), 1.0) << c;
    EXPECT_EQ(v("Perfect", "target", "hd", c), 0.0) << c;
    EXPECT_EQ(v("Perfect", "target", "hd95", c), 0.0) << c;
    EXPECT_EQ(v("Perfect", "target", "volume_abs_diff_mm3", c), 0.0) << c;
    EXPECT_EQ(v("Perfect", "", "volume_mm3", c), v("Target", "", "volume_mm3", c)) << c;
    // The phantom's classes are well separated: the target's segmentation finds them.
    EXPECT_GT(v("Target", "truth", "dice", c), 0.8) << c;
    EXPECT_EQ(v("Target", "truth", "dice", c), v("Perfect", "truth", "dice", c)) << c;
  }
  // The distorted source: intensity errors, consistent sum and mean.
  const double n_brain = double(label_count(in.brain, 1));
  EXPECT_GT(v("Original", "target", "mse_sum", ""), 0.0);
  EXPECT_NEAR(v("Original", "target", "mse_mean", ""), v("Original", "target", "mse_sum", "") / n_brain, 1e-12);
  EXPECT_NEAR(v("Original", "target", "mse_mean_volume", ""),
              v("Original", "target", "mse_sum_volume", "") / double(in.target.data.size()), 1e-12);
  // Background is 0 in both, so the sums agree and the whole-volume AHD equals the brain AHD.
  EXPECT_NEAR(v("Original", "target", "mse_sum_volume", ""), v("Original", "target", "mse_sum", ""), 1e-9);
  EXPECT_EQ(v("Original", "target", "ahd_volume", ""), v("Original", "target", "ahd", ""));
  EXPECT_GT(v("Original", "target", "ahd", ""), 0.0);
  // Volumes sum to the brain volume (every brain voxel gets a tissue).
  double total = 0;
  for (const char* c : kTissueNames) total += v("Target", "", "volume_mm3", c);
  EXPECT_NEAR(total, n_brain * voxel_volume_mm3(in.target.geom), 1e-6);
}

TEST(Evaluate, IntensityOnlyAndRefusals) {
  EvaluateInput in = phantom_input();
  EvaluateOptions o;
  o.segmentation = false;
  in.truth_dseg.reset();
  EXPECT_EQ(evaluate_subject(in, o).size(), 15u);

  EvaluateInput bad = in;
  bad.methods[0].second.geom.spacing[1] = 2.0;
  try {
    evaluate_subject(bad, o);
    ADD_FAILURE() << "accepted a method on another grid";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("Perfect"), std::string::npos) << e.what();
  }
  bad = in;
  bad.methods.emplace_back("Original", in.target);
  EXPECT_THROW(evaluate_subject(bad, o), Error);
  bad = in;
  bad.brain = Mask(in.brain.geom, 0);
  EXPECT_THROW(evaluate_subject(bad, o), Error);
  bad = in;
  bad.truth_dseg = Mask(in.brain.geom, 4);
  EXPECT_THROW(evaluate_subject(bad, o), Error);
}

// A cross-validation's other direction swaps source and target: with a cache,
// their segmentations are made once and reused once, and the rows are those
// of an evaluation without it.
TEST(Evaluate, TheOtherDirectionReusesTargetAndOriginalSegmentations) {
  const EvaluateInput a = phantom_input();
  EvaluateInput b = a;
  b.direction = "3T-to-1p5T";
  std::swap(b.source, b.target);
  b.methods = {{"Perfect", b.target}};
  SegmentationCache cache;
  EvaluateOptions o;
  o.cache = &cache;
  const auto rows_a = evaluate_subject(a, o);
  EXPECT_EQ(cache.hits(), 0u);
  EXPECT_EQ(cache.size(), 2u);  // Target and Original; methods are not kept
  const auto rows_b = evaluate_subject(b, o);
  EXPECT_EQ(cache.hits(), 2u);
  EXPECT_EQ(cache.size(), 0u);  // each used once, then dropped
  EXPECT_EQ(by_key(rows_a), by_key(evaluate_subject(a)));
  EXPECT_EQ(by_key(rows_b), by_key(evaluate_subject(b)));
  // The swapped scans' volumes are the other direction's.
  const auto ka = by_key(rows_a), kb = by_key(rows_b);
  for (const char* c : {"CSF", "GM", "WM"}) {
    EXPECT_EQ(ka.at({"Target", "", "volume_mm3", c}), kb.at({"Original", "", "volume_mm3", c})) << c;
    EXPECT_EQ(ka.at({"Original", "", "volume_mm3", c}), kb.at({"Target", "", "volume_mm3", c})) << c;
  }
}
