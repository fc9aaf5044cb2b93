#pragma once
// Outputs are written under a temporary name in the destination folder and
// renamed when complete, so a failure never leaves a partial file behind.
#include <functional>
#include <string>

namespace harmonize {

// Temporary sibling of `path` that keeps its extension (.nii.gz etc.).
std::string temporary_sibling(const std::string& path);

// Removes the temporary siblings of `path` that a killed run left behind
// (their writer's process no longer exists).
void remove_stale_temporaries(const std::string& path);

// Removes stale temporaries of path, calls write(tmp) and renames tmp onto
// path; removes tmp if write throws.
void write_atomically(const std::string& path, const std::function<void(const std::string& tmp)>& write);
void write_text_atomically(const std::string& path, const std::string& content);
// ": no space left on device" when the file system that holds `path` is full
// (the usual cause of a short write), else "": for an error message.
std::string space_hint(const std::string& path);

// Throws OutputError unless `path` can be created: its folder exists (or can be
// created when make_parents) and is writable; and, unless `overwrite`, nothing
// is there yet.
void check_output_path(const std::string& path, bool overwrite, bool make_parents = true);
// Throws OutputError when a name in `path` is longer than file systems allow (255 bytes).
void check_name_lengths(const std::string& path);

std::string read_text_file(const std::string& path);

// An output folder built under "<out>.partial" and renamed onto <out> by
// commit(); if the run fails before that, the partial folder is removed, so a
// failure leaves neither a half-written <out> nor debris.
class PartialFolder {
 public:
  explicit PartialFolder(std::string out);
  ~PartialFolder();
  PartialFolder(const PartialFolder&) = delete;
  PartialFolder& operator=(const PartialFolder&) = delete;
  const std::string& path() const { return work_; }
  void commit();  // replaces an existing <out>

 private:
  std::string out_, work_;
  bool committed_ = false;
};

}  // namespace harmonize
