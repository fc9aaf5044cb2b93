// Intra-op threads for every learning test, set once per test process. One
// thread: the tests' tensors are small (two threads gain ~20 %), and on a shared
// two-core machine (another build, or ctest -j running cases side by side) two
// OpenMP threads that spin-wait for each other run 10-30x slower than one.
#include <ATen/Parallel.h>
#include <gtest/gtest.h>

namespace {

class OneThread : public ::testing::Environment {
 public:
  void SetUp() override { at::set_num_threads(1); }
};

const auto* const one_thread = ::testing::AddGlobalTestEnvironment(new OneThread);

}  // namespace
