#include "sanitizer/icap/header_list.h"

#include <algorithm>

namespace lbg::icap {
namespace {

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + ('a' - 'A')) : c;
}

}  // namespace

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

bool isTokenChar(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u >= '0' && u <= '9') return true;
  if ((u | 0x20) >= 'a' && (u | 0x20) <= 'z') return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
      return true;
    default:
      return false;
  }
}

bool isToken(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), isTokenChar);
}

std::string_view trimWhitespace(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

void HeaderList::add(std::string name, std::string value) {
  fields_.push_back(HeaderField{std::move(name), std::move(value)});
}

const std::string* HeaderList::get(std::string_view name) const {
  for (const auto& f : fields_) {
    if (equalsIgnoreCase(f.name, name)) return &f.value;
  }
  return nullptr;
}

size_t HeaderList::count(std::string_view name) const {
  return static_cast<size_t>(
      std::count_if(fields_.begin(), fields_.end(),
                    [&](const HeaderField& f) { return equalsIgnoreCase(f.name, name); }));
}

size_t HeaderList::remove(std::string_view name) {
  const auto before = fields_.size();
  fields_.erase(
      std::remove_if(fields_.begin(), fields_.end(),
                     [&](const HeaderField& f) { return equalsIgnoreCase(f.name, name); }),
      fields_.end());
  return before - fields_.size();
}

void HeaderList::set(std::string_view name, std::string value) {
  auto first = std::find_if(fields_.begin(), fields_.end(),
                            [&](const HeaderField& f) { return equalsIgnoreCase(f.name, name); });
  if (first == fields_.end()) {
    fields_.push_back(HeaderField{std::string(name), std::move(value)});
    return;
  }
  first->value = std::move(value);
  const auto keep = static_cast<size_t>(first - fields_.begin());
  size_t i = 0;
  fields_.erase(std::remove_if(fields_.begin(), fields_.end(),
                               [&](const HeaderField& f) {
                                 const bool drop = i != keep && equalsIgnoreCase(f.name, name);
                                 ++i;
                                 return drop;
                               }),
                fields_.end());
}

bool HeaderList::hasListElement(std::string_view name, std::string_view element) const {
  for (const auto& f : fields_) {
    if (!equalsIgnoreCase(f.name, name)) continue;
    std::string_view rest = f.value;
    while (!rest.empty()) {
      const auto comma = rest.find(',');
      const auto item = trimWhitespace(rest.substr(0, comma));
      if (equalsIgnoreCase(item, element)) return true;
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  return false;
}

void HeaderList::serialize(std::string& out) const {
  for (const auto& f : fields_) {
    out += f.name;
    out += ": ";
    out += f.value;
    out += "\r\n";
  }
}

std::string parseHeaderLines(std::string_view block, size_t maxHeaders, HeaderList& out) {
  while (true) {
    const auto eol = block.find("\r\n");
    if (eol == std::string_view::npos) return "header block not terminated by CRLF";
    const auto line = block.substr(0, eol);
    block.remove_prefix(eol + 2);
    if (line.empty()) {
      if (!block.empty()) return "data after the end of the header block";
      return {};
    }
    if (line.front() == ' ' || line.front() == '\t') return "obsolete header line folding";
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) return "header line without colon";
    const auto name = line.substr(0, colon);
    if (!isToken(name)) return "invalid header field name";
    const auto value = trimWhitespace(line.substr(colon + 1));
    for (const char c : value) {
      const auto u = static_cast<unsigned char>(c);
      // Visible characters, SP, HTAB and obs-text; CR, LF, NUL and other controls are not.
      if ((u < 0x20 && c != '\t') || u == 0x7f) return "control character in header value";
    }
    if (out.size() >= maxHeaders) return "too many header fields";
    out.add(std::string(name), std::string(value));
  }
}

}  // namespace lbg::icap
