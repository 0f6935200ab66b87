#pragma once

// Rules every archive format (ZIP, LZH) applies the same way: which member names are safe to write
// into a new archive, and when a member's expansion is a bomb.

#include <cstdint>
#include <string_view>

namespace lbg::sanitizer {

// Ratios are only judged above this size: small XML parts of zeros or spaces legitimately compress
// 1000:1, and a bomb needs bulk to hurt. The expansion budget bounds everything below it.
constexpr uint64_t kRatioFloorBytes = 1 << 20;

inline bool ratioExceeded(uint64_t expanded, uint64_t compressed, double maxRatio) {
  if (expanded <= kRatioFloorBytes) return false;
  if (compressed == 0) return true;
  return static_cast<double>(expanded) / static_cast<double>(compressed) > maxRatio;
}

// Member names become paths when the user extracts: no absolute paths, no "..", no drive letters
// or backslashes (zip-slip), no control characters.
inline bool safeMemberName(std::string_view name) {
  if (name.empty() || name.front() == '/' || name.find('\\') != std::string_view::npos ||
      name.find(':') != std::string_view::npos) {
    return false;
  }
  for (char c : name) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) return false;
  }
  size_t start = 0;
  for (;;) {
    size_t slash = name.find('/', start);
    std::string_view seg = name.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (seg == "..") return false;
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return true;
}

}  // namespace lbg::sanitizer
