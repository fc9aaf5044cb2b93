#pragma once
// The project's one thread count (`--threads`) and a parallel loop over it.
#include <cstddef>
#include <functional>

namespace harmonize {

// Number of worker threads for harmonize's own loops (default: all cores).
void set_threads(int n);
int threads();
int hardware_threads();

// Calls fn(i) for i in [begin, end) on up to threads() threads, in contiguous
// chunks. Exceptions thrown by fn are rethrown in the caller (the first one).
void parallel_for(std::size_t begin, std::size_t end, const std::function<void(std::size_t)>& fn, int max_threads = 0);

}  // namespace harmonize
