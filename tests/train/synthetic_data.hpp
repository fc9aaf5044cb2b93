#pragma once
// A tiny preprocessed dataset, as `harmonize preprocess` lays it out: per
// subject a 1.5 T stack and a 3 T stack of slices (target = a contrast function
// of the source), the first and last slice without brain (zero, has_brain 0).
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/files.hpp"
#include "core/rng.hpp"
#include "core/volfile.hpp"

namespace harmonize::test {

struct SyntheticData {
  int subjects = 4, slices = 6, size = 16;
  std::uint64_t seed = 3;
};

inline std::string subject_id(int s) {
  char b[16];
  std::snprintf(b, sizeof b, "sub-%03d", s + 1);
  return b;
}

// Writes DATA under `dir` (replaced) and returns it.
inline std::string make_synthetic_data(const std::string& dir, const SyntheticData& o = {}) {
  namespace fs = std::filesystem;
  fs::remove_all(dir);
  nlohmann::json subjects = nlohmann::json::object();
  Rng rng(o.seed);
  for (int s = 0; s < o.subjects; ++s) {
    const std::string id = subject_id(s);
    Geometry g;
    g.size = {std::size_t(o.size), std::size_t(o.size), std::size_t(o.slices)};
    Volume src(g), tgt(g);
    std::vector<int> has_brain(o.slices, 0);
    for (int k = 1; k + 1 < o.slices; ++k) {
      has_brain[k] = 1;
      // 4x4 blocks of random "tissue", a disc of brain in the middle
      for (int j = 0; j < o.size; ++j)
        for (int i = 0; i < o.size; ++i) {
          const double r = std::hypot(i - o.size / 2.0 + 0.5, j - o.size / 2.0 + 0.5);
          if (r > o.size * 0.45) continue;
          float v = 0.2f + 0.7f * float(((i / 4) * 7 + (j / 4) * 3 + k + s) % 5) / 4.0f;
          v += 0.02f * float(rng.normal());
          src.at(i, j, k) = std::clamp(v, 0.0f, 1.0f);
          tgt.at(i, j, k) = std::clamp(1.1f - src.at(i, j, k), 0.0f, 1.0f);  // inverted contrast
        }
    }
    const nlohmann::json layout = {{"height", o.size}, {"width", o.size}, {"has_brain", has_brain}};
    const std::string sdir = dir + "/" + id + "/slices";
    fs::create_directories(sdir);
    write_hvol(sdir + "/" + id + "_ses-3T_slices.hvol", tgt,
               {{"subject", id}, {"session", "ses-3T"}, {"layout", layout}});
    write_hvol(sdir + "/" + id + "_ses-1p5T_space-ses3T_slices.hvol", src,
               {{"subject", id}, {"session", "ses-1p5T"}, {"layout", layout}});
    subjects[id] = {{"slices",
                     {{"target", "slices/" + id + "_ses-3T_slices.hvol"},
                      {"source", "slices/" + id + "_ses-1p5T_space-ses3T_slices.hvol"},
                      {"count", o.slices},
                      {"with_brain", o.slices - 2}}}};
  }
  const nlohmann::json ds = {{"format", "harmonize-preprocessed"},
                             {"version", 1},
                             {"source_session", "ses-1p5T"},
                             {"target_session", "ses-3T"},
                             {"subjects", subjects}};
  write_text_atomically(dir + "/dataset.json", ds.dump(2) + "\n");
  return dir;
}

}  // namespace harmonize::test
