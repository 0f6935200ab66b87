#include "sanitizer/icap/multipart.h"

#include "sanitizer/icap/http_rewrite.h"

namespace lbg::icap {
namespace {

bool isBchar(char c) {
  // RFC 2046 5.1.1: DIGIT / ALPHA / "'" / "(" / ")" / "+" / "_" / "," / "-" / "." / "/" / ":" /
  // "=" / "?" and space (not last).
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  switch (c) {
    case '\'':
    case '(':
    case ')':
    case '+':
    case '_':
    case ',':
    case '-':
    case '.':
    case '/':
    case ':':
    case '=':
    case '?':
    case ' ':
      return true;
    default:
      return false;
  }
}

// After a delimiter: optional transport padding (SP / HTAB) then CRLF. Returns the bytes used, 0
// if malformed.
size_t skipPaddingAndCrlf(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
  if (s.substr(i, 2) != "\r\n") return 0;
  return i + 2;
}

}  // namespace

std::string multipartBoundary(std::string_view contentType) {
  const auto semi = contentType.find(';');
  if (semi == std::string_view::npos) return {};
  std::string_view rest = contentType.substr(semi + 1);
  while (!rest.empty()) {
    rest = trimWhitespace(rest);
    const auto eq = rest.find('=');
    if (eq == std::string_view::npos) return {};
    const auto name = trimWhitespace(rest.substr(0, eq));
    rest = trimWhitespace(rest.substr(eq + 1));
    std::string value;
    if (!rest.empty() && rest.front() == '"') {
      const auto close = rest.find('"', 1);
      if (close == std::string_view::npos) return {};
      value = std::string(rest.substr(1, close - 1));
      rest = rest.substr(close + 1);
      const auto next = rest.find(';');
      rest = next == std::string_view::npos ? std::string_view() : rest.substr(next + 1);
    } else {
      const auto next = rest.find(';');
      value = std::string(trimWhitespace(rest.substr(0, next)));
      rest = next == std::string_view::npos ? std::string_view() : rest.substr(next + 1);
    }
    if (equalsIgnoreCase(name, "boundary")) {
      if (value.empty() || value.size() > 70 || value.back() == ' ') return {};
      for (const char c : value) {
        if (!isBchar(c)) return {};
      }
      return value;
    }
  }
  return {};
}

std::string parseMultipart(std::string_view body, std::string_view boundary, size_t maxParts,
                           size_t maxHeaders, std::vector<MultipartPart>& out) {
  out.clear();
  const std::string dash = "--" + std::string(boundary);
  const std::string delimiter = "\r\n" + dash;
  // The first delimiter may open the body directly; anything before it is preamble (dropped).
  size_t pos;
  if (body.substr(0, dash.size()) == dash) {
    pos = dash.size();
  } else {
    const auto first = body.find(delimiter);
    if (first == std::string_view::npos) return "multipart body without its boundary";
    pos = first + delimiter.size();
  }
  while (true) {
    if (body.substr(pos, 2) == "--") return {};  // close delimiter; epilogue dropped
    const auto pad = skipPaddingAndCrlf(body.substr(pos));
    if (pad == 0) return "malformed multipart delimiter line";
    pos += pad;
    const auto next = body.find(delimiter, pos);
    if (next == std::string_view::npos) return "multipart body not closed";
    const auto part = body.substr(pos, next - pos);
    if (out.size() >= maxParts) return "too many multipart parts";
    MultipartPart p;
    // Part headers end at the first empty line; a part may have no headers at all.
    size_t headerEnd;
    if (part.substr(0, 2) == "\r\n") {
      headerEnd = 2;
    } else {
      const auto e = part.find("\r\n\r\n");
      if (e == std::string_view::npos) return "multipart part without header end";
      headerEnd = e + 4;
      if (auto err = parseHeaderLines(part.substr(0, headerEnd), maxHeaders, p.headers);
          !err.empty()) {
        return "multipart part: " + err;
      }
    }
    p.body = std::string(part.substr(headerEnd));
    out.push_back(std::move(p));
    pos = next + delimiter.size();
  }
}

std::string serializeMultipart(const std::vector<MultipartPart>& parts, std::string_view boundary) {
  std::string out;
  for (const auto& p : parts) {
    out += "--";
    out += boundary;
    out += "\r\n";
    p.headers.serialize(out);
    out += "\r\n";
    out += p.body;
    out += "\r\n";
  }
  out += "--";
  out += boundary;
  out += "--\r\n";
  return out;
}

bool isFilePart(const MultipartPart& part) {
  const auto* cd = part.headers.get("Content-Disposition");
  if (cd == nullptr) return false;
  // dispositionFileName() returns empty for filename="" too; look for the parameter itself.
  std::string lower;
  for (const char c : *cd) lower += (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
  for (size_t at = lower.find("filename"); at != std::string::npos;
       at = lower.find("filename", at + 1)) {
    // Must be a parameter name: preceded by ';' (and whitespace), followed by '=' or '*='.
    size_t before = at;
    while (before > 0 && (lower[before - 1] == ' ' || lower[before - 1] == '\t')) --before;
    if (before == 0 || lower[before - 1] != ';') continue;
    size_t after = at + 8;
    if (after < lower.size() && lower[after] == '*') ++after;
    while (after < lower.size() && (lower[after] == ' ' || lower[after] == '\t')) ++after;
    if (after < lower.size() && lower[after] == '=') return true;
  }
  return false;
}

}  // namespace lbg::icap
