#pragma once

// RFC 9110 §5.6.2 tchar: the characters of a token (a method, a header name). One table for every
// HTTP reader of ours (the request parser, the IDS's request-line probe, lbg-proxy's head parser):
// header names are the bulk of the bytes they scan.

#include <array>
#include <cstdint>
#include <string_view>

namespace lbg::inspect {

inline constexpr std::array<bool, 256> kTchar = [] {
  std::array<bool, 256> t{};
  for (int c = '0'; c <= '9'; ++c) t[c] = true;
  for (int c = 'a'; c <= 'z'; ++c) t[c] = t[c - 32] = true;
  for (char c : std::string_view("!#$%&'*+-.^_`|~")) t[uint8_t(c)] = true;
  return t;
}();

inline bool isTchar(uint8_t c) { return kTchar[c]; }

}  // namespace lbg::inspect
