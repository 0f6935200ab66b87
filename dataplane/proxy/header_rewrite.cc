#include "dataplane/proxy/header_rewrite.h"

namespace lbg::proxy {

bool rewriteRequestHead(const HttpHead& head, std::span<const std::pair<std::string, std::string>> set,
                        std::string& out) {
  return rewriteRequestHead(head, set, {}, out);
}

bool rewriteRequestHead(const HttpHead& head, std::span<const std::pair<std::string, std::string>> set,
                        std::span<const std::string> drop, std::string& out) {
  out.clear();
  size_t fields = set.size();
  out.reserve(head.headBytes + 256);
  out.append(head.method).append(" ").append(head.target);
  out.append(head.minorVersion == 1 ? " HTTP/1.1\r\n" : " HTTP/1.0\r\n");
  for (size_t i = 0; i < head.fieldCount; ++i) {
    const HeaderField& f = head.fields[i];
    bool replaced = false;
    for (const auto& [name, value] : set) replaced = replaced || equalsIgnoreCase(f.name, name);
    for (const std::string& name : drop) replaced = replaced || equalsIgnoreCase(f.name, name);
    if (replaced) continue;
    ++fields;
    out.append(f.name).append(": ");
    for (char c : f.value) out.push_back(c == '\r' || c == '\n' ? ' ' : c);
    out.append("\r\n");
  }
  for (const auto& [name, value] : set) out.append(name).append(": ").append(value).append("\r\n");
  out.append("\r\n");
  return fields <= HttpHead::kMaxFields && out.size() <= HttpHead::kMaxBytes;
}

}  // namespace lbg::proxy
