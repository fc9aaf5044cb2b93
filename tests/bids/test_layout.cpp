// The BIDS names harmonize writes and reads, exactly.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "bids/layout.hpp"

using namespace harmonize;
namespace fs = std::filesystem;

TEST(BidsLayout, RawScansAndTruth) {
  EXPECT_EQ(bids::session_label("ses-3T"), "3T");
  EXPECT_EQ(bids::session_label("1p5T"), "1p5T");
  EXPECT_EQ(bids::anat_dir("/d", "sub-001", "ses-3T"), "/d/sub-001/ses-3T/anat");
  EXPECT_EQ(bids::t1w("/d", "sub-001", "ses-1p5T"), "/d/sub-001/ses-1p5T/anat/sub-001_ses-1p5T_T1w.nii.gz");
  EXPECT_EQ(bids::file("/d", "sub-001", "ses-3T", "T1w", {}, ".json"),
            "/d/sub-001/ses-3T/anat/sub-001_ses-3T_T1w.json");
  EXPECT_EQ(bids::truth_root("/d"), "/d/derivatives/truth");
  const std::string t = bids::truth_root("/d");
  EXPECT_EQ(bids::brain_mask(t, "sub-001", "ses-3T"),
            "/d/derivatives/truth/sub-001/ses-3T/anat/sub-001_ses-3T_desc-brain_mask.nii.gz");
  EXPECT_EQ(bids::lesion_mask(t, "sub-001", "ses-3T"),
            "/d/derivatives/truth/sub-001/ses-3T/anat/sub-001_ses-3T_label-lesion_mask.nii.gz");
  EXPECT_EQ(bids::probseg(t, "sub-002", "ses-1p5T", "GM"),
            "/d/derivatives/truth/sub-002/ses-1p5T/anat/sub-002_ses-1p5T_label-GM_probseg.nii.gz");
  EXPECT_EQ(bids::pose(t, "sub-002"), "/d/derivatives/truth/sub-002/sub-002_pose.json");
  // Entities in the order space, label, desc.
  EXPECT_EQ(bids::file("r", "sub-1", "ses-a", "x", {.space = "S", .label = "L", .desc = "D"}, ".e"),
            "r/sub-1/ses-a/anat/sub-1_ses-a_space-S_label-L_desc-D_x.e");
  // A root is used as given.
  EXPECT_EQ(bids::t1w("rel/dir/", "sub-1", "ses-a"), "rel/dir//sub-1/ses-a/anat/sub-1_ses-a_T1w.nii.gz");
}

TEST(BidsLayout, PreprocessedDataset) {
  EXPECT_EQ(bids::preproc("/p", "sub-001", "ses-3T"), "/p/sub-001/ses-3T/anat/sub-001_ses-3T_desc-preproc_T1w.nii.gz");
  EXPECT_EQ(bids::preproc("/p", "sub-001", "ses-1p5T", "ses-3T"),
            "/p/sub-001/ses-1p5T/anat/sub-001_ses-1p5T_space-ses3T_desc-preproc_T1w.nii.gz");
  EXPECT_EQ(bids::slices("/p", "sub-001", "ses-3T"), "/p/sub-001/slices/sub-001_ses-3T_slices.hvol");
  EXPECT_EQ(bids::slices("/p", "sub-001", "ses-1p5T", "ses-3T"),
            "/p/sub-001/slices/sub-001_ses-1p5T_space-ses3T_slices.hvol");
  EXPECT_EQ(bids::slices_relative("sub-001", "ses-1p5T", "ses-3T"), "slices/sub-001_ses-1p5T_space-ses3T_slices.hvol");
  EXPECT_EQ(bids::transform_prefix("/p", "sub-001", "ses-1p5T", "ses-3T"),
            "/p/sub-001/xfm/sub-001_from-ses1p5T_to-ses3T");
  EXPECT_EQ(bids::transform_relative("sub-001", "ses-3T", "ses-1p5T"), "xfm/sub-001_from-ses3T_to-ses1p5T");
  EXPECT_EQ(bids::subject_path("/p", "sub-001", "slices/a.hvol"), "/p/sub-001/slices/a.hvol");
  EXPECT_EQ(bids::file_name("scan", "slices", {}, ".hvol"), "scan_slices.hvol");
}

