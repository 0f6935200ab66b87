#include "sanitizer/icap/http_head.h"

#include <algorithm>

namespace lbg::icap {
namespace {

bool isHttpVersion(std::string_view v) {
  // "HTTP/" DIGIT "." DIGIT (RFC 9112 2.3).
  return v.size() == 8 && v.substr(0, 5) == "HTTP/" && v[5] >= '0' && v[5] <= '9' && v[6] == '.' &&
         v[7] >= '0' && v[7] <= '9';
}

// Splits the start line off a section and checks the section ends with the single empty line.
std::string splitSection(std::string_view section, std::string_view& startLine,
                         std::string_view& fields) {
  // The section must end with CRLF CRLF and contain no earlier empty line: an encapsulated
  // section that ends early or late means the Encapsulated offsets lie about the layout.
  if (section.size() < 4 || section.substr(section.size() - 4) != "\r\n\r\n") {
    return "encapsulated header section does not end with an empty line at its offset";
  }
  const auto firstEmpty = section.find("\r\n\r\n");
  if (firstEmpty != section.size() - 4) {
    return "encapsulated header section ends before the next Encapsulated offset";
  }
  const auto eol = section.find("\r\n");
  startLine = section.substr(0, eol);
  fields = section.substr(eol + 2);
  for (const char c : startLine) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return "control character in HTTP start line";
  }
  return {};
}

}  // namespace

std::string parseHttpRequestHead(std::string_view section, size_t maxHeaders,
                                 HttpRequestHead& out) {
  std::string_view start, fields;
  if (auto err = splitSection(section, start, fields); !err.empty()) return err;
  const auto sp1 = start.find(' ');
  const auto sp2 = sp1 == std::string_view::npos ? sp1 : start.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || start.find(' ', sp2 + 1) != std::string_view::npos) {
    return "malformed HTTP request line";
  }
  const auto method = start.substr(0, sp1);
  const auto target = start.substr(sp1 + 1, sp2 - sp1 - 1);
  const auto version = start.substr(sp2 + 1);
  if (!isToken(method) || target.empty() || !isHttpVersion(version)) {
    return "malformed HTTP request line";
  }
  out.method = std::string(method);
  out.target = std::string(target);
  out.version = std::string(version);
  return parseHeaderLines(fields, maxHeaders, out.headers);
}

std::string parseHttpResponseHead(std::string_view section, size_t maxHeaders,
                                  HttpResponseHead& out) {
  std::string_view start, fields;
  if (auto err = splitSection(section, start, fields); !err.empty()) return err;
  // status-line = HTTP-version SP 3DIGIT SP [reason-phrase]; some servers omit the last SP.
  if (start.size() < 12 || !isHttpVersion(start.substr(0, 8)) || start[8] != ' ') {
    return "malformed HTTP status line";
  }
  const auto code = start.substr(9, 3);
  if (!std::all_of(code.begin(), code.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
      code[0] < '1' || code[0] > '5') {
    return "malformed HTTP status code";
  }
  if (start.size() > 12 && start[12] != ' ') return "malformed HTTP status line";
  out.version = std::string(start.substr(0, 8));
  out.status = (code[0] - '0') * 100 + (code[1] - '0') * 10 + (code[2] - '0');
  out.reason = start.size() > 13 ? std::string(start.substr(13)) : std::string();
  return parseHeaderLines(fields, maxHeaders, out.headers);
}

std::string HttpRequestHead::serialize() const {
  std::string out = method + " " + target + " " + version + "\r\n";
  headers.serialize(out);
  out += "\r\n";
  return out;
}

std::string HttpRequestHead::host() const {
  if (const auto* h = headers.get("Host")) return *h;
  const auto scheme = target.find("://");
  if (scheme == std::string::npos) return {};
  const auto start = scheme + 3;
  const auto end = target.find_first_of("/?#", start);
  return target.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

std::string HttpRequestHead::url() const {
  if (target.find("://") != std::string::npos) return target;
  if (!target.empty() && target.front() == '/') {
    const auto h = host();
    if (!h.empty()) return "http://" + h + target;
  }
  return target;
}

std::string HttpResponseHead::serialize() const {
  std::string out = version + " " + std::to_string(status) + " " + reason + "\r\n";
  headers.serialize(out);
  out += "\r\n";
  return out;
}

}  // namespace lbg::icap
