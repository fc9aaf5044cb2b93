// End-to-end runs of the harmonize executable.
#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/run_cli.hpp"
#include "core/files.hpp"
#include "io/nifti.hpp"

using namespace harmonize;
namespace fs = std::filesystem;

namespace {
using Result = harmonize::test::CliResult;
Result run(const std::string& args) { return harmonize::test::run_cli(args); }

std::string temp_dir() {
  const auto dir = fs::temp_directory_path() / ("harmonize_cli_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  return dir.string();
}

std::size_t count_lines(const std::string& text) { return std::count(text.begin(), text.end(), '\n'); }
}  // namespace

TEST(Cli, HelpIsGeneratedFromTheOptions) {
  const Result top = run("--help");
  EXPECT_EQ(top.status, 0);
  EXPECT_NE(top.output.find("simulate"), std::string::npos);
  const Result sim = run("simulate --help");
  EXPECT_EQ(sim.status, 0);
  for (const char* opt : {"--subjects", "--resolution", "--snr-3T", "--anatomy", "--threads", "--seed", "--force",
                          "--quiet", "--verbose", "--preview"})
    EXPECT_NE(sim.output.find(opt), std::string::npos) << opt;
  const Result bad = run("simulate");
  EXPECT_NE(bad.status, 0);
}

TEST(Cli, VersionNamesTheLibrariesAndTheModelFormat) {
  const Result v = run("--version");
  EXPECT_EQ(v.status, 0);
  EXPECT_NE(v.output.find("harmonize 0."), std::string::npos) << v.output;
  EXPECT_NE(v.output.find("ITK 5."), std::string::npos) << v.output;  // this test is built with ITK only
  if (v.output.find("built without LibTorch") == std::string::npos) {
    EXPECT_NE(v.output.find("LibTorch 1."), std::string::npos) << v.output;
    EXPECT_NE(v.output.find("model files: format 1, recipe version 1"), std::string::npos) << v.output;
  }
}

TEST(Cli, SimulateWritesABidsCohortDeterministically) {
  const std::string dir = temp_dir();
  const std::string out = dir + "/cohort";
  fs::remove_all(out);
  const Result r = run("simulate " + out + " --subjects 2 --patients 1 --resolution 3 --seed 7 --preview");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("2 subjects (1 HC, 1 MS)"), std::string::npos) << r.output;
  for (const char* f :
       {"dataset_description.json", "participants.tsv", "README", "code/harmonize_simulate.json",
        "code/harmonize_simulate.log", "derivatives/truth/dseg.tsv", "derivatives/preview/sub-001_preview.png"})
    EXPECT_TRUE(fs::exists(out + "/" + f)) << f;
  EXPECT_EQ(count_lines(read_text_file(out + "/participants.tsv")), 3u);
  // BIDS: participants.json describes every column but the id, each with a Description string.
  const auto columns = nlohmann::json::parse(read_text_file(out + "/participants.json"));
  const std::string tsv = read_text_file(out + "/participants.tsv");
  std::stringstream header(tsv.substr(0, tsv.find('\n')));
  for (std::string col; std::getline(header, col, '\t');) {
    if (col == "participant_id") continue;
    ASSERT_TRUE(columns.contains(col)) << col;
    ASSERT_TRUE(columns[col].is_object()) << col << ": " << columns[col].dump();
    EXPECT_TRUE(columns[col]["Description"].is_string()) << col;
  }
  EXPECT_EQ(columns["lesion_volume_mm3"]["Units"], "mm^3");
  const auto record = nlohmann::json::parse(read_text_file(out + "/code/harmonize_simulate.json"));
  EXPECT_EQ(record["seed"], 7);
  EXPECT_EQ(record["status"], "complete");
  EXPECT_EQ(record["config"]["resolution_mm"], 3.0);
  EXPECT_TRUE(record["versions"].contains("itk"));
  for (const char* sub : {"001", "002"})
    for (const char* ses : {"1p5T", "3T"}) {
      const std::string stem = std::string("sub-") + sub + "_ses-" + ses;
      const std::string scan = out + "/sub-" + sub + "/ses-" + ses + "/anat/" + stem + "_T1w.nii.gz";
      const Volume t1 = read_nifti(scan);
      EXPECT_TRUE(fs::exists(out + "/sub-" + sub + "/ses-" + ses + "/anat/" + stem + "_T1w.json"));
      const std::string truth = out + "/derivatives/truth/sub-" + sub + "/ses-" + ses + "/anat/" + stem;
      for (const char* t : {"_desc-brain_mask", "_label-lesion_mask", "_label-CSF_probseg", "_label-GM_probseg",
                            "_label-WM_probseg", "_dseg"}) {
        const Volume m = read_nifti(truth + t + ".nii.gz");
        EXPECT_LT(m.geom.max_corner_distance(t1.geom), 1e-4) << t;
      }
      // Brain is far brighter than the air in a corner of the field of view.
      const Volume mask = read_nifti(truth + "_desc-brain_mask.nii.gz");
      double in = 0, nin = 0, air = 0, nair = 0;
      for (std::size_t n = 0; n < t1.data.size(); ++n)
        if (mask.data[n] > 0) in += t1.data[n], nin += 1;
      for (std::size_t k = 0; k < 5; ++k)
        for (std::size_t j = 0; j < 5; ++j)
          for (std::size_t i = 0; i < 5; ++i) air += t1.at(i, j, k), nair += 1;
      EXPECT_GT(nin, 1000);
      EXPECT_GT(in / nin, 5 * air / nair);
    }

