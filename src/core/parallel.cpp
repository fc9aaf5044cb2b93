#include "core/parallel.hpp"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace harmonize {
namespace {
std::atomic<int> g_threads{0};
}

int hardware_threads() { return std::max(1u, std::thread::hardware_concurrency()); }

void set_threads(int n) { g_threads = n > 0 ? n : hardware_threads(); }

int threads() {
  const int n = g_threads.load();
  return n > 0 ? n : hardware_threads();
}

void parallel_for(std::size_t begin, std::size_t end, const std::function<void(std::size_t)>& fn, int max_threads) {
  if (end <= begin) return;
  const std::size_t n = end - begin;
  int nt = threads();
  if (max_threads > 0) nt = std::min(nt, max_threads);
  nt = static_cast<int>(std::min<std::size_t>(nt, n));
  if (nt <= 1) {
    for (std::size_t i = begin; i < end; ++i) fn(i);
    return;
  }
  // Dynamic scheduling: items can differ in cost (e.g. slices with/without head).
  std::atomic<std::size_t> next{begin};
  std::exception_ptr first_error;
  std::mutex error_mutex;
  auto worker = [&] {
    for (;;) {
      const std::size_t i = next.fetch_add(1);
      if (i >= end) return;
      try {
        fn(i);
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (!first_error) first_error = std::current_exception();
        next = end;
        return;
      }
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < nt; ++t) pool.emplace_back(worker);
  worker();
  for (auto& th : pool) th.join();
  if (first_error) std::rethrow_exception(first_error);
}

}  // namespace harmonize
