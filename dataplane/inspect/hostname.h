#pragma once

#include <cstddef>
#include <cstdint>

namespace lbg::inspect {

// Longest host name without its trailing dot (RFC 1035: 255 octets on the wire).
inline constexpr size_t kMaxHostnameLength = 253;

// Whether `p[0..n)` is a host name as the policy can match it: dot-separated labels of 1..63
// characters from [A-Za-z0-9_-], at most 253 characters, and not an IPv4 literal (last label all
// digits). Case is not changed: names are reported raw and normalised by the policy lookup.
// With `allowTrailingDot` one final '.' is accepted (HTTP Host may carry it; SNI may not, RFC
// 6066).
inline bool isHostname(const uint8_t* p, size_t n, bool allowTrailingDot) {
  if (allowTrailingDot && n > 1 && p[n - 1] == '.') --n;
  if (n == 0 || n > kMaxHostnameLength) return false;
  size_t labelLen = 0;
  bool labelAllDigits = true;
  for (size_t i = 0; i < n; ++i) {
    const uint8_t c = p[i];
    if (c == '.') {
      if (labelLen == 0) return false;
      labelLen = 0;
      labelAllDigits = true;
      continue;
    }
    const bool digit = c >= '0' && c <= '9';
    const bool alpha = (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
    if (!digit && !alpha && c != '-' && c != '_') return false;
    if (!digit) labelAllDigits = false;
    if (++labelLen > 63) return false;
  }
  return labelLen > 0 && !labelAllDigits;
}

}  // namespace lbg::inspect
