#include "harmonize/correction.hpp"

#include <algorithm>
#include <cmath>

#include "core/error.hpp"
#include "core/files.hpp"
#include "core/rng.hpp"
#include "harmonize/options.hpp"

namespace harmonize {

namespace {

// Linear interpolation between order statistics of sorted values (numpy's default).
double sorted_quantile(const std::vector<float>& s, double q) {
  const double pos = q * double(s.size() - 1);
  const std::size_t i = std::size_t(pos);
  const double f = pos - double(i);
  return i + 1 < s.size() ? s[i] * (1 - f) + s[i + 1] * f : s.back();
}

}  // namespace

double QuantileMap::operator()(double x) const {
  if (from.empty()) return x;
  if (x <= from.front()) return to.front() + (x - from.front());
  if (x >= from.back()) return to.back() + (x - from.back());
  const std::size_t k = std::size_t(std::upper_bound(from.begin(), from.end(), x) - from.begin());
  const double f = (x - from[k - 1]) / (from[k] - from[k - 1]);
  return to[k - 1] + f * (to[k] - to[k - 1]);
}

QuantileMap fit_quantile_map(std::vector<float> produced, std::vector<float> wanted) {
  if (produced.size() < 100 || wanted.size() < 100)
    throw Error("quantile map: at least 100 values on each side are needed");
  std::sort(produced.begin(), produced.end());
  std::sort(wanted.begin(), wanted.end());
  QuantileMap m;
  int merged = 1;  // points averaged into the last one
  for (int i = 0; i < 100; ++i) {
    const double q = (i + 0.5) / 100.0;
    const double a = sorted_quantile(produced, q), b = sorted_quantile(wanted, q);
    if (!m.from.empty() && a <= m.from.back()) {
      // Equal points merge into their mean target, which stays between its neighbours' targets.
      m.to.back() = (m.to.back() * merged + b) / (merged + 1);
      ++merged;
      continue;
    }
    m.from.push_back(a);
    m.to.push_back(b);
    merged = 1;
  }
  return m;
}

}  // namespace harmonize

namespace harmonize {

void apply_quantile_map(Volume& v, const Mask& mask, const QuantileMap& m) {
  require_same_grid(mask.geom, v.geom, "apply_quantile_map: the mask is not on the image's grid");
  for (std::size_t n = 0; n < v.data.size(); ++n)
    if (mask.data[n]) v.data[n] = std::clamp(float(m(v.data[n])), 0.0f, 1.0f);
}

void write_quantile_map(const std::string& path, const QuantileMap& m, const nlohmann::json& extra) {
  nlohmann::json j = extra.is_object() ? extra : nlohmann::json::object();
  j["from"] = m.from;
  j["to"] = m.to;
  write_text_atomically(path, j.dump(1) + "\n");
}

QuantileMap quantile_map_from_json(const nlohmann::json& j, const std::string& where) {
  QuantileMap m;
  try {
    m.from = j.at("from").get<std::vector<double>>();
    m.to = j.at("to").get<std::vector<double>>();
  } catch (const nlohmann::json::exception& e) {
    throw InputError(where, std::string("not a calibration (a quantile map with \"from\" and \"to\"): ") + e.what());
  }
  bool ok = !m.from.empty() && m.from.size() == m.to.size();
  for (std::size_t i = 1; ok && i < m.from.size(); ++i) ok = m.from[i] > m.from[i - 1] && m.to[i] >= m.to[i - 1];
  if (!ok) throw InputError(where, "not a calibration: \"from\" and \"to\" must be increasing lists of one length");
  return m;
}

QuantileMap read_quantile_map(const std::string& path) {
  const std::string text = read_text_file(path);
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw InputError(path, std::string("not a calibration (not JSON): ") + e.what());
  }
  return quantile_map_from_json(j, path);
}

void add_end_noise(Volume& v, const Mask& mask, double sd, std::uint64_t seed) {
  require_same_grid(mask.geom, v.geom, "add_end_noise: the mask is not on the image's grid");
  Rng rng(seed);
  for (std::size_t n = 0; n < v.data.size(); ++n)
    if (mask.data[n]) v.data[n] = std::clamp(float(v.data[n] + (sd > 0 ? sd * rng.normal() : 0.0)), 0.0f, 1.0f);
}

std::optional<double> read_calibration_end_noise(const std::string& path) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(read_text_file(path));
  } catch (const nlohmann::json::exception& e) {
    throw InputError(path, std::string("not a calibration (JSON): ") + e.what());
  }
  if (!j.is_object() || !j.contains("end_noise")) return std::nullopt;
  const auto& v = j["end_noise"];
  if (!v.is_number() || !EndNoise::valid_sd(v.get<double>()))
    throw InputError(path, "\"end_noise\" must be a number in [0, 0.5)");
  return v.get<double>();
}

void finish_output(Volume& v, const Mask& brain, const Correction& c, std::uint64_t noise_seed) {
  require_same_grid(brain.geom, v.geom, "finish_output: the brain mask is not on the volume's grid");
  for (std::size_t n = 0; n < v.data.size(); ++n)
    if (!brain.data[n]) v.data[n] = 0.0f;
  add_end_noise(v, brain, c.end_noise_sd, noise_seed);
  if (c.map) apply_quantile_map(v, brain, *c.map);
}

}  // namespace harmonize
