#pragma once

// Hex data as PDF writes it: a hex string's body (ISO 32000-1 §7.3.4.3) and ASCIIHexDecode data
// (§7.4.2). Pairs of hex digits are bytes, white space is skipped, an odd count gets a trailing
// 0 digit, and '>' ends the data. Any other character refuses the whole (false). Header-only so
// that the fuzz targets built from a few sources take it along.

#include <string>
#include <string_view>

namespace lbg::sanitizer::pdf {

inline bool decodePdfHex(std::string_view in, std::string* out) {
  int high = -1;
  for (char c : in) {
    if (c == '>') break;
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' || c == '\0') continue;
    const int v = c >= '0' && c <= '9'   ? c - '0'
                  : c >= 'a' && c <= 'f' ? c - 'a' + 10
                  : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                         : -1;
    if (v < 0) return false;
    if (high < 0) {
      high = v;
    } else {
      out->push_back(static_cast<char>(high << 4 | v));
      high = -1;
    }
  }
  if (high >= 0) out->push_back(static_cast<char>(high << 4));
  return true;
}

}  // namespace lbg::sanitizer::pdf
