#include "evaluate/evaluate.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <tuple>

#include "core/content_hash.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/overlap.hpp"
#include "core/parallel.hpp"
#include "evaluate/lesions.hpp"
#include "evaluate/metrics.hpp"
#include "evaluate/stripes.hpp"

namespace harmonize {
namespace {

// Every input lies on the target's grid (same_grid: same size, corners within kGridToleranceMm).
void check_grid(const Geometry& g, const Geometry& target, const std::string& what) {
  require_same_grid(g, target, what + ": not on the target's grid");
}

struct IntensityMetrics {
  double mse_sum, mse_mean, ahd, mse_sum_volume, mse_mean_volume, ahd_volume;
};

}  // namespace

std::uint64_t SegmentationCache::key(const Volume& image, const Mask& brain) {
  return content_hash(brain, content_hash(image));
}

std::optional<SegmentationCache::Entry> SegmentationCache::take(std::uint64_t key) {
  const std::lock_guard<std::mutex> lock(mutex_);
  const auto it = entries_.find(key);
  if (it == entries_.end()) return std::nullopt;
  ++hits_;
  Entry e = std::move(it->second);
  entries_.erase(it);
  return e;
}

void SegmentationCache::put(std::uint64_t key, Entry entry) {
  const std::lock_guard<std::mutex> lock(mutex_);
  entries_.insert_or_assign(key, std::move(entry));
}

std::size_t SegmentationCache::hits() const {
  const std::lock_guard<std::mutex> lock(mutex_);
  return hits_;
}

std::size_t SegmentationCache::size() const {
  const std::lock_guard<std::mutex> lock(mutex_);
  return entries_.size();
}

std::vector<MetricRow> evaluate_subject(const EvaluateInput& in, const EvaluateOptions& options) {
  const Geometry& g = in.target.geom;
  if (in.target.data.size() != g.voxels() || g.voxels() == 0) throw Error("target: empty or inconsistent volume");
  check_grid(in.source.geom, g, "source");
  check_grid(in.brain.geom, g, "brain mask");
  std::set<std::string> names{"Original", "Target"};
  for (const auto& [name, v] : in.methods) {
    if (name.empty()) throw Error("a method has an empty name");
    if (!names.insert(name).second) throw Error("method name \"" + name + "\" is reserved or given twice");
    check_grid(v.geom, g, "method \"" + name + "\"");
  }
  if (in.truth_dseg) {
    check_grid(in.truth_dseg->geom, g, "truth segmentation");
    for (std::uint8_t l : in.truth_dseg->data)
      if (l > 3) throw Error("truth segmentation: label " + std::to_string(int(l)) + " (expected 0..3)");
  }
  if (in.truth_lesions) {
    if (!in.truth_dseg) throw Error("truth lesions given without the truth segmentation");
    check_grid(in.truth_lesions->geom, g, "truth lesion mask");
  }
  if (in.stripe_axis < -1 || in.stripe_axis > 2)
    throw Error("stripe axis " + std::to_string(in.stripe_axis) + " (expected 0, 1 or 2)");
  if (label_count(in.brain, 0) == in.brain.data.size()) throw Error("brain mask: empty");

  // Every compared volume: Original (the source), then the methods.
  std::vector<std::pair<std::string, const Volume*>> vols{{"Original", &in.source}};
  for (const auto& [name, v] : in.methods) vols.emplace_back(name, &v);

  std::vector<MetricRow> rows;
  auto row = [&](const std::string& method, const std::string& reference, const std::string& metric,
                 const std::string& cls, double value) {
    rows.push_back({in.subject, in.direction, method, reference, metric, cls, value});
  };

  std::vector<IntensityMetrics> im(vols.size());
  parallel_for(0, vols.size(), [&](std::size_t m) {
    const Volume& v = *vols[m].second;
    im[m] = {mse_sum(v, in.target, &in.brain), mse_mean(v, in.target, &in.brain), ahd(v, in.target, &in.brain),
             mse_sum(v, in.target, nullptr),   mse_mean(v, in.target, nullptr),   ahd(v, in.target, nullptr)};
  });
  for (std::size_t m = 0; m < vols.size(); ++m) {
    const auto& name = vols[m].first;
    row(name, "target", "mse_sum", "", im[m].mse_sum);
    row(name, "target", "mse_mean", "", im[m].mse_mean);
    row(name, "target", "ahd", "", im[m].ahd);
    row(name, "target", "mse_sum_volume", "", im[m].mse_sum_volume);
    row(name, "target", "mse_mean_volume", "", im[m].mse_mean_volume);
    row(name, "target", "ahd_volume", "", im[m].ahd_volume);
  }

  // Every volume including the target: stripes, and lesions against the truth.
  std::vector<std::pair<std::string, const Volume*>> all{{"Target", &in.target}};
  all.insert(all.end(), vols.begin(), vols.end());
  const int axis = in.stripe_axis >= 0 ? in.stripe_axis : left_right_axis(g);
  std::vector<double> stripes(all.size());
  parallel_for(0, all.size(), [&](std::size_t m) { stripes[m] = stripe_index(*all[m].second, in.brain, axis); });
  for (std::size_t m = 0; m < all.size(); ++m) row(all[m].first, "", "stripe_index", "", stripes[m]);
  if (in.truth_dseg && in.truth_lesions) {
    const LesionRegions regions = lesion_regions(*in.truth_dseg, *in.truth_lesions);
    const bool has_lesions = label_count(regions.lesions, 0) < regions.lesions.data.size();
    std::vector<LesionFinding> found(all.size());
    parallel_for(0, all.size(), [&](std::size_t m) {
      try {
        found[m] = find_lesions(*all[m].second, regions);
      } catch (const Error& e) {
        throw Error(all[m].first + " of " + in.subject + ": " + e.what());
      }
    });
    const double voxel = voxel_volume_mm3(g);
    for (std::size_t m = 0; m < all.size(); ++m) {
      const Mask& like = found[m].lesion_like;
      std::size_t outside = 0;
      for (std::size_t n = 0; n < like.data.size(); ++n) outside += like.data[n] && !regions.near_lesions.data[n];
      const std::string& name = all[m].first;
      row(name, "truth", "lesion_false_mm3", "", double(outside) * voxel);
      if (!has_lesions) continue;
      row(name, "", "lesion_volume_mm3", "", label_volume_mm3(like, 1));
      row(name, "", "lesion_contrast", "", found[m].lesion_contrast);
      row(name, "truth", "lesion_dice", "", dice(like, regions.lesions, 1));
      if (m == 0) continue;
      row(name, "target", "lesion_volume_abs_diff_mm3", "",
          std::abs(label_volume_mm3(like, 1) - label_volume_mm3(found[0].lesion_like, 1)));
      row(name, "target", "lesion_dice", "", dice(like, found[0].lesion_like, 1));
    }
  }
  if (!options.segmentation) return rows;

  // Segmentations: index 0 the target, then vols[m] at m + 1.
  std::vector<const Volume*> to_segment{&in.target};
  std::vector<std::string> seg_names{"Target"};
  for (const auto& [name, v] : vols) to_segment.push_back(v), seg_names.push_back(name);
  std::vector<Mask> seg(to_segment.size());
  std::vector<int> sweeps(to_segment.size(), 0);
  parallel_for(0, to_segment.size(), [&](std::size_t s) {
    try {
      // Target (0) and Original (1) are the scans a cross-validation's other direction evaluates too.
      const bool shared = options.cache && s <= 1;
      const std::uint64_t key = shared ? SegmentationCache::key(*to_segment[s], in.brain) : 0;
      if (shared)
        if (auto hit = options.cache->take(key)) {
          seg[s] = std::move(hit->labels);
          sweeps[s] = hit->sweeps;
          log::debug("segmentation of " + seg_names[s] + " of " + in.subject + " made before");
          return;
        }
      SegmentResult r = segment_tissues(*to_segment[s], in.brain, options.segment);
      if (!r.converged)
        log::warn("segmenting " + seg_names[s] + " of " + in.subject + ": EM did not converge in " +
                  std::to_string(r.iterations) + " sweeps");
      sweeps[s] = r.converged ? r.iterations : -r.iterations;
      seg[s] = std::move(r.labels);
      if (shared) options.cache->put(key, {seg[s], sweeps[s]});
    } catch (const Error& e) {
      throw Error("segmenting " + seg_names[s] + " of " + in.subject + ": " + e.what());
    }
    log::debug("segmented " + seg_names[s] + " of " + in.subject);
  });
  for (std::size_t s = 0; s < seg.size(); ++s) {
    for (int c = 0; c < 3; ++c) row(seg_names[s], "", "volume_mm3", kTissueNames[c], label_volume_mm3(seg[s], c + 1));
    // The segmentation's sweeps to convergence (negative: the cap was reached without it).
    row(seg_names[s], "", "segment_sweeps", "", sweeps[s]);
  }

  // Comparisons: (segmentation index, reference) pairs; per class.
  struct Task {
    std::size_t s;
    bool truth;
    int cls;
    double abs_diff = 0, dice = 0;
    SurfaceDistances sd;
  };
  std::vector<Task> tasks;
  for (int truth = 0; truth < (in.truth_dseg ? 2 : 1); ++truth)
    for (std::size_t s = truth ? 0 : 1; s < seg.size(); ++s)
      for (int c = 0; c < 3; ++c) tasks.push_back({s, truth != 0, c, 0.0, 0.0, {}});
  parallel_for(0, tasks.size(), [&](std::size_t t) {
    Task& k = tasks[t];
    const Mask& ref = k.truth ? *in.truth_dseg : seg[0];
    const auto label = std::uint8_t(k.cls + 1);
    k.abs_diff = std::abs(label_volume_mm3(seg[k.s], label) - label_volume_mm3(ref, label));
    k.dice = dice(seg[k.s], ref, label);
    k.sd = surface_distances(seg[k.s], ref, label);
  });
  for (const Task& k : tasks) {
    const std::string ref = k.truth ? "truth" : "target", cls = kTissueNames[k.cls];
    row(seg_names[k.s], ref, "volume_abs_diff_mm3", cls, k.abs_diff);
    row(seg_names[k.s], ref, "dice", cls, k.dice);
    row(seg_names[k.s], ref, "hd", cls, k.sd.hd);
    row(seg_names[k.s], ref, "hd95", cls, k.sd.hd95);
  }
  return rows;
}

std::string format_metrics_summary(const std::vector<MetricRow>& rows) {
  std::vector<std::string> methods;
  std::map<std::tuple<std::string, std::string, std::string, std::string>, double> at;
  for (const auto& r : rows) {
    if (std::find(methods.begin(), methods.end(), r.method) == methods.end()) methods.push_back(r.method);
    at[{r.method, r.reference, r.metric, r.cls}] = r.value;
  }
  auto get = [&](const std::string& m, const std::string& ref, const std::string& metric, const std::string& cls,
                 double& v) {
    const auto it = at.find({m, ref, metric, cls});
    if (it == at.end()) return false;
    v = it->second;
    return true;
  };
  auto cell = [&](const std::string& m, const std::string& ref, const std::string& metric, const std::string& cls,
                  const char* fmt, int width) {
    double v;
    char buf[64];
    if (get(m, ref, metric, cls, v))
      std::snprintf(buf, sizeof buf, fmt, width, v);
    else
      std::snprintf(buf, sizeof buf, "%*s", width, "-");
    return std::string(buf);
  };
  std::string out;
  char line[256];
  std::snprintf(line, sizeof line, "%-22s %11s %11s %11s %11s\n", "intensity (brain)", "mse_sum", "mse_mean", "ahd",
                "ahd_volume");
  out += line;
  for (const auto& m : methods) {
    double dummy;
    if (!get(m, "target", "mse_sum", "", dummy)) continue;
    out += (m.size() > 22 ? m.substr(0, 22) : m + std::string(22 - m.size(), ' ')) + " " +
           cell(m, "target", "mse_sum", "", "%*.4g", 11) + " " + cell(m, "target", "mse_mean", "", "%*.4g", 11) + " " +
           cell(m, "target", "ahd", "", "%*.4g", 11) + " " + cell(m, "target", "ahd_volume", "", "%*.4g", 11) + "\n";
  }
  for (const std::string ref : {"target", "truth"}) {
    bool any = false;
    for (const auto& m : methods) {
      double dummy;
      any |= get(m, ref, "dice", "CSF", dummy);
    }
    if (!any) continue;
    std::snprintf(line, sizeof line, "\nvs %-19s %-21s %-21s %-21s %s\n", (ref + " seg.").c_str(), "dice CSF/GM/WM",
                  "hd (mm)", "hd95 (mm)", "|dV| (mm3)");
    out += line;
    for (const auto& m : methods) {
      double dummy;
      if (!get(m, ref, "dice", "CSF", dummy)) continue;
      std::string l = (m.size() > 22 ? m.substr(0, 22) : m + std::string(22 - m.size(), ' '));
      for (const char* metric : {"dice", "hd", "hd95"}) {
        l.push_back(' ');
        for (const char* cls : kTissueNames) {
          l.append(cell(m, ref, metric, cls, std::string(metric) == "dice" ? "%*.3f" : "%*.1f", 6));
          l.push_back(' ');
        }
      }
      for (const char* cls : kTissueNames) {
        l.push_back(' ');
        l.append(cell(m, ref, "volume_abs_diff_mm3", cls, "%*.3g", 7));
      }
      out += l + "\n";
    }
  }
  return out;
}

}  // namespace harmonize