  // Exists: refused without --force, and nothing changes.
  const Result again = run("simulate " + out + " --subjects 2 --resolution 3 --seed 7 -q");
  EXPECT_NE(again.status, 0);
  EXPECT_NE(again.output.find("already exists"), std::string::npos) << again.output;
  // Same seed, same data (a fresh process, 1 thread instead of all).
  const std::string out2 = dir + "/cohort2";
  fs::remove_all(out2);
  ASSERT_EQ(run("simulate " + out2 + " --subjects 2 --patients 1 --resolution 3 --seed 7 -q --threads 1").status, 0);
  const std::string rel = "/sub-002/ses-3T/anat/sub-002_ses-3T_T1w.nii.gz";
  EXPECT_EQ(read_nifti(out + rel).data, read_nifti(out2 + rel).data);
  // --force replaces it; another seed gives other data.
  ASSERT_EQ(run("simulate " + out2 + " --subjects 2 --patients 1 --resolution 3 --seed 8 -q --force").status, 0);
  EXPECT_NE(read_nifti(out + rel).data, read_nifti(out2 + rel).data);
  EXPECT_FALSE(fs::exists(out2 + ".partial"));
}

TEST(Cli, SimulateRefusesBadOptions) {
  const std::string dir = temp_dir();
  Result r = run("simulate " + dir + "/x --resolution 0.1");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("--resolution"), std::string::npos) << r.output;
  r = run("simulate " + dir + "/x --echo-spacing-1p5T 12");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("echo spacing"), std::string::npos) << r.output;
  r = run("simulate " + dir + "/x --ventricle-sd -1");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("--ventricle-sd"), std::string::npos) << r.output;
  r = run("simulate " + dir + "/x --subjects 3 --patients 5");
  EXPECT_NE(r.status, 0);
  r = run("simulate " + dir + "/x --templates " + dir + "/nowhere");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("mricron-data"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(dir + "/x"));
}

TEST(Cli, SimulateFromLabelMaps) {
  const std::string labels = std::string(HARMONIZE_SHARED_DIR) + "/data/labelmaps";
  if (!fs::exists(labels)) GTEST_SKIP() << "no label maps at " << labels;
  const std::string out = temp_dir() + "/labels_cohort";
  fs::remove_all(out);
  const Result r = run("simulate " + out + " --anatomy " + labels + " --subjects 2 --resolution 3 -q");
  ASSERT_EQ(r.status, 0) << r.output;
  const std::string tsv = read_text_file(out + "/participants.tsv");
  EXPECT_NE(tsv.find("anatomy_01.nii.gz"), std::string::npos);
  EXPECT_NE(tsv.find("anatomy_02.nii.gz"), std::string::npos);
}

TEST(Cli, InfoDescribesAFile) {
  const std::string out = temp_dir() + "/info.nii.gz";
  Geometry g;
  g.size = {3, 4, 5};
  g.spacing = {1, 2, 3};
  write_nifti(out, Volume(g, 2.0f));
  const Result r = run("info " + out);
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.output.find("3 x 4 x 5"), std::string::npos) << r.output;
  const Result missing = run("info " + temp_dir() + "/nope.nii.gz");
  EXPECT_NE(missing.status, 0);
}
