// Slices of the three orientations and their fusion (model/view_slices.hpp).
#include <gtest/gtest.h>

#include <cmath>

#include "core/error.hpp"
#include "model/view_slices.hpp"

using namespace harmonize;

namespace {

torch::Tensor ramp_block(int64_t n, int64_t h, int64_t w) {
  return torch::arange(n * h * w, torch::kFloat32).view({n, h, w});
}

// An identity stand-in for the model: each brain slice comes back as it went
// in, slices without brain are 0 (as harmonize_stacks leaves them).
std::vector<torch::Tensor> identity_map(const std::vector<torch::Tensor>& stacks,
                                        const std::vector<std::vector<std::uint8_t>>& has_brain) {
  std::vector<torch::Tensor> out;
  for (std::size_t s = 0; s < stacks.size(); ++s) {
    torch::Tensor o = torch::zeros_like(stacks[s]);
    for (int64_t k = 0; k < stacks[s].size(0); ++k)
      if (has_brain[s][std::size_t(k)]) o[k].copy_(stacks[s][k]);
    out.push_back(o);
  }
  return out;
}

// The mean squared second difference along dimension `dim` of a block,
// inside [1, size - 1) of every dimension (the stripe energy along it).
double second_difference(const torch::Tensor& b, int64_t dim) {
  const torch::Tensor inner = b.narrow(0, 1, b.size(0) - 2).narrow(1, 1, b.size(1) - 2).narrow(2, 1, b.size(2) - 2);
  const torch::Tensor plus = b.narrow(0, 1 + (dim == 0), b.size(0) - 2)
                                 .narrow(1, 1 + (dim == 1), b.size(1) - 2)
                                 .narrow(2, 1 + (dim == 2), b.size(2) - 2);
  const torch::Tensor minus = b.narrow(0, 1 - (dim == 0), b.size(0) - 2)
                                  .narrow(1, 1 - (dim == 1), b.size(1) - 2)
                                  .narrow(2, 1 - (dim == 2), b.size(2) - 2);
  return (plus - 2 * inner + minus).pow(2).mean().item<double>();
}

}  // namespace

TEST(ViewSlices, EachViewCutsTheBlockAlongItsAxisAndComesBack) {
  const torch::Tensor b = ramp_block(5, 6, 7);  // [left-right, top-down, front-back]
  const torch::Tensor cor = view_slices(b, View::Coronal), ax = view_slices(b, View::Axial);
  EXPECT_EQ(view_slices(b, View::Sagittal).sizes(), b.sizes());
  EXPECT_EQ(cor.sizes(), (std::vector<int64_t>{7, 6, 5}));  // front-back slices: rows top-down, columns left-right
  EXPECT_EQ(ax.sizes(), (std::vector<int64_t>{6, 7, 5}));   // top-down slices: rows front-back, columns left-right
  // Coronal slice c, row r, column n is the block's voxel (n, r, c); axial slice r, row c, column n too.
  EXPECT_EQ(cor[4][2][3].item<float>(), b[3][2][4].item<float>());
  EXPECT_EQ(ax[2][4][3].item<float>(), b[3][2][4].item<float>());
  for (View v : {View::Sagittal, View::Coronal, View::Axial})
    EXPECT_TRUE(torch::equal(block_from_view(view_slices(b, v).contiguous(), v), b)) << view_name(v);
}

TEST(ViewSlices, BrainFlagsFollowTheView) {
  torch::Tensor mask = torch::zeros({5, 6, 7});
  mask[1][2][3] = 1;
  auto only = [](const std::vector<std::uint8_t>& f, std::size_t k) {
    for (std::size_t i = 0; i < f.size(); ++i)
      if (f[i] != (i == k)) return false;
    return true;
  };
  EXPECT_TRUE(only(view_has_brain(mask, View::Sagittal), 1));
  EXPECT_TRUE(only(view_has_brain(mask, View::Coronal), 3));
  EXPECT_TRUE(only(view_has_brain(mask, View::Axial), 2));
}

