#pragma once
// Internal to segment/: the intensity model of the segmentation (docs/SEGMENT.md,
// "Model"). Each voxel is one of five components: pure CSF, GM or WM, or a
// CSF/GM or GM/WM mixture whose fraction f of the darker class is uniform on
// (0, 1), integrated at J points:
//   pure k:           y ~ N(mu_k, s^2)
//   mixture a/c at f: y ~ N(f mu_a + (1 - f) mu_c, s^2)
// (one noise sd s for every component: a class with few pure voxels, GM at
// 2 mm, cannot shrink onto a narrow peak). Component weights w_c. An MRF prior
// on the fractions x of a component, given the neighbours' fractions F(u):
//   log prior = -beta / 2 sum_u w_u |x - F(u)|^2
//             = beta (x . field - W |x|^2 / 2) + const,  field = sum_u w_u F(u), W = sum_u w_u,
// so that a mixture among mixed neighbours is not pushed towards a pure class.
#include <array>
#include <vector>

namespace harmonize::segment_detail {

inline constexpr int kClasses = 3;
inline constexpr int kFractionPoints = 10;

// Sums over voxels, the sufficient statistics of one sweep.
struct MixelStats {
  std::array<double, 9> A{};                // normal equations of the means: A mu = b
  std::array<double, kClasses> b{};         //   (each component's mean is linear in mu)
  double residual = 0, pure_mass = 0;       // pure components: sum q (y - mu)^2, sum q
  std::array<double, kClasses + 2> mass{};  // per component
  double change = 0;                        // sum |x_new - x_old| over classes
  void add(const MixelStats& o);
};

struct MixelModel {
  std::array<double, kClasses> mu{};  // class means, increasing
  double sd = 1;                      // noise sd
  std::array<double, kClasses + 2> w{};
  int mixtures = 2;          // 0: three pure classes only
  bool fixed = false;        // noise sd given (measured): the M-step updates the means and the weights
  bool means_fixed = false;  // means given too: the M-step updates the weights only

  int components() const { return kClasses + mixtures; }
  // M-step; keeps the previous means if the new ones would not be increasing.
  void update(const MixelStats& s, double voxels);
};

// The posterior of one voxel (or `count` voxels of the same intensity and
// neighbourhood): its fractions `x` (posterior means, sum 1) and, added into
// `s`, the change from x_old (the previous fractions; none when null) and, with `full`, the
// M-step's statistics. `nn`, `dd`:
// the weighted least-squares terms of the bias gain, y * sum q m / s^2 and
// sum q m^2 / s^2 (m the component mean).
class MixelPosterior {
 public:
  explicit MixelPosterior(const MixelModel& m);
  void operator()(double y, const double* field, double W, double beta, double count, const float* x_old, double* x,
                  MixelStats& s, bool full, double* nn = nullptr, double* dd = nullptr) const;

 private:
  struct Point {
    std::array<double, kClasses> a{};  // the mean is a . mu; the fractions are a
    double mean = 0, log_weight = 0, x2 = 0;
    int comp = 0;
  };
  std::vector<Point> points_;
  double inv_var_ = 1;
};

// EM on a histogram of intensities (no MRF, bias fixed: voxels of equal
// intensity are exchangeable) until no weight and no mean (as a share of the
// CSF-to-WM range) moves by `tolerance` in a sweep, or `max_sweeps`; returns
// the sweeps run and sets `converged` and `last_change` (that largest move).
int fit_on_histogram(MixelModel& m, const std::vector<double>& centre, const std::vector<double>& count,
                     double tolerance, int max_sweeps, bool& converged, double& last_change);

}  // namespace harmonize::segment_detail
