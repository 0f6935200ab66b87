#include "sanitizer/core/cfb.h"

#include <cstdint>
#include <string>

namespace lbg::sanitizer {
namespace {

uint32_t le(std::string_view b, size_t at, size_t n) {
  uint32_t v = 0;
  for (size_t i = 0; i < n; ++i) v |= static_cast<uint32_t>(static_cast<uint8_t>(b[at + i])) << (8 * i);
  return v;
}

// The first bytes of the named stream when it starts in a regular sector, else "".
std::string_view streamHead(std::string_view bytes, std::string_view name, size_t want) {
  uint32_t shift = le(bytes, 0x1E, 2);
  if (shift != 9 && shift != 12) return {};
  uint32_t cutoff = le(bytes, 0x38, 4);
  constexpr size_t kEntry = 128;
  for (size_t off = 512; off + kEntry <= bytes.size(); off += kEntry) {
    uint16_t nameLen = static_cast<uint16_t>(le(bytes, off + 0x40, 2));
    if (nameLen != (name.size() + 1) * 2 || le(bytes, off + 0x42, 1) != 2) continue;
    bool same = true;
    for (size_t c = 0; c < name.size() && same; ++c) same = le(bytes, off + 2 * c, 2) == static_cast<uint8_t>(name[c]);
    if (!same) continue;
    uint64_t start = le(bytes, off + 0x74, 4), size = le(bytes, off + 0x78, 4);
    if (size < cutoff || size < want) return {};
    uint64_t at = (start + 1) << shift;
    if (at + want > bytes.size()) return {};
    return bytes.substr(at, want);
  }
  return {};
}

}  // namespace

bool cfbLegacyEncrypted(std::string_view bytes) {
  if (!isCfb(bytes)) return false;
  auto names = cfbEntryNames(bytes);
  if (names.count("EncryptedSummary")) return true;
  // FibBase: wIdent 0xA5EC, then the flags word at offset 10 with fEncrypted = 0x0100.
  std::string_view fib = streamHead(bytes, "WordDocument", 12);
  if (fib.size() == 12 && le(fib, 0, 2) == 0xA5EC && (le(fib, 10, 2) & 0x0100) != 0) return true;
  // BIFF8: BOF (0x0809), then FILEPASS (0x002F) as the next record when the workbook is encrypted.
  std::string_view book = streamHead(bytes, "Workbook", 64);
  if (book.empty()) book = streamHead(bytes, "Book", 64);
  if (book.size() == 64 && le(book, 0, 2) == 0x0809) {
    size_t next = 4 + le(book, 2, 2);
    if (next + 2 <= book.size() && le(book, next, 2) == 0x002F) return true;
  }
  return false;
}

std::set<std::string> cfbEntryNames(std::string_view bytes) {
  std::set<std::string> names;
  if (!isCfb(bytes)) return names;
  // A directory entry: 64 bytes of UTF-16LE name, u16 name length in bytes (with the NUL), u8
  // object type (1 storage, 2 stream, 5 root), u8 colour (0 red, 1 black).
  constexpr size_t kEntry = 128;
  constexpr size_t kMaxNames = 4096;
  for (size_t off = 512; off + kEntry <= bytes.size() && names.size() < kMaxNames; off += kEntry) {
    auto u8 = [&](size_t i) { return static_cast<uint8_t>(bytes[off + i]); };
    uint16_t nameLen = static_cast<uint16_t>(u8(0x40) | (u8(0x41) << 8));
    uint8_t type = u8(0x42);
    uint8_t colour = u8(0x43);
    if (nameLen < 4 || nameLen > 64 || (nameLen & 1) != 0) continue;
    if (type != 1 && type != 2 && type != 5) continue;
    if (colour > 1) continue;
    size_t chars = nameLen / 2 - 1;
    if (u8(chars * 2) != 0 || u8(chars * 2 + 1) != 0) continue;  // NUL terminator where it says
    std::string name;
    bool plausible = true;
    for (size_t c = 0; c < chars; ++c) {
      uint16_t ch = static_cast<uint16_t>(u8(2 * c) | (u8(2 * c + 1) << 8));
      if (ch == 0) {
        plausible = false;
        break;
      }
      name.push_back(ch < 0x80 ? static_cast<char>(ch) : '?');
    }
    if (plausible) names.insert(std::move(name));
  }
  return names;
}

}  // namespace lbg::sanitizer
