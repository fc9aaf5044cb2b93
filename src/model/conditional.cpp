#include "model/conditional.hpp"

#include <sstream>

#include "core/error.hpp"

namespace harmonize {

torch::Tensor conditional_input(const torch::Tensor& source_model_range, const torch::Tensor& x_t) {
  if (source_model_range.dim() != 4 || x_t.dim() != 4 || source_model_range.size(0) != x_t.size(0) ||
      source_model_range.size(2) != x_t.size(2) || source_model_range.size(3) != x_t.size(3)) {
    std::ostringstream msg;
    msg << "conditioning: source of shape " << source_model_range.sizes() << " does not match x_t of shape "
        << x_t.sizes();
    throw Error(msg.str());
  }
  return torch::cat({source_model_range.to(x_t.device(), x_t.scalar_type()), x_t}, 1);
}

Denoiser conditional_denoiser(UNet model, const torch::Tensor& source01) {
  const auto device = model->parameters().empty() ? torch::Device(torch::kCPU) : model->parameters()[0].device();
  auto source = to_model_range(source01.to(device, torch::kFloat32));
  return [model, source](const torch::Tensor& x_t, const torch::Tensor& t) mutable {
    return model->forward(conditional_input(source, x_t), t);
  };
}

LossTerms training_loss(UNet& model, const GaussianDiffusion& d, const torch::Tensor& source01,
                        const torch::Tensor& target01, const torch::Tensor& t, const torch::Tensor& noise) {
  if (target01.sizes() != noise.sizes()) {
    std::ostringstream msg;
    msg << "training loss: target of shape " << target01.sizes() << " but noise of shape " << noise.sizes();
    throw Error(msg.str());
  }
  const auto x0 = to_model_range(target01);
  const auto x_t = d.q_sample(x0, t, noise);
  const auto out = model->forward(conditional_input(to_model_range(source01), x_t), d.model_timesteps(t));
  return d.training_losses(out, x0, x_t, t, noise);
}

torch::Tensor regression_output(UNet& model, const torch::Tensor& source01) {
  const auto source = to_model_range(source01);
  const auto t = torch::zeros({source.size(0)}, torch::TensorOptions().dtype(torch::kInt64).device(source.device()));
  return model->forward(conditional_input(source, torch::zeros_like(source)), t).narrow(1, 0, 1);
}

LossTerms regression_loss(UNet& model, const torch::Tensor& source01, const torch::Tensor& target01) {
  if (source01.sizes() != target01.sizes()) {
    std::ostringstream msg;
    msg << "regression loss: source of shape " << source01.sizes() << " but target of shape " << target01.sizes();
    throw Error(msg.str());
  }
  const auto l1 = (regression_output(model, source01) - to_model_range(target01)).abs().mean({1, 2, 3});
  return {l1, l1, torch::zeros_like(l1), torch::zeros_like(l1), torch::zeros_like(l1)};  // no vb, spread, histogram
}

}  // namespace harmonize
