// The ITK runtime harmonize sets up once per process (io/itk_runtime.hpp):
// its thread count, where its messages go, its version.
#include "io/itk_runtime.hpp"

#include <itkMultiThreaderBase.h>
#include <itkOutputWindow.h>
#include <itkVersion.h>

#include <string>

#include "core/log.hpp"

namespace harmonize {
std::string itk_version() { return itk::Version::GetITKVersion(); }

void set_itk_threads(int n) { itk::MultiThreaderBase::SetGlobalDefaultNumberOfThreads(n); }

namespace {
// ITK's messages, written to stderr by default whatever --quiet says, go to
// the log (and so to the run's .log file) instead: warnings as warnings,
// except LBFGSBOptimizerv4's "does not support scaling", which ITK's own
// optimizer base raises each time it starts (the B-spline registration stage)
// and which says nothing about the data.
class LogOutputWindow : public itk::OutputWindow {
 public:
  using Self = LogOutputWindow;
  using Pointer = itk::SmartPointer<Self>;
  itkNewMacro(Self);
  itkTypeMacro(LogOutputWindow, itk::OutputWindow);
  void DisplayText(const char* t) override { log::debug(message(t)); }
  void DisplayErrorText(const char* t) override { log::warn(message(t)); }
  void DisplayWarningText(const char* t) override {
    const std::string m = message(t);
    if (m.find("does not support scaling") != std::string::npos)
      log::debug(m);
    else
      log::warn(m);
  }
  void DisplayGenericOutputText(const char* t) override { log::debug(message(t)); }
  void DisplayDebugText(const char* t) override { log::debug(message(t)); }

 private:
  static std::string message(const char* t) {
    std::string m = "ITK: " + std::string(t ? t : "");
    while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
    for (auto& c : m)
      if (c == '\n') c = ' ';
    return m;
  }
};
}  // namespace

void route_itk_messages_to_log() { itk::OutputWindow::SetInstance(LogOutputWindow::New()); }
}  // namespace harmonize
