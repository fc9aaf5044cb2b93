#pragma once
// MPRAGE steady-state signal (Deichmann et al. 2000; Marques et al. 2010,
// appendix; Mugler & Brookeman 1990), as written in shared/docs/PHYSICS.md.
#include <string>

namespace harmonize {

struct MprageProtocol {
  std::string name;  // "1p5T", "3T"
  double field_tesla = 1.5;
  double tr_ms = 2080;  // time between inversions
  double ti_ms = 1100;  // inversion to k-space centre
  double te_ms = 3.1;
  double flip_deg = 15;
  double echo_spacing_ms = 9.5;
  int excitations = 176;  // N: excitations per inversion (turbo factor)
  double inversion_efficiency = 0.96;
};

// The study's protocols (PAPER.md): Siemens Avanto 1.5 T and Skyra^fit 3 T.
MprageProtocol protocol_1p5T();
MprageProtocol protocol_3T();

// Throws UsageError unless TA = TI - (N/2) tau > 0 and TD = TR - TA - N tau > 0.
void validate(const MprageProtocol& p);

// Magnitude signal of a voxel with (T1, T2*, PD) (ms, ms, fraction of water),
// linear phase-encoding order (k-space centre at excitation N/2):
//   S = PD sin(a) [Minf + (Mfirst - Minf) q^(N/2)] exp(-TE/T2*).
double mprage_signal(const MprageProtocol& p, double t1_ms, double t2s_ms, double pd);

}  // namespace harmonize
