#include "sanitizer/icap/icap_request.h"

#include <charconv>

namespace lbg::icap {
namespace {

constexpr std::string_view kCrlfCrlf = "\r\n\r\n";

bool parseDecimal(std::string_view s, uint64_t& out) {
  // Digits only: no sign, no spaces, no hex; at most 18 digits so it cannot overflow.
  if (s.empty() || s.size() > 18) return false;
  for (const char c : s) {
    if (c < '0' || c > '9') return false;
  }
  const auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

std::optional<Part> partFromName(std::string_view name) {
  if (name == "req-hdr") return Part::ReqHdr;
  if (name == "res-hdr") return Part::ResHdr;
  if (name == "req-body") return Part::ReqBody;
  if (name == "res-body") return Part::ResBody;
  if (name == "null-body") return Part::NullBody;
  if (name == "opt-body") return Part::OptBody;
  return std::nullopt;
}

bool isBodyPart(Part p) {
  return p == Part::ReqBody || p == Part::ResBody || p == Part::NullBody || p == Part::OptBody;
}

// Rank of a part in the order RFC 3507 4.4.1 fixes: req-hdr, res-hdr, then the body.
int rank(Part p) {
  switch (p) {
    case Part::ReqHdr:
      return 0;
    case Part::ResHdr:
      return 1;
    default:
      return 2;
  }
}

bool allowedFor(Method m, Part p) {
  switch (m) {
    case Method::Reqmod:
      return p == Part::ReqHdr || p == Part::ReqBody || p == Part::NullBody;
    case Method::Respmod:
      return p == Part::ReqHdr || p == Part::ResHdr || p == Part::ResBody || p == Part::NullBody;
    case Method::Options:
      return p == Part::OptBody || p == Part::NullBody;
  }
  return false;
}

std::optional<Method> methodFromToken(std::string_view t) {
  // ICAP methods are case-sensitive like HTTP's.
  if (t == "OPTIONS") return Method::Options;
  if (t == "REQMOD") return Method::Reqmod;
  if (t == "RESPMOD") return Method::Respmod;
  return std::nullopt;
}

HeadResult fail(Status s, std::string message) {
  HeadResult r;
  r.status = ParseStatus::Error;
  r.error = ParseError{s, std::move(message)};
  return r;
}

// icap://authority/path[?query] -> service name (path without '/').
std::string parseServiceFromUri(std::string_view uri, std::string& error) {
  constexpr std::string_view kScheme = "icap://";
  if (uri.size() <= kScheme.size() || !equalsIgnoreCase(uri.substr(0, kScheme.size()), kScheme)) {
    error = "ICAP URI must be icap://host[:port]/service";
    return {};
  }
  for (const char c : uri) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f) {
      error = "invalid character in ICAP URI";
      return {};
    }
  }
  auto rest = uri.substr(kScheme.size());
  const auto slash = rest.find('/');
  const auto authority = rest.substr(0, slash);
  if (authority.empty() || authority.find_first_of("@?#") != std::string_view::npos) {
    error = "invalid authority in ICAP URI";
    return {};
  }
  if (slash == std::string_view::npos) return {};  // no path: no service (404)
  auto path = rest.substr(slash + 1);
  const auto q = path.find_first_of("?#");
  return std::string(path.substr(0, q));
}

}  // namespace

std::string_view methodName(Method m) {
  switch (m) {
    case Method::Options:
      return "OPTIONS";
    case Method::Reqmod:
      return "REQMOD";
    case Method::Respmod:
      return "RESPMOD";
  }
  return "?";
}

std::string_view partName(Part p) {
  switch (p) {
    case Part::ReqHdr:
      return "req-hdr";
    case Part::ResHdr:
      return "res-hdr";
    case Part::ReqBody:
      return "req-body";
    case Part::ResBody:
      return "res-body";
    case Part::NullBody:
      return "null-body";
    case Part::OptBody:
      return "opt-body";
  }
  return "?";
}

bool Encapsulated::has(Part p) const {
  for (const auto& e : entries) {
    if (e.part == p) return true;
  }
  return false;
}

uint64_t Encapsulated::offsetOf(Part p) const {
  for (const auto& e : entries) {
    if (e.part == p) return e.offset;
  }
  return 0;
}

