// harmonize info: what a NIfTI file holds and where it sits in the world.
#include <cstdio>

#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "core/reorient.hpp"
#include "io/nifti.hpp"

namespace harmonize::cli {

void register_info(CLI::App& app) {
  struct Options {
    GlobalOptions global;
    std::vector<std::string> inputs;
  };
  auto opt = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand("info", "Print size, voxel size, orientation and intensity range of NIfTI files");
  cmd->add_option("inputs", opt->inputs, "NIfTI files (.nii, .nii.gz)")->required()->check(CLI::ExistingFile);
  add_global_options(cmd, opt->global);
  cmd->callback([opt] {
    apply_global_options(opt->global);
    for (const auto& path : opt->inputs) {
      const Volume v = read_nifti(path);
      const auto& g = v.geom;
      float lo = v.data[0], hi = v.data[0];
      double sum = 0;
      for (float x : v.data) lo = std::min(lo, x), hi = std::max(hi, x), sum += x;
      const auto r = sagittal_reorientation(g);
      std::printf("%s\n  size      %zu x %zu x %zu\n  spacing   %.4g x %.4g x %.4g mm\n", path.c_str(), g.size[0],
                  g.size[1], g.size[2], g.spacing[0], g.spacing[1], g.spacing[2]);
      std::printf("  origin    %.3f %.3f %.3f mm (LPS)\n", g.origin[0], g.origin[1], g.origin[2]);
      for (int row = 0; row < 3; ++row)
        std::printf("  %s %+.4f %+.4f %+.4f\n", row == 0 ? "direction" : "         ", g.direction[row * 3],
                    g.direction[row * 3 + 1], g.direction[row * 3 + 2]);
      std::printf("  sagittal  slices along file axis %d\n  range     %.6g .. %.6g (mean %.6g)\n", r.perm[2], lo, hi,
                  sum / double(v.data.size()));
    }
  });
}

}  // namespace harmonize::cli
