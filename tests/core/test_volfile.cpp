#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "core/error.hpp"
#include "core/volfile.hpp"

using namespace harmonize;
namespace fs = std::filesystem;

namespace {
std::string temp_path(const std::string& name) {
  const auto dir = fs::temp_directory_path() / ("harmonize_test_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  return (dir / name).string();
}
}  // namespace

TEST(VolFile, RoundTripKeepsVoxelsGeometryAndMeta) {
  Geometry g;
  g.size = {3, 4, 5};
  g.spacing = {0.5, 1.5, 2.0};
  g.origin = {1.25, -2.5, 3.75};
  g.direction = rotation_xyz(0.1, 0.2, 0.3);
  Volume v(g);
  for (std::size_t n = 0; n < v.data.size(); ++n) v.data[n] = float(n) / 7.0f;
  const std::string path = temp_path("a.hvol");
  write_hvol(path, v, {{"subject", "sub-001"}});
  nlohmann::json meta;
  const Volume back = read_hvol<float>(path, &meta);
  EXPECT_EQ(back.data, v.data);
  EXPECT_EQ(back.geom.size, g.size);
  EXPECT_EQ(back.geom.direction, g.direction);
  EXPECT_EQ(back.geom.origin, g.origin);
  EXPECT_EQ(meta["subject"], "sub-001");
  // Wrong type asked for.
  EXPECT_THROW(read_hvol<std::uint8_t>(path), InputError);
}

TEST(VolFile, RefusesTruncatedAndForeignFiles) {
  Geometry g;
  g.size = {8, 8, 8};
  const std::string path = temp_path("b.hvol");
  write_hvol(path, Volume(g, 1.0f));
  fs::resize_file(path, fs::file_size(path) - 100);
  try {
    read_hvol<float>(path);
    FAIL() << "truncated file accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("truncated"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos);
  }
  const std::string other = temp_path("c.hvol");
  std::ofstream(other) << "not a volume";
  EXPECT_THROW(read_hvol<float>(other), InputError);
  EXPECT_THROW(read_hvol<float>(temp_path("missing.hvol")), InputError);
}

#include "core/files.hpp"

TEST(Files, FailedAtomicWriteLeavesNoFile) {
  const std::string path = temp_path("atomic.txt");
  fs::remove(path);
  EXPECT_THROW(write_atomically(path,
                                [](const std::string& tmp) {
                                  std::ofstream(tmp) << "half";
                                  throw OutputError(tmp, "simulated failure");
                                }),
               OutputError);
  EXPECT_FALSE(fs::exists(path));
  for (const auto& e : fs::directory_iterator(fs::path(path).parent_path()))
    EXPECT_EQ(e.path().filename().string().rfind(".tmp-", 0), std::string::npos) << e.path();
  write_text_atomically(path, "whole");
  EXPECT_EQ(read_text_file(path), "whole");
  EXPECT_THROW(check_output_path(path, false), OutputError);
  EXPECT_NO_THROW(check_output_path(path, true));
}
