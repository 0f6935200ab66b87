#include "sanitizer/core/cfb.h"

#include <cstdint>

namespace lbg::sanitizer {

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
