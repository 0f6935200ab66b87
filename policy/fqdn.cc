#include "policy/fqdn.h"

namespace lbg::policy {

namespace {

char lowerAscii(char c) {
  return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c;
}

bool labelChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

}  // namespace

size_t normalizeFqdnInto(std::string_view name, char* out) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  if (name.empty() || name.size() > kMaxFqdnLength) return 0;
  size_t labelStart = 0;
  bool labelAllDigits = true;
  for (size_t i = 0; i <= name.size(); ++i) {
    if (i == name.size() || name[i] == '.') {
      const size_t len = i - labelStart;
      if (len == 0 || len > kMaxLabelLength) return 0;
      if (out[labelStart] == '-' || out[i - 1] == '-') return 0;
      if (i == name.size()) {
        if (labelAllDigits) return 0;
        break;
      }
      out[i] = '.';
      labelStart = i + 1;
      labelAllDigits = true;
      continue;
    }
    const char c = lowerAscii(name[i]);
    if (!labelChar(c)) return 0;  // also rejects NUL, '*', spaces, bytes >= 0x80
    if (c < '0' || c > '9') labelAllDigits = false;
    out[i] = c;
  }
  return name.size();
}

std::optional<std::string> normalizeFqdn(std::string_view name) {
  char buf[kMaxFqdnLength];
  const size_t n = normalizeFqdnInto(name, buf);
  if (n == 0) return std::nullopt;
  return std::string(buf, n);
}

std::optional<std::string> normalizeFqdnPattern(std::string_view pattern) {
  if (pattern.size() < 2 || pattern[0] != '*' || pattern[1] != '.') return normalizeFqdn(pattern);
  auto base = normalizeFqdn(pattern.substr(2));
  // "*.com" would allow a whole top-level domain; demand a registrable-looking base.
  if (!base || base->find('.') == std::string::npos) return std::nullopt;
  // The full pattern must still fit the length limit of the names it stands for.
  if (base->size() + 2 > kMaxFqdnLength) return std::nullopt;
  return "*." + *base;
}

bool fqdnPatternMatches(std::string_view pattern, std::string_view normalizedName) {
  if (pattern.size() >= 2 && pattern[0] == '*' && pattern[1] == '.') {
    const std::string_view suffix = pattern.substr(1);  // ".example.com"
    return normalizedName.size() > suffix.size() &&
           normalizedName.substr(normalizedName.size() - suffix.size()) == suffix;
  }
  return pattern == normalizedName;
}

}  // namespace lbg::policy