TEST(ViewSlices, LeftRightWindowCropsPadsAndReturns) {
  const torch::Tensor b = ramp_block(5, 2, 3);
  const torch::Tensor pad = lr_window(b, -2, 8);  // 2 zero slices, the 5, 1 zero slice
  EXPECT_EQ(pad.size(0), 8);
  EXPECT_EQ(pad[0].abs().sum().item<float>(), 0.0f);
  EXPECT_EQ(pad[7].abs().sum().item<float>(), 0.0f);
  EXPECT_TRUE(torch::equal(pad[2], b[0]));
  EXPECT_TRUE(torch::equal(lr_unwindow(pad, -2, 5), b));
  const torch::Tensor crop = lr_window(b, 1, 3);  // slices 1..3
  EXPECT_TRUE(torch::equal(crop, b.narrow(0, 1, 3)));
  const torch::Tensor back = lr_unwindow(crop, 1, 5);
  EXPECT_EQ(back[0].abs().sum().item<float>(), 0.0f);
  EXPECT_TRUE(torch::equal(back.narrow(0, 1, 3), crop));
  EXPECT_EQ(centred_start(10, 19, 16), 7);  // brain slices 10..19 centred in 16: 7..22
  EXPECT_EQ(round_up(37, 8), 40);
  EXPECT_EQ(round_up(40, 8), 40);
}

TEST(ViewSlices, ASlabIsASliceWithItsNeighboursZeroBeyondTheEnds) {
  const torch::Tensor b = ramp_block(5, 2, 3);
  const torch::Tensor one = slab(b, 2, 0);
  ASSERT_EQ(one.sizes(), (std::vector<int64_t>{1, 2, 3}));
  EXPECT_TRUE(torch::equal(one[0], b[2]));
  const torch::Tensor first = slab(b, 0, 1);  // nothing before slice 0
  ASSERT_EQ(first.size(0), 3);
  EXPECT_EQ(first[0].abs().sum().item<float>(), 0.0f);
  EXPECT_TRUE(torch::equal(first.narrow(0, 1, 2), b.narrow(0, 0, 2)));
  const torch::Tensor last = slab(b, 4, 2);  // slices 2, 3, 4, then two zeros
  ASSERT_EQ(last.size(0), 5);
  EXPECT_TRUE(torch::equal(last.narrow(0, 0, 3), b.narrow(0, 2, 3)));
  EXPECT_EQ(last.narrow(0, 3, 2).abs().sum().item<float>(), 0.0f);
  EXPECT_THROW(slab(b, 5, 1), Error);
  EXPECT_THROW(slab(b, 0, -1), Error);
}

TEST(ViewSlices, FusionIsTheMedianOrTheMean) {
  const torch::Tensor a = torch::full({2, 2, 2}, 1.0f), b = torch::full({2, 2, 2}, 2.0f),
                      c = torch::full({2, 2, 2}, 9.0f);
  EXPECT_FLOAT_EQ(fuse_views({a, b, c}, Fusion::Median)[1][1][1].item<float>(), 2.0f);
  EXPECT_FLOAT_EQ(fuse_views({a, b, c}, Fusion::Mean)[1][1][1].item<float>(), 4.0f);
  EXPECT_FLOAT_EQ(fuse_views({a, c}, Fusion::Median)[0][0][0].item<float>(), 5.0f);  // two: their mean
  EXPECT_TRUE(torch::equal(fuse_views({b}, Fusion::Median), b));
  EXPECT_THROW(fuse_views({}, Fusion::Mean), Error);
  EXPECT_THROW(fuse_views({a, torch::zeros({2, 2, 3})}, Fusion::Mean), Error);
  EXPECT_EQ(parse_fusion("mean"), Fusion::Mean);
  EXPECT_THROW(parse_fusion("max"), UsageError);
  EXPECT_THROW(parse_views({"sagittal", "sagittal"}), UsageError);
  EXPECT_THROW(parse_views({"transverse"}), UsageError);
}

