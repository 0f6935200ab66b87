#include "sanitizer/icap/http_rewrite.h"

#include <array>
#include <utility>
#include <vector>

namespace lbg::icap {
namespace {

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}

std::string percentDecode(std::string_view s) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// One parameter of a Content-Disposition value: where its value sits in the string.
struct Param {
  std::string name;                     // lower-case
  size_t valueBegin = 0, valueEnd = 0;  // inside the quotes if quoted
  bool quoted = false;
};

std::vector<Param> dispositionParams(std::string_view v) {
  std::vector<Param> out;
  size_t i = v.find(';');
  while (i != std::string_view::npos && i < v.size()) {
    ++i;
    while (i < v.size() && (v[i] == ' ' || v[i] == '\t')) ++i;
    const size_t nameBegin = i;
    while (i < v.size() && isTokenChar(v[i])) ++i;
    Param p;
    for (size_t k = nameBegin; k < i; ++k) p.name += lower(v[k]);
    while (i < v.size() && (v[i] == ' ' || v[i] == '\t')) ++i;
    if (i >= v.size() || v[i] != '=') {
      i = v.find(';', i);
      continue;
    }
    ++i;
    while (i < v.size() && (v[i] == ' ' || v[i] == '\t')) ++i;
    if (i < v.size() && v[i] == '"') {
      p.quoted = true;
      p.valueBegin = ++i;
      while (i < v.size() && v[i] != '"') {
        if (v[i] == '\\') ++i;
        ++i;
      }
      p.valueEnd = std::min(i, v.size());
      if (i < v.size()) ++i;
    } else {
      p.valueBegin = i;
      while (i < v.size() && v[i] != ';' && v[i] != ' ' && v[i] != '\t') ++i;
      p.valueEnd = i;
    }
    if (!p.name.empty()) out.push_back(p);
    i = v.find(';', i);
  }
  return out;
}

std::string unquote(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) ++i;
    out += s[i];
  }
  return out;
}

struct TypeInfo {
  std::string_view type, extension, contentType;
};
constexpr std::array<TypeInfo, 17> kTypes = {{
    {"docx", "docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
    {"xlsx", "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
    {"pptx", "pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"},
    {"pdf", "pdf", "application/pdf"},
    {"txt", "txt", "text/plain; charset=utf-8"},
    {"text", "txt", "text/plain; charset=utf-8"},
    {"csv", "csv", "text/csv; charset=utf-8"},
    {"png", "png", "image/png"},
    {"jpeg", "jpg", "image/jpeg"},
    {"jpg", "jpg", "image/jpeg"},
    {"gif", "gif", "image/gif"},
    {"zip", "zip", "application/zip"},
    {"rtf", "rtf", "application/rtf"},
    {"odt", "odt", "application/vnd.oasis.opendocument.text"},
    {"ods", "ods", "application/vnd.oasis.opendocument.spreadsheet"},
    {"odp", "odp", "application/vnd.oasis.opendocument.presentation"},
    {"xml", "xml", "application/xml"},
}};

const TypeInfo* typeInfo(std::string_view type) {
  for (const auto& t : kTypes) {
    if (equalsIgnoreCase(t.type, type)) return &t;
  }
  return nullptr;
}

// name.ext -> name.newExt; a name without a dot gets ".newExt".
std::string replaceExtension(std::string_view name, std::string_view ext) {
  const auto dot = name.rfind('.');
  const auto slash = name.find_last_of("/\\");
  std::string base(name);
  if (dot != std::string_view::npos && dot != 0 &&
      (slash == std::string_view::npos || dot > slash)) {
    base = std::string(name.substr(0, dot));
  }
  return base + "." + std::string(ext);
}

}  // namespace

std::string mediaType(std::string_view contentType) {
  const auto semi = contentType.find(';');
  std::string out;
  for (const char c : trimWhitespace(contentType.substr(0, semi))) out += lower(c);
  return out;
}

std::string dispositionFileName(std::string_view cd) {
  std::string plain;
  for (const auto& p : dispositionParams(cd)) {
    const auto value = cd.substr(p.valueBegin, p.valueEnd - p.valueBegin);
    if (p.name == "filename*") {
      // RFC 8187: charset'language'pct-encoded
      const auto q1 = value.find('\'');
      const auto q2 = q1 == std::string_view::npos ? q1 : value.find('\'', q1 + 1);
      if (q2 != std::string_view::npos) return percentDecode(value.substr(q2 + 1));
    } else if (p.name == "filename" && plain.empty()) {
      plain = p.quoted ? unquote(value) : std::string(value);
    }
  }
  return plain;
}

std::string rewriteDispositionExtension(std::string_view cd, std::string_view newExtension) {
  std::string out(cd);
  auto params = dispositionParams(cd);
  // Rewrite from the back so earlier offsets stay valid.
  for (auto it = params.rbegin(); it != params.rend(); ++it) {
    if (it->name != "filename" && it->name != "filename*") continue;
    const auto value = cd.substr(it->valueBegin, it->valueEnd - it->valueBegin);
    std::string replaced;
    if (it->name == "filename*") {
      const auto q1 = value.find('\'');
      const auto q2 = q1 == std::string_view::npos ? q1 : value.find('\'', q1 + 1);
      if (q2 == std::string_view::npos) continue;
      replaced = std::string(value.substr(0, q2 + 1)) +
                 replaceExtension(value.substr(q2 + 1), newExtension);
    } else {
      replaced = replaceExtension(value, newExtension);
    }
    out.replace(it->valueBegin, it->valueEnd - it->valueBegin, replaced);
  }
  return out;
}

std::string urlFileName(std::string_view url) {
  auto path = url.substr(0, url.find_first_of("?#"));
  const auto scheme = path.find("://");
  if (scheme != std::string_view::npos) {
    const auto slash = path.find('/', scheme + 3);
    path = slash == std::string_view::npos ? std::string_view() : path.substr(slash);
  }
  const auto last = path.rfind('/');
  return percentDecode(last == std::string_view::npos ? path : path.substr(last + 1));
}

std::string contentTypeFor(std::string_view type) {
  const auto* t = typeInfo(type);
  return t ? std::string(t->contentType) : std::string("application/octet-stream");
}

std::string extensionFor(std::string_view type) {
  const auto* t = typeInfo(type);
  return t ? std::string(t->extension) : std::string();
}

void dropRepresentationHeaders(HeaderList& headers) {
  // Validators and digests of the original would now lie about the body, and a range of the
  // sanitized body must not be stitched to ranges of the original.
  for (const std::string_view name :
       {"Content-Length", "Transfer-Encoding", "ETag", "Content-MD5", "Digest", "Content-Digest",
        "Repr-Digest", "Accept-Ranges", "Content-Range"}) {
    headers.remove(name);
  }
}

std::string htmlEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (const char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        // Control characters could confuse a viewer of the page; show them as U+FFFD.
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t') {
          out += "\xEF\xBF\xBD";
        } else {
          out += c;
        }
    }
  }
  return out;
}

}  // namespace lbg::icap
