#include "segment/mixel.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace harmonize::segment_detail {

namespace {
constexpr int K = kClasses, J = kFractionPoints;

double det3(const double* m) {
  return m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6]) + m[2] * (m[3] * m[7] - m[4] * m[6]);
}
}  // namespace

void MixelStats::add(const MixelStats& o) {
  for (int i = 0; i < 9; ++i) A[i] += o.A[i];
  for (int k = 0; k < K; ++k) b[k] += o.b[k];
  residual += o.residual, pure_mass += o.pure_mass;
  for (int c = 0; c < K + 2; ++c) mass[c] += o.mass[c];
  change += o.change;
}

void MixelModel::update(const MixelStats& s, double voxels) {
  // The means (unless given): Cramer's rule on the 3x3 normal equations.
  const double D = det3(s.A.data());
  if (!means_fixed && std::abs(D) > 0) {
    std::array<double, K> next{};
    for (int x = 0; x < K; ++x) {
      std::array<double, 9> Ax = s.A;
      for (int z = 0; z < K; ++z) Ax[std::size_t(3 * z + x)] = s.b[std::size_t(z)];
      next[std::size_t(x)] = det3(Ax.data()) / D;
    }
    if (next[0] < next[1] && next[1] < next[2]) mu = next;
  }
  if (!fixed && s.pure_mass >= 1) sd = std::max(std::sqrt(s.residual / s.pure_mass), 1e-3 * (mu[K - 1] - mu[0]));
  for (int c = 0; c < components(); ++c) w[std::size_t(c)] = std::max(s.mass[std::size_t(c)] / voxels, 1e-4);
}

MixelPosterior::MixelPosterior(const MixelModel& m) {
  inv_var_ = 1.0 / (m.sd * m.sd);
  for (int k = 0; k < K; ++k) {
    Point p;
    p.a[std::size_t(k)] = 1;
    p.comp = k;
    p.log_weight = std::log(m.w[std::size_t(k)]);
    points_.push_back(p);
  }
  for (int c = 0; c < m.mixtures; ++c)
    for (int j = 0; j < J; ++j) {
      Point p;
      const double f = (j + 0.5) / J;
      p.a[std::size_t(c)] = f, p.a[std::size_t(c + 1)] = 1 - f;
      p.comp = K + c;
      p.log_weight = std::log(m.w[std::size_t(K + c)] / J);
      points_.push_back(p);
    }
  for (auto& p : points_) {
    p.mean = p.a[0] * m.mu[0] + p.a[1] * m.mu[1] + p.a[2] * m.mu[2];
    p.x2 = p.a[0] * p.a[0] + p.a[1] * p.a[1] + p.a[2] * p.a[2];
  }
}

void MixelPosterior::operator()(double y, const double* field, double W, double beta, double count, const float* x_old,
                                double* x, MixelStats& s, bool full, double* nn, double* dd) const {
  const std::size_t P = points_.size();
  double l[K + 2 * J];
  double mx = -std::numeric_limits<double>::infinity();
  for (std::size_t i = 0; i < P; ++i) {
    const Point& p = points_[i];
    const double d = y - p.mean;
    double v = p.log_weight - 0.5 * d * d * inv_var_;
    if (beta > 0) v += beta * (p.a[0] * field[0] + p.a[1] * field[1] + p.a[2] * field[2] - 0.5 * W * p.x2);
    l[i] = v;
    mx = std::max(mx, v);
  }
  double total = 0;
  for (std::size_t i = 0; i < P; ++i) total += (l[i] = std::exp(l[i] - mx));
  x[0] = x[1] = x[2] = 0;
  double n = 0, e = 0;
  for (std::size_t i = 0; i < P; ++i) {
    const Point& p = points_[i];
    const double q = count * l[i] / total;
    for (int k = 0; k < K; ++k) x[k] += q * p.a[std::size_t(k)];
    if (nn) n += q * p.mean, e += q * p.mean * p.mean;
    if (!full) continue;
    s.mass[std::size_t(p.comp)] += q;
    for (int a = 0; a < K; ++a) {
      s.b[std::size_t(a)] += q * y * p.a[std::size_t(a)];
      for (int c = 0; c < K; ++c) s.A[std::size_t(3 * a + c)] += q * p.a[std::size_t(a)] * p.a[std::size_t(c)];
    }
    if (p.comp < K) {
      const double d = y - p.mean;
      s.residual += q * d * d, s.pure_mass += q;
    }
  }
  for (int k = 0; k < K; ++k) {
    x[k] /= count;
    if (x_old) s.change += count * std::abs(x[k] - double(x_old[k]));
  }
  if (nn) *nn = inv_var_ * y * n / count, *dd = inv_var_ * e / count;
}

int fit_on_histogram(MixelModel& m, const std::vector<double>& centre, const std::vector<double>& count,
                     double tolerance, int max_sweeps, bool& converged, double& last_change) {
  double total = 0;
  for (double c : count) total += c;
  converged = false;
  int sweeps = 0;
  while (sweeps < max_sweeps) {
    MixelStats s;
    const MixelPosterior post(m);
    for (std::size_t i = 0; i < centre.size(); ++i) {
      if (count[i] <= 0) continue;
      double x[K];
      post(centre[i], nullptr, 0, 0, count[i], nullptr, x, s, true);
    }
    const MixelModel before = m;
    m.update(s, total);
    ++sweeps;
    // The parameters, not the fractions: along the GM / GM-WM ridge the means
    // creep by less than a voxel's worth of class change per sweep for
    // thousands of sweeps (cheap here: one sweep is a pass over the bins).
    last_change = 0;
    for (int c = 0; c < m.components(); ++c)
      last_change = std::max(last_change, std::abs(m.w[std::size_t(c)] - before.w[std::size_t(c)]));
    for (int k = 0; k < K; ++k)
      last_change =
          std::max(last_change, std::abs(m.mu[std::size_t(k)] - before.mu[std::size_t(k)]) / (m.mu[K - 1] - m.mu[0]));
    if (sweeps > 1 && last_change < tolerance) {
      converged = true;
      break;
    }
  }
  return sweeps;
}

}  // namespace harmonize::segment_detail
