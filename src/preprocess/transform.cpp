#include "preprocess/transform.hpp"

#include <itkAffineTransform.h>
#include <itkTransformFactory.h>
#include <itkTransformFileReader.h>
#include <itkTransformFileWriter.h>
#include <itkTxtTransformIOFactory.h>

#include <filesystem>

#include "core/error.hpp"
#include "io/itk_bridge.hpp"
#include "preprocess/bspline_field.hpp"

namespace fs = std::filesystem;

namespace harmonize {

Vec3 PairTransform::map_affine(const Vec3& p) const {
  const Vec3 q = mat_vec(matrix, p);
  return {q[0] + translation[0], q[1] + translation[1], q[2] + translation[2]};
}

Vec3 PairTransform::map(const Vec3& x) const {
  if (!deformable) return map_affine(x);
  itkb::BSplineTransform::InputPointType in;
  for (int a = 0; a < 3; ++a) in[a] = x[a];
  const auto out = deformable->transform->TransformPoint(in);
  return map_affine({out[0], out[1], out[2]});
}

Volume warp(const Volume& moving, const PairTransform& t, const Geometry& fixed_grid, Interp interp) {
  return resample(
      moving, fixed_grid, [&t](const Vec3& x) { return t.map(x); }, interp);
}

Mask warp(const Mask& moving, const PairTransform& t, const Geometry& fixed_grid) {
  return resample(moving, fixed_grid, [&t](const Vec3& x) { return t.map(x); });
}

namespace {
void register_io() {
  static const bool once = [] {
    itk::TxtTransformIOFactory::RegisterOneFactory();
    itk::TransformFactory<itkb::BSplineTransform>::RegisterTransform();
    itk::TransformFactory<itk::AffineTransform<double, 3>>::RegisterTransform();
    return true;
  }();
  (void)once;
}

using Affine = itk::AffineTransform<double, 3>;
using Writer = itk::TransformFileWriterTemplate<double>;
using Reader = itk::TransformFileReaderTemplate<double>;

void write_one(const itk::TransformBaseTemplate<double>* transform, const std::string& path) {
  register_io();
  const std::string tmp = path + ".tmp.tfm";
  try {
    auto writer = Writer::New();
    writer->SetInput(transform);
    writer->SetFileName(tmp);
    writer->Update();
  } catch (const itk::ExceptionObject& e) {
    std::error_code ec;
    fs::remove(tmp, ec);
    throw OutputError(path, std::string("cannot write transform: ") + e.GetDescription());
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) throw OutputError(path, "cannot rename from " + tmp + ": " + ec.message());
}

itk::TransformBaseTemplate<double>::Pointer read_one(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw InputError(path, "file does not exist");
  auto reader = Reader::New();
  reader->SetFileName(path);
  try {
    reader->Update();
  } catch (const itk::ExceptionObject& e) {
    throw InputError(path, std::string("cannot read ITK transform: ") + e.GetDescription());
  }
  const auto* list = reader->GetTransformList();
  if (list->size() != 1) throw InputError(path, "expected one transform, found " + std::to_string(list->size()));
  return list->front();
}
}  // namespace

void save_transform(const PairTransform& t, const std::string& prefix) {
  auto affine = Affine::New();
  Affine::MatrixType m;
  Affine::OutputVectorType offset;
  for (int a = 0; a < 3; ++a) {
    offset[a] = t.translation[a];
    for (int b = 0; b < 3; ++b) m(a, b) = t.matrix[a * 3 + b];
  }
  affine->SetMatrix(m);
  affine->SetOffset(offset);
  write_one(affine, prefix + "_affine.tfm");
  const std::string bspline_path = prefix + "_bspline.tfm";
  if (t.deformable) {
    write_one(t.deformable->transform, bspline_path);
  } else {
    std::error_code ec;
    fs::remove(bspline_path, ec);  // a stale deformable part must not be picked up by load_transform
  }
}

PairTransform load_transform(const std::string& prefix) {
  register_io();
  PairTransform t;
  const std::string affine_path = prefix + "_affine.tfm";
  auto base = read_one(affine_path);
  auto* affine = dynamic_cast<itk::MatrixOffsetTransformBase<double, 3, 3>*>(base.GetPointer());
  if (!affine) throw InputError(affine_path, std::string("not an affine transform: ") + base->GetNameOfClass());
  for (int a = 0; a < 3; ++a) {
    t.translation[a] = affine->GetOffset()[a];
    for (int b = 0; b < 3; ++b) t.matrix[a * 3 + b] = affine->GetMatrix()(a, b);
  }
  const std::string bspline_path = prefix + "_bspline.tfm";
  std::error_code ec;
  if (fs::exists(bspline_path, ec)) {
    auto b = read_one(bspline_path);
    itkb::BSplineTransform::Pointer bs = dynamic_cast<itkb::BSplineTransform*>(b.GetPointer());
    if (!bs) throw InputError(bspline_path, std::string("not a 3-D cubic B-spline transform: ") + b->GetNameOfClass());
    auto field = std::make_shared<BSplineField>();
    field->transform = bs;
    t.deformable = field;
  }
  return t;
}

}  // namespace harmonize
