#include "core/views.hpp"

#include <algorithm>

#include "core/error.hpp"

namespace harmonize {

View parse_view(const std::string& name) {
  if (name == "sagittal") return View::Sagittal;
  if (name == "coronal") return View::Coronal;
  if (name == "axial") return View::Axial;
  throw UsageError("unknown slice orientation '" + name + "' (sagittal, coronal or axial)");
}

std::string view_name(View v) {
  switch (v) {
    case View::Sagittal:
      return "sagittal";
    case View::Coronal:
      return "coronal";
    case View::Axial:
      return "axial";
  }
  return "?";
}

std::vector<View> parse_views(const std::vector<std::string>& names) {
  if (names.empty()) throw UsageError("no slice orientation given (sagittal, coronal, axial)");
  std::vector<View> views;
  for (const auto& n : names) {
    const View v = parse_view(n);
    if (std::find(views.begin(), views.end(), v) != views.end())
      throw UsageError("slice orientation '" + n + "' given twice");
    views.push_back(v);
  }
  return views;
}

Fusion parse_fusion(const std::string& name) {
  if (name == "median") return Fusion::Median;
  if (name == "mean") return Fusion::Mean;
  throw UsageError("unknown fusion '" + name + "' (median or mean)");
}

std::string fusion_name(Fusion f) { return f == Fusion::Median ? "median" : "mean"; }

}  // namespace harmonize