TEST(BidsLayout, PairedSubjects) {
  const std::string root = (fs::temp_directory_path() / ("harmonize_bids_" + std::to_string(::getpid()))).string();
  fs::remove_all(root);
  auto touch = [](const std::string& path) {
    fs::create_directories(fs::path(path).parent_path());
    std::ofstream(path) << "x";
  };
  for (const char* sub : {"sub-003", "sub-001", "sub-010"})
    for (const char* ses : {"ses-1p5T", "ses-3T"}) touch(bids::t1w(root, sub, ses));
  touch(bids::t1w(root, "sub-002", "ses-3T"));  // one session only
  fs::create_directories(root + "/derivatives");
  touch(root + "/sub-999");  // a file, not a subject folder
  EXPECT_EQ(bids::paired_subjects(root, "ses-1p5T", "ses-3T"),
            (std::vector<std::string>{"sub-001", "sub-003", "sub-010"}));
  EXPECT_EQ(bids::subjects(root), (std::vector<std::string>{"sub-001", "sub-002", "sub-003", "sub-010"}));
  EXPECT_TRUE(bids::paired_subjects(root, "ses-1p5T", "ses-7T").empty());
  EXPECT_TRUE(bids::paired_subjects(root + "/missing", "ses-1p5T", "ses-3T").empty());
  fs::remove_all(root);
}

TEST(BidsLayout, T1wScansOfTheChosenParticipantsAndSessions) {
  const std::string root = (fs::temp_directory_path() / ("harmonize_bids_t1w_" + std::to_string(::getpid()))).string();
  fs::remove_all(root);
  auto touch = [&](const std::string& relative) {
    fs::create_directories(fs::path(root + "/" + relative).parent_path());
    std::ofstream(root + "/" + relative) << "x";
  };
  touch("sub-02/ses-B/anat/sub-02_ses-B_T1w.nii.gz");
  touch("sub-02/ses-A/anat/sub-02_ses-A_run-2_T1w.nii");
  touch("sub-02/ses-A/anat/sub-02_ses-A_run-1_T1w.nii.gz");
  touch("sub-02/ses-A/anat/sub-02_ses-A_run-1_T1w.json");  // a sidecar, not a scan
  touch("sub-02/ses-A/anat/sub-02_ses-A_T2w.nii.gz");      // not a T1w
  touch("sub-02/ses-A/anat/sub-03_ses-A_T1w.nii.gz");      // another subject's name: not this subject's scan
  touch("sub-01/anat/sub-01_T1w.nii.gz");                  // no sessions
  touch("derivatives/x/sub-01/anat/sub-01_T1w.nii.gz");

  const auto all = bids::t1w_scans(root);
  std::vector<std::string> found;
  for (const auto& s : all) found.push_back(s.relative());
  EXPECT_EQ(found, (std::vector<std::string>{
                       "sub-01/anat/sub-01_T1w.nii.gz", "sub-02/ses-A/anat/sub-02_ses-A_run-1_T1w.nii.gz",
                       "sub-02/ses-A/anat/sub-02_ses-A_run-2_T1w.nii", "sub-02/ses-B/anat/sub-02_ses-B_T1w.nii.gz"}));
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(all[0].ses, "");
  EXPECT_EQ(all[2].stem, "sub-02_ses-A_run-2");
  EXPECT_EQ(all[2].ext, ".nii");
  EXPECT_EQ(all[1].derivative("/out", "T1w", {.desc = "harmonized"}, ".nii.gz"),
            "/out/sub-02/ses-A/anat/sub-02_ses-A_run-1_desc-harmonized_T1w.nii.gz");
  EXPECT_EQ(all[0].derivative("/out", "mask", {.desc = "brain"}, ".json"),
            "/out/sub-01/anat/sub-01_desc-brain_mask.json");

  // Labels with or without their prefix; a dataset without sessions has none to choose.
  EXPECT_EQ(bids::t1w_scans(root, {"02"}, {"ses-B"}).size(), 1u);
  EXPECT_EQ(bids::t1w_scans(root, {"sub-02", "01"}, {"A"}).size(), 2u);
  EXPECT_EQ(bids::t1w_scans(root, {"01"}).size(), 1u);
  EXPECT_TRUE(bids::t1w_scans(root, {"01"}, {"A"}).empty());
  EXPECT_TRUE(bids::t1w_scans(root, {"9"}).empty());
  EXPECT_TRUE(bids::t1w_scans(root + "/missing").empty());
  fs::remove_all(root);
}
