#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>

#include "core/error.hpp"
#include "core/log.hpp"
#include "io/nifti.hpp"
#include "phantom.hpp"
#include "preprocess/brain_mask.hpp"
#include "simulate/anatomy.hpp"

using namespace harmonize;

namespace {
const std::string kTemplates = "/usr/share/mricron/templates";
}

TEST(BrainMask, RefineFillsHolesAndKeepsTheLargestComponent) {
  Geometry g;
  g.size = {30, 30, 30};
  Mask m(g, 0);
  for (std::size_t k = 0; k < 30; ++k)
    for (std::size_t j = 0; j < 30; ++j)
      for (std::size_t i = 0; i < 30; ++i)
        m.at(i, j, k) = (double(i) - 15) * (double(i) - 15) + (double(j) - 15) * (double(j) - 15) +
                            (double(k) - 15) * (double(k) - 15) <
                        100;
  m.at(15, 15, 15) = 0;               // a hole
  m.at(1, 1, 1) = m.at(2, 1, 1) = 1;  // a speck
  const Mask r = refine_mask(m, 1);
  EXPECT_EQ(r.at(15, 15, 15), 1);
  EXPECT_EQ(r.at(1, 1, 1), 0);
  EXPECT_EQ(r.at(10, 12, 14), 1);
  EXPECT_GT(test::dice(r, m, 1), 0.97);
}

TEST(BrainMask, ColinTemplateMaskMatchesTheTruthOfAColinScan) {
  const std::string head_path = kTemplates + "/ch2.nii.gz", bet_path = kTemplates + "/ch2bet.nii.gz",
                    better_path = kTemplates + "/ch2better.nii.gz";
  for (const auto& f : {head_path, bet_path, better_path})
    if (!std::filesystem::exists(f)) GTEST_SKIP() << f << " not installed";
  if (std::getenv("HARMONIZE_DEBUG")) log::set_verbosity(log::Level::Debug);
  const Volume head = read_nifti(head_path);
  const Volume bet = read_nifti(bet_path);
  const LabelVolume anatomy = colin_labels(read_nifti(better_path), head);
  CohortOptions o;
  o.resolution_mm = 2.0;
  const SubjectResult r = simulate_subject({"001", false, 0, 3}, anatomy, o);
  Mask brain(bet.geom, 0);
  for (std::size_t n = 0; n < brain.data.size(); ++n) brain.data[n] = bet.data[n] > 0;
  const auto start = std::chrono::steady_clock::now();
  const Mask m = template_brain_mask(r.images[0].t1w, head, brain);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double d = test::dice(m, r.images[0].brain, 1);
  std::printf("[   INFO   ] template brain mask Dice vs truth: %.4f (%.1f s, 2 mm)\n", d, seconds);
  EXPECT_GE(d, 0.93);
}