std::string parseEncapsulated(std::string_view value, Method method, uint64_t maxHeaderBytes,
                              Encapsulated& out) {
  out.entries.clear();
  std::string_view rest = value;
  while (true) {
    const auto comma = rest.find(',');
    const auto item = trimWhitespace(rest.substr(0, comma));
    const auto eq = item.find('=');
    if (eq == std::string_view::npos) return "Encapsulated entry without '='";
    const auto part = partFromName(item.substr(0, eq));
    if (!part) return "unknown Encapsulated entry '" + std::string(item.substr(0, eq)) + "'";
    uint64_t offset = 0;
    if (!parseDecimal(item.substr(eq + 1), offset)) return "invalid Encapsulated offset";
    if (!allowedFor(method, *part)) {
      return std::string(partName(*part)) + " not allowed in " + std::string(methodName(method));
    }
    if (!out.entries.empty()) {
      const auto& prev = out.entries.back();
      if (isBodyPart(prev.part)) return "Encapsulated body entry must be last";
      if (rank(*part) <= rank(prev.part)) return "Encapsulated entries out of order or repeated";
      // A header section is at least its start line and the empty line; equal offsets would
      // mean an empty section that the reader cannot delimit.
      if (offset <= prev.offset) return "Encapsulated offsets must strictly increase";
    } else if (offset != 0) {
      return "first Encapsulated offset must be 0";
    }
    if (offset > maxHeaderBytes) return "encapsulated HTTP headers exceed the limit";
    out.entries.push_back(Encapsulated::Entry{*part, offset});
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  if (!isBodyPart(out.entries.back().part)) return "Encapsulated lacks a body entry";
  return {};
}

HeadResult parseIcapHead(std::string_view buf, const Limits& limits, IcapRequestHead& out) {
  const auto end = buf.substr(0, limits.maxIcapHeadBytes).find(kCrlfCrlf);
  if (end == std::string_view::npos) {
    if (buf.size() >= limits.maxIcapHeadBytes) {
      return fail(Status::BadRequest, "ICAP header exceeds the limit");
    }
    return HeadResult{};
  }
  const auto head = buf.substr(0, end + kCrlfCrlf.size());
  const auto eol = head.find("\r\n");
  const auto line = head.substr(0, eol);

  const auto sp1 = line.find(' ');
  const auto sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) {
    return fail(Status::BadRequest, "malformed ICAP request line");
  }
  const auto methodToken = line.substr(0, sp1);
  const auto uri = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const auto version = line.substr(sp2 + 1);
  if (!isToken(methodToken)) return fail(Status::BadRequest, "malformed ICAP method");
  if (version != "ICAP/1.0") {
    if (version.size() == 8 && version.substr(0, 5) == "ICAP/") {
      return fail(Status::VersionNotSupported, "only ICAP/1.0 is supported");
    }
    return fail(Status::BadRequest, "malformed ICAP version");
  }
  const auto method = methodFromToken(methodToken);
  if (!method) {
    return fail(Status::NotImplemented, "method " + std::string(methodToken) + " not implemented");
  }
  std::string uriError;
  auto service = parseServiceFromUri(uri, uriError);
  if (!uriError.empty()) return fail(Status::BadRequest, uriError);

  out = IcapRequestHead{};
  out.method = *method;
  out.uri = std::string(uri);
  out.service = std::move(service);
  if (auto err = parseHeaderLines(head.substr(eol + 2), limits.maxHeaders, out.headers);
      !err.empty()) {
    return fail(Status::BadRequest, err);
  }

  // Headers whose repetition would make the message ambiguous.
  for (const std::string_view name : {"Host", "Encapsulated", "Preview"}) {
    if (out.headers.count(name) > 1) {
      return fail(Status::BadRequest, "repeated " + std::string(name) + " header");
    }
  }
  if (out.headers.get("Host") == nullptr) {
    return fail(Status::BadRequest, "Host header is required (RFC 3507 4.3.2)");
  }

  if (const auto* enc = out.headers.get("Encapsulated")) {
    if (auto err = parseEncapsulated(*enc, out.method, limits.maxHttpHeadBytes, out.encapsulated);
        !err.empty()) {
      return fail(Status::BadRequest, err);
    }
  } else if (out.method == Method::Options) {
    // Clients commonly send OPTIONS without Encapsulated; it then carries no body.
    out.encapsulated.entries = {Encapsulated::Entry{Part::NullBody, 0}};
  } else {
    return fail(Status::BadRequest, "Encapsulated header is required");
  }

  if (const auto* pv = out.headers.get("Preview")) {
    uint64_t n = 0;
    if (!parseDecimal(trimWhitespace(*pv), n)) return fail(Status::BadRequest, "invalid Preview");
    if (n > limits.maxBodyBytes)
      return fail(Status::BadRequest, "Preview larger than the body limit");
    // A preview only means something for a message with a body to preview.
    if (out.method != Method::Options && out.encapsulated.hasBody()) out.preview = n;
  }
  out.allow204 = out.headers.hasListElement("Allow", "204");
  out.connectionClose = out.headers.hasListElement("Connection", "close");

  HeadResult ok;
  ok.status = ParseStatus::Done;
  ok.consumed = head.size();
  return ok;
}

std::string parseEncapsulatedHeads(std::string_view bytes, const Encapsulated& encapsulated,
                                   const Limits& limits, EncapsulatedHeads& out) {
  if (bytes.size() != encapsulated.headerBytes()) return "encapsulated header bytes missing";
  const auto& entries = encapsulated.entries;
  for (size_t i = 0; i + 1 < entries.size(); ++i) {
    const auto begin = entries[i].offset;
    const auto section = bytes.substr(begin, entries[i + 1].offset - begin);
    if (entries[i].part == Part::ReqHdr) {
      out.request.emplace();
      if (auto err = parseHttpRequestHead(section, limits.maxHeaders, *out.request); !err.empty()) {
        return "req-hdr: " + err;
      }
    } else {
      out.response.emplace();
      if (auto err = parseHttpResponseHead(section, limits.maxHeaders, *out.response);
          !err.empty()) {
        return "res-hdr: " + err;
      }
    }
  }
  return {};
}

}  // namespace lbg::icap
