#include "core/files.hpp"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.hpp"

namespace fs = std::filesystem;

namespace harmonize {

namespace {
constexpr std::size_t kMaxFileName = 255;  // NAME_MAX of Linux file systems
}  // namespace

std::string temporary_sibling(const std::string& path) {
  static std::atomic<unsigned> counter{0};
  const fs::path p(path);
  const std::string prefix = ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + "-";
  std::string file = p.filename().string();
  // A legal name plus the prefix may pass the 255-byte limit of a file name:
  // keep the end of the name (its extension).
  if (prefix.size() + file.size() > kMaxFileName) file = file.substr(file.size() - (kMaxFileName - prefix.size()));
  return (p.parent_path() / (prefix + file)).string();
}

void remove_stale_temporaries(const std::string& path) {
  const fs::path p(path);
  const fs::path dir = p.parent_path().empty() ? fs::path(".") : p.parent_path();
  const std::string file = p.filename().string();
  std::error_code ec;
  fs::directory_iterator it(dir, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.rfind(".tmp-", 0) != 0) continue;
    // ".tmp-<pid>-<n>-<name, or its end>"
    const auto dash1 = name.find('-', 5), dash2 = dash1 == std::string::npos ? dash1 : name.find('-', dash1 + 1);
    if (dash2 == std::string::npos) continue;
    const std::string rest = name.substr(dash2 + 1);
    if (rest.empty() || rest.size() > file.size() || file.compare(file.size() - rest.size(), rest.size(), rest) != 0)
      continue;
    long pid = 0;
    try {
      pid = std::stol(name.substr(5, dash1 - 5));
    } catch (...) {
      continue;
    }
    if (pid <= 0 || pid == long(::getpid())) continue;
    if (::kill(pid_t(pid), 0) == 0 || errno != ESRCH) continue;  // its writer may still be running
    std::error_code rm;
    fs::remove(it->path(), rm);
  }
}

void write_atomically(const std::string& path, const std::function<void(const std::string&)>& write) {
  remove_stale_temporaries(path);
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

std::string space_hint(const std::string& path) {
  fs::path dir = fs::path(path).parent_path();
  if (dir.empty()) dir = ".";
  std::error_code ec;
  const auto info = fs::space(dir, ec);
  return !ec && info.available < (1u << 20) ? ": no space left on device" : "";
}

void write_text_atomically(const std::string& path, const std::string& content) {
  write_atomically(path, [&](const std::string& tmp) {
    errno = 0;
    std::ofstream out(tmp, std::ios::binary);
    if (!out) throw OutputError(path, std::string("cannot open for writing: ") + std::strerror(errno));
    out << content;
    out.close();
    if (!out)
      throw OutputError(
          path, std::string("write failed: ") + (errno ? std::strerror(errno) : "short write") + space_hint(path));
  });
}

void check_name_lengths(const std::string& path) {
  for (const auto& part : fs::path(path)) {
    const std::size_t n = part.string().size();
    if (n > kMaxFileName)
      throw OutputError(path, "a name in this path is " + std::to_string(n) + " bytes long; file systems allow " +
                                  std::to_string(kMaxFileName));
  }
}

void check_output_path(const std::string& path, bool overwrite, bool make_parents) {
  const fs::path p(path);
  std::error_code ec;
  check_name_lengths(path);
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
