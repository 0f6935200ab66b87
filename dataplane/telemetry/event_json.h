#pragma once

#include <string>

#include "dataplane/telemetry/event.h"

namespace lbg::telemetry {

// Serialises an event as one JSON object (no trailing newline) in the enforcement log's field names
// (ARCHITECTURE.md "Logs"; EVE-compatible where the concept exists). Runs on the service thread.
void appendEventJson(const Event& e, std::string& out);

// RFC 3339 UTC with microseconds: 2026-11-23T12:00:00.123456Z
void appendTimestamp(uint64_t unixNs, std::string& out);

// JSON string literal with escaping of quotes, backslashes and control bytes; invalid UTF-8 bytes
// (names come from the wire) are escaped as \u00XX so that the line stays valid JSON.
void appendJsonString(std::string_view s, std::string& out);

}  // namespace lbg::telemetry
