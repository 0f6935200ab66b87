#include "sanitizer/pdf/tounicode_cmap.h"

#include <algorithm>
#include <cstdio>
#include <vector>

#include "sanitizer/pdf/content_stream.h"
#include "sanitizer/pdf/pdf_hex.h"

namespace lbg::sanitizer::pdf {
namespace {

constexpr size_t kMaxMappings = 65536;
constexpr size_t kMaxRanges = 256;
constexpr size_t kMaxDestination = 64;

// Bytes of a hex-string token ("<0041>"); an odd digit count gets a trailing 0 (§7.3.4.3).
bool hexBytes(const Token& t, std::string* out) {
  if (t.type != TokenType::HexString) return false;
  out->clear();
  return decodePdfHex(t.text.substr(1, t.text.size() - 2), out);
}

bool codeOk(const std::string& code) { return !code.empty() && code.size() <= 4; }
bool destinationOk(const std::string& d) { return d.size() >= 2 && d.size() <= kMaxDestination && d.size() % 2 == 0; }

std::string hex(const std::string& bytes) {
  std::string out = "<";
  char buf[3];
  for (unsigned char c : bytes) {
    std::snprintf(buf, sizeof buf, "%02X", c);
    out += buf;
  }
  return out + ">";
}

struct Section {
  const char* name;  // "codespacerange", "bfchar", "bfrange"
  std::vector<std::string> lines;
};

void emit(std::string* out, const Section& s) {
  for (size_t i = 0; i < s.lines.size(); i += 100) {
    const size_t n = std::min<size_t>(100, s.lines.size() - i);
    *out += std::to_string(n) + " begin" + s.name + "\n";
    for (size_t j = i; j < i + n; ++j) *out += s.lines[j] + "\n";
    *out += std::string("end") + s.name + "\n";
  }
}

}  // namespace

bool rebuildToUnicode(const std::string& cmap, std::string* out) {
  ContentTokenizer tokens(cmap);
  Section space{"codespacerange", {}}, chars{"bfchar", {}}, ranges{"bfrange", {}};
  std::vector<Token> operands;  // tokens since the section opened
  enum { None, Space, Char, Range } section = None;
  size_t mappings = 0;
  Token t;
  while (tokens.next(&t)) {
    if (t.type != TokenType::Keyword) {
      if (section != None && operands.size() < 4 * kMaxMappings) operands.push_back(t);
      continue;
    }
    if (t.text == "begincodespacerange") section = Space, operands.clear();
    if (t.text == "beginbfchar") section = Char, operands.clear();
    if (t.text == "beginbfrange") section = Range, operands.clear();
    if (t.text == "endcodespacerange" && section == Space) {
      std::string lo, hi;
      for (size_t i = 0; i + 1 < operands.size() && space.lines.size() < kMaxRanges; i += 2) {
        if (hexBytes(operands[i], &lo) && hexBytes(operands[i + 1], &hi) && codeOk(lo) && lo.size() == hi.size()) {
          space.lines.push_back(hex(lo) + " " + hex(hi));
        }
      }
      section = None;
    }
    if (t.text == "endbfchar" && section == Char) {
      std::string code, dest;
      for (size_t i = 0; i + 1 < operands.size() && mappings < kMaxMappings; i += 2) {
        if (hexBytes(operands[i], &code) && hexBytes(operands[i + 1], &dest) && codeOk(code) && destinationOk(dest)) {
          chars.lines.push_back(hex(code) + " " + hex(dest));
          ++mappings;
        }
      }
      section = None;
    }
    if (t.text == "endbfrange" && section == Range) {
      // lo hi <dest> | lo hi [<d1> <d2> ...]
      size_t i = 0;
      std::string lo, hi, dest;
      while (i + 2 < operands.size() && mappings < kMaxMappings) {
        const bool codes = hexBytes(operands[i], &lo) && hexBytes(operands[i + 1], &hi) && codeOk(lo) &&
                           lo.size() == hi.size() && lo.substr(0, lo.size() - 1) == hi.substr(0, hi.size() - 1) &&
                           static_cast<unsigned char>(lo.back()) <= static_cast<unsigned char>(hi.back());
        if (operands[i + 2].type == TokenType::ArrayOpen) {
          std::string line = "[";
          size_t j = i + 3;
          bool ok = codes;
          for (; j < operands.size() && operands[j].type != TokenType::ArrayClose; ++j) {
            ok = ok && hexBytes(operands[j], &dest) && destinationOk(dest);
            if (ok) line += hex(dest) + " ";
          }
          if (j >= operands.size()) return false;  // unterminated array: the CMap is broken
          if (ok && codes && j - (i + 3) == static_cast<size_t>(static_cast<unsigned char>(hi.back()) -
                                                                   static_cast<unsigned char>(lo.back()) + 1)) {
            line.back() = ']';
            ranges.lines.push_back(hex(lo) + " " + hex(hi) + " " + line);
            ++mappings;
          }
          i = j + 1;
          continue;
        }
        if (codes && hexBytes(operands[i + 2], &dest) && destinationOk(dest)) {
          ranges.lines.push_back(hex(lo) + " " + hex(hi) + " " + hex(dest));
          ++mappings;
        }
        i += 3;
      }
      section = None;
    }
  }
  if (!tokens.error().empty() || mappings == 0) return false;
  if (space.lines.empty()) {
    // Without a codespace readers guess: state the one the mappings use (all codes one length).
    const std::string& first = chars.lines.empty() ? ranges.lines.front() : chars.lines.front();
    const size_t bytes = (first.find('>') - 1) / 2;
    space.lines.push_back(hex(std::string(bytes, '\0')) + " " + hex(std::string(bytes, '\xff')));
  }
  *out =
      "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
      "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
      "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n";
  emit(out, space);
  emit(out, chars);
  emit(out, ranges);
  *out += "endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n";
  return true;
}

}  // namespace lbg::sanitizer::pdf
