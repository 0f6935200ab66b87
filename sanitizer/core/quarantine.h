#pragma once

// Originals kept for the administrator: one file per distinct input, named by its SHA-256, in a
// directory only the service user can read (0700, files 0600). Written to a temporary name and
// renamed, so a reader never sees half a file.

#include <string>
#include <string_view>

#include "policy/base/result.h"

namespace lbg::sanitizer {

// Creates `dir` (0700) if missing. An error when it cannot be used.
Result<Ok> prepareQuarantine(const std::string& dir);

// Stores `bytes` as <dir>/<sha256>.bin (and <sha256>.json with the report). Existing files are
// kept (same hash, same bytes). false on I/O failure.
bool quarantineStore(const std::string& dir, const std::string& sha256, std::string_view bytes,
                     std::string_view reportJson);

}  // namespace lbg::sanitizer
