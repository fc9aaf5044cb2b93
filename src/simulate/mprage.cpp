#include "simulate/mprage.hpp"

#include <cmath>

#include "core/error.hpp"

namespace harmonize {

MprageProtocol protocol_1p5T() {
  MprageProtocol p;
  p.name = "1p5T";
  p.field_tesla = 1.5;
  p.tr_ms = 2080;
  p.ti_ms = 1100;
  p.te_ms = 3.1;
  p.flip_deg = 15;
  p.echo_spacing_ms = 9.5;  // 130 Hz/px; must stay < 11.1 ms for TD > 0
  return p;
}

MprageProtocol protocol_3T() {
  MprageProtocol p;
  p.name = "3T";
  p.field_tesla = 3.0;
  p.tr_ms = 2300;
  p.ti_ms = 900;
  p.te_ms = 2.94;
  p.flip_deg = 9;
  p.echo_spacing_ms = 7.1;  // 240 Hz/px
  return p;
}

void validate(const MprageProtocol& p) {
  const double nc = p.excitations / 2.0;
  const double ta = p.ti_ms - nc * p.echo_spacing_ms;
  const double td = p.tr_ms - ta - p.excitations * p.echo_spacing_ms;
  if (p.excitations < 2 || p.echo_spacing_ms <= 0 || p.tr_ms <= 0)
    throw UsageError("MPRAGE protocol " + p.name + ": excitations, echo spacing and TR must be positive");
  if (ta <= 0)
    throw UsageError("MPRAGE protocol " + p.name + ": TI - (N/2)*echo spacing = " + std::to_string(ta) +
                     " ms must be > 0");
  if (td <= 0)
    throw UsageError("MPRAGE protocol " + p.name + ": TR - TA - N*echo spacing = " + std::to_string(td) +
                     " ms must be > 0 (echo spacing too long?)");
}

double mprage_signal(const MprageProtocol& p, double t1, double t2s, double pd) {
  const double a = p.flip_deg * M_PI / 180.0;
  const double tau = p.echo_spacing_ms;
  const int n = p.excitations;
  const double nc = n / 2.0;
  const double ta = p.ti_ms - nc * tau;      // inversion to first excitation
  const double td = p.tr_ms - ta - n * tau;  // last excitation to next inversion
  const double e1 = std::exp(-tau / t1), ea = std::exp(-ta / t1), ed = std::exp(-td / t1);
  const double q = e1 * std::cos(a);
  const double qn = std::pow(q, n);
  const double delta = p.inversion_efficiency;
  const double m_inf = (1 - e1) / (1 - q);  // FLASH steady state
  const double m_first = ((1 - ea) - delta * ea * ((1 - ed) + ed * m_inf * (1 - qn))) / (1 + delta * ea * ed * qn);
  const double m_centre = m_inf + (m_first - m_inf) * std::pow(q, nc);
  return std::abs(pd * std::sin(a) * m_centre * std::exp(-p.te_ms / t2s));
}

}  // namespace harmonize
