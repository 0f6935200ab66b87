#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "policy/model.h"
#include "policy/base/result.h"

namespace lbg::policy {

// Largest policy text we read. 10k services with their names and prefixes fit in a few MiB; the
// cap keeps a hostile or mistaken input (a log file, /dev/zero) from exhausting memory.
inline constexpr size_t kMaxPolicyBytes = 64 * 1024 * 1024;

// Parses and validates a policy (schema in policy/README.md). Strict: unknown keys, duplicate keys,
// wrong types, malformed names, prefixes and ports, and ISMAP registrations that expired before
// `today` are errors, each with file, line and column. `fileName` only labels the errors.
Result<PolicyDoc> parsePolicyText(std::string_view yamlText, std::string_view fileName,
                                  std::chrono::sys_days today);

// Same, reading `path` first (an unreadable or oversized file is an error too).
Result<PolicyDoc> parsePolicyFile(const std::string& path, std::chrono::sys_days today);

// Canonical YAML form of a document: fixed key order, normalised names and prefixes, quoted
// strings. parsePolicyText(toYaml(d)) yields a document equal to d (positions aside).
std::string toYaml(const PolicyDoc& doc);

}  // namespace lbg::policy
