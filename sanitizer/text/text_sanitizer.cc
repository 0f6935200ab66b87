#include "sanitizer/text/text_sanitizer.h"

#include <cctype>

namespace lbg::sanitizer::text {
namespace {

bool looksNumeric(std::string_view cell) {
  size_t i = 0;
  if (i < cell.size() && (cell[i] == '+' || cell[i] == '-')) ++i;
  bool digits = false;
  for (; i < cell.size(); ++i) {
    char c = cell[i];
    if (std::isdigit(static_cast<unsigned char>(c))) {
      digits = true;
    } else if (c != '.' && c != ',' && c != ' ') {
      return false;
    }
  }
  return digits;
}

bool dangerousCell(std::string_view cell) {
  size_t i = 0;
  // Leading blanks are ignored by spreadsheets before they look for a formula.
  while (i < cell.size() && (cell[i] == ' ' || cell[i] == '\t' || cell[i] == '\r')) ++i;
  if (i >= cell.size()) return false;
  char c = cell[i];
  if (c != '=' && c != '+' && c != '-' && c != '@') return false;
  return !looksNumeric(cell.substr(i));
}

}  // namespace

FormatResult sanitize(std::string_view input, const std::string& type) {
  FormatResult result;
  result.ok = true;
  result.outputType = type;
  if (type != "csv") {
    result.output.assign(input);
    return result;
  }
  std::string& out = result.output;
  out.reserve(input.size() + input.size() / 16);
  size_t i = 0;
  uint32_t neutralised = 0;
  while (i <= input.size()) {
    // One cell: [i, end). Quoted cells run to the closing quote ("" is an escaped quote).
    bool quoted = i < input.size() && input[i] == '"';
    size_t end = i;
    if (quoted) {
      end = i + 1;
      while (end < input.size()) {
        if (input[end] == '"') {
          if (end + 1 < input.size() && input[end + 1] == '"') {
            end += 2;
            continue;
          }
          ++end;
          break;
        }
        ++end;
      }
      while (end < input.size() && input[end] != ',' && input[end] != '\n') ++end;
    } else {
      while (end < input.size() && input[end] != ',' && input[end] != '\n') ++end;
    }
    std::string_view cell = input.substr(i, end - i);
    std::string_view content = quoted ? cell.substr(1) : cell;
    if (dangerousCell(content)) {
      ++neutralised;
      if (quoted) {
        out += "\"'";
        out.append(cell.substr(1));
      } else {
        out += '\'';
        out.append(cell);
      }
    } else {
      out.append(cell);
    }
    if (end >= input.size()) break;
    out += input[end];  // the separator or newline
    i = end + 1;
  }
  if (neutralised > 0) addRemoved(result.removed, "formula-injection", "csv cells", neutralised);
  return result;
}

}  // namespace lbg::sanitizer::text
