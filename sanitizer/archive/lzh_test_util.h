#pragma once

// Test-only LZH writer. No Debian tool writes LZH (lha is non-free, lhasa only extracts), so tests
// build archives here: level 0, 1 and 2 headers around member data that is either stored (-lh0-)
// or a real -lh5- stream made of single-code Huffman blocks (each block repeats one code, which
// is enough to encode any text one byte per block, or a 256-byte copy command many times: a bomb).

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

namespace lbg::sanitizer::testing {

inline uint16_t lzhCrc16(const std::string& data) {
  uint16_t crc = 0;
  for (unsigned char b : data) {
    crc ^= b;
    for (int k = 0; k < 8; ++k) crc = (crc & 1) ? static_cast<uint16_t>((crc >> 1) ^ 0xA001) : static_cast<uint16_t>(crc >> 1);
  }
  return crc;
}

class BitWriter {
 public:
  void put(uint32_t value, int bits) {
    for (int i = bits - 1; i >= 0; --i) {
      current_ = static_cast<uint8_t>((current_ << 1) | ((value >> i) & 1));
      if (++used_ == 8) {
        out_.push_back(static_cast<char>(current_));
        current_ = 0;
        used_ = 0;
      }
    }
  }
  std::string finish() {
    if (used_ > 0) put(0, 8 - used_);
    return out_;
  }

 private:
  std::string out_;
  uint8_t current_ = 0;
  int used_ = 0;
};

// One -lh5- block of `commands` repetitions of the single code `code` (a literal below 256, a
// copy of code-253 bytes at offset 0 from 256 on).
inline void lh5Block(BitWriter& w, uint16_t commands, uint16_t code) {
  w.put(commands, 16);
  w.put(0, 5);  // temp table: single code
  w.put(0, 5);
  w.put(0, 9);  // code table: single code
  w.put(code, 9);
  w.put(0, 4);  // offset table: single code, offset 0
  w.put(0, 4);
}

inline std::string lh5Text(const std::string& text) {
  BitWriter w;
  for (unsigned char c : text) lh5Block(w, 1, c);
  return w.finish();
}

// `blocks` x 65535 copies of 256 bytes: the ring buffer starts filled with spaces, so this decodes
// to blocks * 16776960 spaces from 7 bytes per block.
inline std::string lh5Spaces(int blocks, std::string* plain) {
  BitWriter w;
  for (int i = 0; i < blocks; ++i) lh5Block(w, 65535, 509);
  plain->assign(static_cast<size_t>(blocks) * 65535 * 256, ' ');
  return w.finish();
}

struct LzhMember {
  std::string name;             // raw bytes (Shift_JIS allowed); '/' or '\\' as separator
  std::string plain;            // the member's content
  std::string method = "-lh0-";
  std::string packed;           // compressed bytes for other methods (defaults to plain for -lh0-)
  int level = 0;
};

inline void putLe(std::string& s, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

inline std::string lzhHeader(const LzhMember& m) {
  const std::string& data = m.method == "-lh0-" && m.packed.empty() ? m.plain : m.packed;
  uint16_t crc = lzhCrc16(m.plain);
  std::string h;
  if (m.level == 0 || m.level == 1) {
    std::string body = m.method;
    putLe(body, data.size(), 4);
    putLe(body, m.plain.size(), 4);
    putLe(body, 0x21210000, 4);  // DOS time 1996-09-01
    body.push_back(0x20);
    body.push_back(static_cast<char>(m.level));
    body.push_back(static_cast<char>(m.name.size()));
    body += m.name;
    putLe(body, crc, 2);
    if (m.level == 1) {
      body.push_back('M');
      putLe(body, 0, 2);  // no extended headers
    }
    unsigned sum = 0;
    for (unsigned char c : body) sum += c;
    h.push_back(static_cast<char>(body.size()));
    h.push_back(static_cast<char>(sum & 0xFF));
    h += body;
  } else {
    std::string body = m.method;
    putLe(body, data.size(), 4);
    putLe(body, m.plain.size(), 4);
    putLe(body, 820454400, 4);  // Unix time
    body.push_back(0x20);
    body.push_back(2);
    putLe(body, crc, 2);
    body.push_back('U');
    // Level 2 keeps the directory in its own extended header (0x02) with 0xFF as separator.
    std::string dir, file = m.name;
    size_t sep = m.name.find_last_of('\\');
    if (sep != std::string::npos) {
      dir = m.name.substr(0, sep + 1);
      file = m.name.substr(sep + 1);
      std::replace(dir.begin(), dir.end(), '\\', '\xFF');
    }
    putLe(body, 3 + file.size(), 2);  // filename extended header follows
    body.push_back(0x01);
    body += file;
    if (!dir.empty()) {
      putLe(body, 3 + dir.size(), 2);
      body.push_back(0x02);
      body += dir;
    }
    putLe(body, 0, 2);
    putLe(h, body.size() + 2, 2);
    h += body;
  }
  return h + data;
}

inline std::string makeLzh(const std::vector<LzhMember>& members) {
  std::string out;
  for (const auto& m : members) out += lzhHeader(m);
  out.push_back('\0');
  return out;
}

}  // namespace lbg::sanitizer::testing