// Where the orientations agree (an identity model), the fused block is each
// orientation's output: the input inside the brain, 0 where no slice has brain;
// the odd left-right size (37) is padded to the network's multiple and back.
TEST(ViewSlices, FusedIdentityIsEachOrientationsOutput) {
  torch::manual_seed(3);
  const torch::Tensor block = torch::rand({37, 24, 32});
  torch::Tensor brain = torch::zeros_like(block);
  brain.narrow(0, 4, 28).narrow(1, 3, 18).narrow(2, 5, 22).fill_(1);
  const torch::Tensor inside = block * brain;
  for (Fusion f : {Fusion::Median, Fusion::Mean}) {
    const auto fused =
        map_views_and_fuse({inside}, {brain}, {View::Sagittal, View::Coronal, View::Axial}, 8, f, identity_map);
    ASSERT_EQ(fused.size(), 1u);
    EXPECT_TRUE(torch::allclose(fused[0], inside, 0, 1e-7)) << fusion_name(f);
    for (View v : {View::Sagittal, View::Coronal, View::Axial}) {
      const auto one = map_views_and_fuse({inside}, {brain}, {v}, 8, f, identity_map);
      EXPECT_TRUE(torch::allclose(one[0], fused[0], 0, 1e-7)) << view_name(v);
    }
  }
  // The mapper sees coronal and axial slices 40 wide (37 padded to a multiple of 8).
  std::vector<std::vector<int64_t>> shapes;
  map_views_and_fuse({inside}, {brain}, {View::Sagittal, View::Coronal, View::Axial}, 8, Fusion::Median,
                     [&](const std::vector<torch::Tensor>& stacks, const std::vector<std::vector<std::uint8_t>>& hb) {
                       for (const auto& s : stacks) shapes.push_back(s.sizes().vec());
                       return identity_map(stacks, hb);
                     });
  EXPECT_EQ(shapes, (std::vector<std::vector<int64_t>>{{37, 24, 32}, {32, 24, 40}, {24, 32, 40}}));
}

// A mapper that gives two channels per slice (the estimate and its spread):
// each channel is put back and fused on its own, [2, N, H, W].
TEST(ViewSlices, ChannelsOfAMapperAreFusedEachOnItsOwn) {
  torch::manual_seed(4);
  const torch::Tensor block = torch::rand({13, 16, 8}), brain = torch::ones({13, 16, 8});
  const std::vector<View> all{View::Sagittal, View::Coronal, View::Axial};
  const auto fused =
      map_views_and_fuse({block}, {brain}, all, 8, Fusion::Median,
                         [](const std::vector<torch::Tensor>& stacks, const std::vector<std::vector<std::uint8_t>>&) {
                           std::vector<torch::Tensor> out;
                           for (const auto& s : stacks) out.push_back(torch::stack({s, 2 * s + 1}, 1));
                           return out;
                         });
  ASSERT_EQ(fused[0].sizes(), (std::vector<int64_t>{2, 13, 16, 8}));
  EXPECT_TRUE(torch::allclose(fused[0][0], block, 0, 1e-6));
  EXPECT_TRUE(torch::allclose(fused[0][1], 2 * block + 1, 0, 1e-6));
  // a mapper whose stacks disagree in channels is refused
  EXPECT_THROW(
      map_views_and_fuse({block}, {brain}, all, 8, Fusion::Median,
                         [](const std::vector<torch::Tensor>& stacks, const std::vector<std::vector<std::uint8_t>>&) {
                           std::vector<torch::Tensor> out;
                           for (const auto& s : stacks)
                             out.push_back(torch::stack(std::vector<torch::Tensor>(out.size() + 1, s), 1));
                           return out;
                         }),
      Error);
}

