#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace lbg::policy {

// Longest name we accept, without the trailing dot (RFC 1035: 255 octets on the wire).
inline constexpr size_t kMaxFqdnLength = 253;
inline constexpr size_t kMaxLabelLength = 63;

// Lowercases `name`, strips one trailing dot and validates it: labels of 1..63 characters from
// [a-z0-9_-], no hyphen at either end of a label, total <= 253, last label not all digits (so an
// IP literal is never taken for a name). No "*". nullopt if invalid.
std::optional<std::string> normalizeFqdn(std::string_view name);

// Like normalizeFqdn() but also accepts a wildcard "*." as the whole first label, provided at
// least two labels follow it ("*.com" and "*.jp" are rejected: they would allow a whole TLD).
std::optional<std::string> normalizeFqdnPattern(std::string_view pattern);

// Hot-path form of normalizeFqdn(): writes the normalised name into `out` (at least
// kMaxFqdnLength bytes) and returns its length, or 0 if `name` is not a valid name.
// No allocation, no exceptions.
size_t normalizeFqdnInto(std::string_view name, char* out);

// Reference semantics of a policy pattern against a normalised name (tests and slow paths; the
// Snapshot uses hash tables with the same result): an exact pattern matches only the same name;
// "*.example.com" matches any name with at least one more label ("a.example.com",
// "a.b.example.com") and never "example.com" or "badexample.com".
bool fqdnPatternMatches(std::string_view pattern, std::string_view normalizedName);

}  // namespace lbg::policy
