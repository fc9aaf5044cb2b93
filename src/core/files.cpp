#include "core/files.hpp"

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.hpp"

namespace fs = std::filesystem;

namespace harmonize {

std::string temporary_sibling(const std::string& path) {
  static std::atomic<unsigned> counter{0};
  const fs::path p(path);
  const std::string name =
      ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + "-" + p.filename().string();
  return (p.parent_path() / name).string();
}

void write_atomically(const std::string& path, const std::function<void(const std::string&)>& write) {
  const std::string tmp = temporary_sibling(path);
  try {
    write(tmp);
    std::error_code ec;
    fs::rename(tmp, path, ec);
    if (ec) throw OutputError(path, "cannot rename temporary file into place: " + ec.message());
  } catch (...) {
    std::error_code ec;
    fs::remove(tmp, ec);
    throw;
  }
}

void write_text_atomically(const std::string& path, const std::string& content) {
  write_atomically(path, [&](const std::string& tmp) {
    std::ofstream out(tmp, std::ios::binary);
    if (!out) throw OutputError(path, "cannot open for writing");
    out << content;
    out.close();
    if (!out) throw OutputError(path, "write failed (disk full?)");
  });
}

void check_output_path(const std::string& path, bool overwrite, bool make_parents) {
  const fs::path p(path);
  std::error_code ec;
  if (fs::exists(p, ec) && !overwrite) throw OutputError(path, "already exists (use --force to overwrite)");
  fs::path dir = p.parent_path();
  if (dir.empty()) dir = ".";
  if (!fs::exists(dir, ec)) {
    if (!make_parents) throw OutputError(path, "folder " + dir.string() + " does not exist");
    fs::create_directories(dir, ec);
    if (ec) throw OutputError(path, "cannot create folder " + dir.string() + ": " + ec.message());
  }
  if (!fs::is_directory(dir, ec)) throw OutputError(path, dir.string() + " is not a folder");
  if (::access(dir.c_str(), W_OK) != 0) throw OutputError(path, "folder " + dir.string() + " is not writable");
}

std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path, "cannot open (missing or unreadable)");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

PartialFolder::PartialFolder(std::string out) : out_(std::move(out)), work_(out_ + ".partial") {
  std::filesystem::remove_all(work_);
  std::filesystem::create_directories(work_);
}

PartialFolder::~PartialFolder() {
  if (committed_) return;
  std::error_code ec;
  std::filesystem::remove_all(work_, ec);
}

void PartialFolder::commit() {
  std::filesystem::remove_all(out_);
  std::filesystem::rename(work_, out_);
  committed_ = true;
}

}  // namespace harmonize
