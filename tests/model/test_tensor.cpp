#include <gtest/gtest.h>

#include "core/error.hpp"
#include "model/tensor.hpp"

using namespace harmonize;

TEST(Tensor, RoundTripKeepsVoxelsAndLayout) {
  Geometry g;
  g.size = {4, 3, 2};
  g.spacing = {1.0, 2.0, 3.0};
  g.origin = {5, 6, 7};
  Volume v(g);
  for (std::size_t n = 0; n < v.data.size(); ++n) v.data[n] = static_cast<float>(n) * 0.5f;
  const auto t = to_tensor(v);
  ASSERT_EQ(t.size(0), 2);
  ASSERT_EQ(t.size(1), 3);
  ASSERT_EQ(t.size(2), 4);
  // tensor[k][j][i] is voxel (i, j, k)
  EXPECT_FLOAT_EQ(t[1][2][3].item<float>(), v.at(3, 2, 1));
  EXPECT_FLOAT_EQ(t[0][1][2].item<float>(), v.at(2, 1, 0));
  const Volume back = from_tensor(t * 1.0, g);
  EXPECT_EQ(back.data, v.data);
  EXPECT_EQ(back.geom.size, g.size);
  EXPECT_THROW(from_tensor(t.transpose(0, 2), g), std::exception);
}

TEST(Tensor, DeviceNamesAreCheckedInOnePlace) {
  EXPECT_EQ(device_from_name("cpu"), torch::Device(torch::kCPU));
  EXPECT_THROW(device_from_name("gpu"), UsageError);
  if (torch::cuda::is_available())
    EXPECT_EQ(device_from_name("cuda"), torch::Device(torch::kCUDA));
  else
    EXPECT_THROW(device_from_name("cuda"), UsageError);
}
