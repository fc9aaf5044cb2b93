#pragma once
// A full disk, without root: while a FileSizeLimit lives, any write that
// would take a file past `bytes` fails with EFBIG (RLIMIT_FSIZE), as a write
// to a full file system fails with ENOSPC, and the signal the kernel sends
// with it is ignored.
#include <sys/resource.h>

#include <csignal>

namespace harmonize::test {

class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    getrlimit(RLIMIT_FSIZE, &old_);
    old_handler_ = std::signal(SIGXFSZ, SIG_IGN);
    rlimit r = old_;
    r.rlim_cur = bytes < old_.rlim_max ? bytes : old_.rlim_max;
    setrlimit(RLIMIT_FSIZE, &r);
  }
  ~FileSizeLimit() {
    setrlimit(RLIMIT_FSIZE, &old_);
    std::signal(SIGXFSZ, old_handler_);
  }
  FileSizeLimit(const FileSizeLimit&) = delete;
  FileSizeLimit& operator=(const FileSizeLimit&) = delete;

 private:
  rlimit old_{};
  void (*old_handler_)(int) = nullptr;
};

}  // namespace harmonize::test
