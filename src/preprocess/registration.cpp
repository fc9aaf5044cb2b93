#include "preprocess/registration.hpp"

#include <itkAffineTransform.h>
#include <itkBSplineTransformInitializer.h>
#include <itkCenteredTransformInitializer.h>
#include <itkEuler3DTransform.h>
#include <itkImageMaskSpatialObject.h>
#include <itkImageRegistrationMethodv4.h>
#include <itkLBFGSBOptimizerv4.h>
#include <itkMattesMutualInformationImageToImageMetricv4.h>
#include <itkRegistrationParameterScalesFromPhysicalShift.h>
#include <itkRegularStepGradientDescentOptimizerv4.h>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "core/error.hpp"
#include "core/log.hpp"
#include "io/itk_bridge.hpp"
#include "preprocess/bspline_field.hpp"

namespace harmonize {
namespace {

using itkb::ItkMask;
using itkb::ItkVolume;
using Euler = itk::Euler3DTransform<double>;
using Affine = itk::AffineTransform<double, 3>;
using BSpline = itkb::BSplineTransform;
using Metric = itk::MattesMutualInformationImageToImageMetricv4<ItkVolume, ItkVolume>;
using MaskObject = itk::ImageMaskSpatialObject<3>;

void check_inputs(const Volume& fixed, const Volume& moving, const RegistrationOptions& o) {
  auto check = [](const Volume& v, const char* what) {
    if (v.data.empty() || v.data.size() != v.geom.voxels()) throw Error(std::string("registration: empty ") + what);
    const auto [lo, hi] = std::minmax_element(v.data.begin(), v.data.end());
    if (!(*hi > *lo)) throw Error(std::string("registration: the ") + what + " image is constant");
  };
  check(fixed, "fixed");
  check(moving, "moving");
  auto check_mask = [](const Mask* m, const Volume& v, const char* what) {
    if (m)
      require_same_grid(m->geom, v.geom,
                        std::string("registration: the ") + what + " mask is not on the " + what + " image's grid");
  };
  check_mask(o.fixed_mask, fixed, "fixed");
  check_mask(o.moving_mask, moving, "moving");
  auto check_levels = [](const std::vector<int>& s, const std::vector<int>& it, const char* what) {
    if (s.size() != it.size() || s.empty())
      throw Error(std::string("registration: ") + what + " shrink factors and iterations differ in count");
    for (int f : s)
      if (f < 1) throw Error(std::string("registration: ") + what + " shrink factors must be >= 1");
  };
  check_levels(o.rigid_shrink, o.rigid_iterations, "rigid");
  if (o.affine) check_levels(o.affine_shrink, o.affine_iterations, "affine");
  if (o.deformable) check_levels(o.deformable_shrink, o.deformable_iterations, "deformable");
}

MaskObject::Pointer mask_object(const Mask* m) {
  if (!m) return nullptr;
  auto object = MaskObject::New();
  object->SetImage(itkb::to_itk(*m));
  object->Update();
  return object;
}

// Shared set-up of one stage: metric, sampling, levels.
template <class Method>
void configure(Method* method, const RegistrationOptions& o, const std::vector<int>& shrink, const ItkVolume* fixed,
               const ItkVolume* moving, const MaskObject* fixed_mask, const MaskObject* moving_mask) {
  auto metric = Metric::New();
  metric->SetNumberOfHistogramBins(unsigned(o.bins));
  if (fixed_mask) metric->SetFixedImageMask(fixed_mask);
  if (moving_mask) metric->SetMovingImageMask(moving_mask);
  method->SetMetric(metric);
  method->SetFixedImage(fixed);
  method->SetMovingImage(moving);
  typename Method::ShrinkFactorsArrayType factors(unsigned(shrink.size()));
  typename Method::SmoothingSigmasArrayType sigmas(unsigned(shrink.size()));
  for (std::size_t l = 0; l < shrink.size(); ++l) {
    factors[l] = unsigned(shrink[l]);
    sigmas[l] = shrink[l] > 1 ? 0.5 * shrink[l] : 0.0;
  }
  method->SetNumberOfLevels(unsigned(shrink.size()));
  method->SetShrinkFactorsPerLevel(factors);
  method->SetSmoothingSigmasPerLevel(sigmas);
  method->SetSmoothingSigmasAreSpecifiedInPhysicalUnits(false);
  // After SetNumberOfLevels, which resets every level's sampling to all voxels.
  if (o.sampling > 0 && o.sampling < 1) {
    method->SetMetricSamplingStrategy(Method::MetricSamplingStrategyEnum::RANDOM);
    typename Method::MetricSamplingPercentageArrayType percent(unsigned(shrink.size()));
    const auto size = fixed->GetLargestPossibleRegion().GetSize();
    for (std::size_t l = 0; l < shrink.size(); ++l) {
      double voxels = 1;
      for (int a = 0; a < 3; ++a) voxels *= std::ceil(double(size[a]) / shrink[l]);
      percent[unsigned(l)] = o.max_samples > 0 ? std::min(o.sampling, o.max_samples / voxels) : o.sampling;
    }
    method->SetMetricSamplingPercentagePerLevel(percent);
    method->MetricSamplingReinitializeSeed(o.seed);
  }
}

// A linear stage (Euler or affine) with regular-step gradient descent.
template <class T>
void run_linear(T* transform, const RegistrationOptions& o, const std::vector<int>& shrink,
                const std::vector<int>& iterations, const ItkVolume* fixed, const ItkVolume* moving,
                const MaskObject* fixed_mask, const MaskObject* moving_mask, const char* name) {
  using Method = itk::ImageRegistrationMethodv4<ItkVolume, ItkVolume, T>;
  auto method = Method::New();
  configure(method.GetPointer(), o, shrink, fixed, moving, fixed_mask, moving_mask);
  auto scales = itk::RegistrationParameterScalesFromPhysicalShift<Metric>::New();
  scales->SetMetric(dynamic_cast<Metric*>(method->GetModifiableMetric()));
  auto optimizer = itk::RegularStepGradientDescentOptimizerv4<double>::New();
  optimizer->SetScalesEstimator(scales);
  optimizer->SetDoEstimateLearningRateOnce(false);
  optimizer->SetDoEstimateLearningRateAtEachIteration(false);
  optimizer->SetLearningRate(o.step_mm);
  optimizer->SetMinimumStepLength(1e-4);
  optimizer->SetRelaxationFactor(0.7);
  optimizer->SetReturnBestParametersAndValue(true);
  optimizer->SetMinimumConvergenceValue(1e-6);  // stop when the metric flattens over 10 iterations
  optimizer->SetConvergenceWindowSize(10);
  optimizer->SetNumberOfIterations(unsigned(*std::max_element(iterations.begin(), iterations.end())));
  method->SetOptimizer(optimizer);
  method->SetInitialTransform(transform);
  method->InPlaceOn();
  // Iterations per level: the optimizer is restarted at each level.
  struct LevelObserver : itk::Command {
    const std::vector<int>* iterations = nullptr;
    itk::RegularStepGradientDescentOptimizerv4<double>* optimizer = nullptr;
    Method* method = nullptr;
    void Execute(const itk::Object* caller, const itk::EventObject& e) override {
      Execute(const_cast<itk::Object*>(caller), e);
    }
    void Execute(itk::Object*, const itk::EventObject& e) override {
      if (!itk::MultiResolutionIterationEvent().CheckEvent(&e)) return;
      const std::size_t level = std::min<std::size_t>(method->GetCurrentLevel(), iterations->size() - 1);
      optimizer->SetNumberOfIterations(unsigned((*iterations)[level]));
    }
  };
  itk::SmartPointer<LevelObserver> observer = new LevelObserver;
  observer->UnRegister();  // balance `new` (itk::Command has no New() of its own here)
  observer->iterations = &iterations;
  observer->optimizer = optimizer;
  observer->method = method;
  method->AddObserver(itk::MultiResolutionIterationEvent(), observer);
  const auto start = std::chrono::steady_clock::now();
  method->Update();
  log::debug(std::string("registration: ") + name + " stage stopped: " + optimizer->GetStopConditionDescription() +
             ", metric " + std::to_string(optimizer->GetValue()) + ", " +
             std::to_string(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()) + " s");
}

BSpline::Pointer run_bspline(const Affine* affine, const RegistrationOptions& o, const ItkVolume* fixed,
                             const ItkVolume* moving, const MaskObject* fixed_mask, const MaskObject* moving_mask) {
  auto bspline = BSpline::New();
  BSpline::MeshSizeType mesh;
  for (int a = 0; a < 3; ++a) {
    const double extent = fixed->GetSpacing()[a] * double(fixed->GetLargestPossibleRegion().GetSize()[a]);
    mesh[a] = unsigned(std::max(1L, std::lround(extent / o.mesh_spacing_mm)));
  }
  auto initializer = itk::BSplineTransformInitializer<BSpline, ItkVolume>::New();
  initializer->SetTransform(bspline);
  initializer->SetImage(fixed);
  initializer->SetTransformDomainMeshSize(mesh);
  initializer->InitializeTransform();
  BSpline::ParametersType zero(bspline->GetNumberOfParameters());
  zero.Fill(0.0);
  bspline->SetParameters(zero);

  using Method = itk::ImageRegistrationMethodv4<ItkVolume, ItkVolume, BSpline>;
  auto method = Method::New();
  RegistrationOptions sparse = o;
  sparse.sampling = o.deformable_sampling;
  configure(method.GetPointer(), sparse, o.deformable_shrink, fixed, moving, fixed_mask, moving_mask);
  auto optimizer = itk::LBFGSBOptimizerv4::New();
  const unsigned n = bspline->GetNumberOfParameters();
  itk::LBFGSBOptimizerv4::BoundSelectionType select(n);
  itk::LBFGSBOptimizerv4::BoundValueType bound(n);
  select.Fill(2);  // lower and upper bound: a coarse, bounded warp stays smooth
  bound.Fill(-o.max_coefficient_mm);
  optimizer->SetBoundSelection(select);
  optimizer->SetLowerBound(bound);
  bound.Fill(o.max_coefficient_mm);
  optimizer->SetUpperBound(bound);
  optimizer->SetCostFunctionConvergenceFactor(1e7);
  optimizer->SetGradientConvergenceTolerance(1e-5);
  const int iterations = *std::max_element(o.deformable_iterations.begin(), o.deformable_iterations.end());
  optimizer->SetNumberOfIterations(unsigned(iterations));
  optimizer->SetMaximumNumberOfFunctionEvaluations(unsigned(iterations + 10));
  optimizer->SetMaximumNumberOfCorrections(5);
  method->SetOptimizer(optimizer);
  auto moving_initial = Affine::New();
  moving_initial->SetFixedParameters(affine->GetFixedParameters());
  moving_initial->SetParameters(affine->GetParameters());
  method->SetMovingInitialTransform(moving_initial);
  method->SetInitialTransform(bspline);
  method->InPlaceOn();
  const auto start = std::chrono::steady_clock::now();
  method->Update();
  log::debug("registration: B-spline stage (" + std::to_string(n) +
             " parameters) stopped: " + optimizer->GetStopConditionDescription() + ", " +
             std::to_string(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()) + " s");
  return bspline;
}

// Fraction of fixed-grid voxels (every 4th along each axis) that the
// transform maps inside the moving grid.
double overlap(const Geometry& fixed, const Geometry& moving, const Affine* t) {
  double inside = 0, total = 0;
  for (std::size_t k = 0; k < fixed.size[2]; k += 4)
    for (std::size_t j = 0; j < fixed.size[1]; j += 4)
      for (std::size_t i = 0; i < fixed.size[0]; i += 4) {
        const Vec3 w = fixed.index_to_world({double(i), double(j), double(k)});
        const auto p = t->TransformPoint(Affine::InputPointType(w.data()));
        const Vec3 c = moving.world_to_index({p[0], p[1], p[2]});
        bool in = true;
        for (int a = 0; a < 3; ++a) in = in && c[a] > -0.5 && c[a] < double(moving.size[a]) - 0.5;
        inside += in;
        total += 1;
      }
  return total > 0 ? inside / total : 0.0;
}

}  // namespace

PairTransform register_images(const Volume& fixed, const Volume& moving, const RegistrationOptions& o) {
  check_inputs(fixed, moving, o);
  const auto start = std::chrono::steady_clock::now();
  try {
    auto f = itkb::to_itk(fixed);
    auto m = itkb::to_itk(moving);
    auto fixed_mask = mask_object(o.fixed_mask);
    auto moving_mask = mask_object(o.moving_mask);

    auto rigid = Euler::New();
    if (o.align_centres) {
      auto init = itk::CenteredTransformInitializer<Euler, ItkVolume, ItkVolume>::New();
      init->SetTransform(rigid);
      init->SetFixedImage(f);
      init->SetMovingImage(m);
      init->MomentsOn();
      init->InitializeTransform();
    } else {
      // Rotate about the fixed image's centre (better conditioned than the origin).
      const Vec3 c =
          fixed.geom.index_to_world({0.5 * double(fixed.geom.size[0] - 1), 0.5 * double(fixed.geom.size[1] - 1),
                                     0.5 * double(fixed.geom.size[2] - 1)});
      rigid->SetCenter(Euler::InputPointType(c.data()));
    }
    auto affine = Affine::New();
    affine->SetCenter(rigid->GetCenter());
    affine->SetMatrix(rigid->GetMatrix());
    affine->SetTranslation(rigid->GetTranslation());
    const double initial_overlap = overlap(fixed.geom, moving.geom, affine);
    if (initial_overlap < 0.01)
      throw Error("registration: the images do not overlap after the initial alignment (" +
                  std::to_string(100 * initial_overlap) + " % of the fixed grid maps into the moving grid)");

    run_linear(rigid.GetPointer(), o, o.rigid_shrink, o.rigid_iterations, f, m, fixed_mask, moving_mask, "rigid");
    affine->SetCenter(rigid->GetCenter());
    affine->SetMatrix(rigid->GetMatrix());
    affine->SetTranslation(rigid->GetTranslation());
    if (o.affine)
      run_linear(affine.GetPointer(), o, o.affine_shrink, o.affine_iterations, f, m, fixed_mask, moving_mask, "affine");

    PairTransform t;
    for (int a = 0; a < 3; ++a) {
      t.translation[a] = affine->GetOffset()[a];
      for (int b = 0; b < 3; ++b) t.matrix[a * 3 + b] = affine->GetMatrix()(a, b);
    }
    if (o.deformable) {
      auto field = std::make_shared<BSplineField>();
      field->transform = run_bspline(affine, o, f, m, fixed_mask, moving_mask);
      t.deformable = field;
    }
    log::debug("registration: " +
               std::to_string(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()) + " s");
    return t;
  } catch (const itk::ExceptionObject& e) {
    throw Error(std::string("registration failed (do the images overlap and share anatomy?): ") + e.GetDescription());
  }
}

}  // namespace harmonize
