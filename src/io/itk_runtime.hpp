#pragma once
// The ITK runtime of a harmonize process: thread count, messages, version.
#include <string>

namespace harmonize {
// Thread count of ITK's filters (the CLI sets it from --threads).
void set_itk_threads(int n);
// ITK's warnings and errors go to harmonize's log (and obey --quiet) instead of
// straight to stderr.
void route_itk_messages_to_log();
// ITK's version, for run records.
std::string itk_version();
}  // namespace harmonize