// A model whose sagittal slices come back with per-slice gain jumps (the
// stripes a slice-wise model leaves along left-right): fused with coronal and
// axial slices, the median removes them; the mean divides them by three.
TEST(ViewSlices, FusionRemovesAPerSliceGainJump) {
  torch::manual_seed(5);
  // A smooth volume: stripes are the only second-difference energy along left-right beyond the anatomy's.
  const auto grid =
      torch::meshgrid({torch::linspace(0, 1, 40), torch::linspace(0, 1, 32), torch::linspace(0, 1, 32)}, "ij");
  const torch::Tensor block = 0.5 + 0.2 * torch::sin(3 * grid[0]) * torch::cos(2 * grid[1]) + 0.1 * grid[2];
  const torch::Tensor brain = torch::ones_like(block);
  for (double jump : {0.05, 0.1, 0.2}) {
    const torch::Tensor gains = 1 + jump * (torch::rand({40}) - 0.5) * 2;  // one per sagittal slice
    auto striping = [&](const std::vector<torch::Tensor>& stacks, const std::vector<std::vector<std::uint8_t>>& hb) {
      auto out = identity_map(stacks, hb);
      out[0] = out[0] * gains.view({40, 1, 1});  // the first stack: the sagittal one
      return out;
    };
    const double clean = second_difference(block, 0);
    const double sagittal =
        second_difference(map_views_and_fuse({block}, {brain}, {View::Sagittal}, 8, Fusion::Median, striping)[0], 0);
    const auto all = std::vector<View>{View::Sagittal, View::Coronal, View::Axial};
    const torch::Tensor median = map_views_and_fuse({block}, {brain}, all, 8, Fusion::Median, striping)[0];
    const torch::Tensor mean = map_views_and_fuse({block}, {brain}, all, 8, Fusion::Mean, striping)[0];
    EXPECT_GT(sagittal, 100 * clean) << jump;  // the jumps dominate
    EXPECT_TRUE(torch::allclose(median, block, 0, 1e-6)) << jump;
    const double fused_mean = second_difference(mean, 0);  // about clean + (sagittal - clean) / 9
    EXPECT_LT(fused_mean, sagittal / 5) << jump;
    EXPECT_GT(fused_mean, sagittal / 20) << jump;
  }
}

// view_stacks gives the stacks map_views_and_fuse hands its mapper, in its
// order (by view, then block), so a second volume sliced by it lines up with
// them voxel by voxel.
TEST(ViewSlices, ViewStacksAreTheMappersStacks) {
  torch::manual_seed(5);
  const std::vector<torch::Tensor> blocks{torch::rand({37, 24, 32}), torch::rand({21, 16, 8})};
  const std::vector<torch::Tensor> brains{torch::ones({37, 24, 32}), torch::ones({21, 16, 8})};
  const std::vector<View> views{View::Sagittal, View::Coronal, View::Axial};
  std::vector<torch::Tensor> seen;
  map_views_and_fuse(blocks, brains, views, 8, Fusion::Median,
                     [&](const std::vector<torch::Tensor>& stacks, const std::vector<std::vector<std::uint8_t>>& hb) {
                       seen = stacks;
                       return identity_map(stacks, hb);
                     });
  const auto stacks = view_stacks(blocks, views, 8);
  ASSERT_EQ(stacks.size(), seen.size());
  ASSERT_EQ(stacks.size(), 6u);
  for (std::size_t i = 0; i < stacks.size(); ++i) EXPECT_TRUE(torch::equal(stacks[i], seen[i])) << "stack " << i;
  // A voxel of block 0 is the same value in each view's stack: sagittal [i, j, k],
  // coronal [k, j, i + pad], axial [j, k, i + pad]: the window of 40 starts at -2 (centred_start).
  const float v = blocks[0][5][7][9].item<float>();
  EXPECT_EQ(stacks[0][5][7][9].item<float>(), v);
  EXPECT_EQ(stacks[2][9][7][7].item<float>(), v);
  EXPECT_EQ(stacks[4][7][9][7].item<float>(), v);
  EXPECT_THROW(view_stacks({torch::rand({4, 4})}, views, 8), Error);
}
