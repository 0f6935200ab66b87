#include "sanitizer/icap/service.h"

#include <algorithm>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "dataplane/telemetry/log/vocabulary.h"
#include "sanitizer/icap/block_page.h"
#include "sanitizer/icap/http_rewrite.h"
#include "sanitizer/icap/icap_response.h"
#include "sanitizer/icap/multipart.h"

namespace lbg::icap {
namespace {

using nlohmann::json;

std::string dumpJson(const json& j) {
  // Untrusted names and URLs may be invalid UTF-8; replace rather than throw.
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

uint64_t fnv1a(std::string_view s) {
  uint64_t h = 1469598103934665603ull;
  for (const char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  return h;
}

bool containsIgnoreCase(std::string_view hay, std::string_view needle) {
  if (needle.size() > hay.size()) return false;
  for (size_t i = 0; i + needle.size() <= hay.size(); ++i) {
    if (equalsIgnoreCase(hay.substr(i, needle.size()), needle)) return true;
  }
  return false;
}

// The preview of a "passive" type must also look like what the type says: plain text without
// markup or the legacy CSS hooks that ran script. A binary served as text/css goes to the engine.
bool looksPassiveText(std::string_view bytes) {
  for (const char c : bytes) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 && c != '\t' && c != '\r' && c != '\n' && c != '\f') return false;
    if (c == '<') return false;
  }
  for (const std::string_view bad :
       {"expression(", "javascript:", "behavior:", "-moz-binding", "vbscript:"}) {
    if (containsIgnoreCase(bytes, bad)) return false;
  }
  return true;
}

// Only token characters survive into a header value we build from sanitizer output.
std::string headerSafe(std::string_view s) {
  std::string out;
  for (const char c : s) {
    if (isTokenChar(c) || c == ':') out += c;
  }
  return out;
}

// Parts of one multipart upload; a form has a handful, a limit keeps a crafted one cheap.
constexpr size_t kMaxMultipartParts = 256;

const HeaderList* messageHeaders(const IcapRequest& r) {
  if (r.head.method == Method::Respmod) {
    return r.http.response ? &r.http.response->headers : nullptr;
  }
  return r.http.request ? &r.http.request->headers : nullptr;
}

}  // namespace

struct SanitizeService::Early {
  bool block = false;  // else pass
  std::string reason;
};

Result<std::unique_ptr<SanitizeService>> SanitizeService::create(
    ServiceConfig config, std::shared_ptr<const ContentFilter> filter,
    std::shared_ptr<EventLog> log) {
  if (!filter) return Error{"no content filter"};
  if (config.serviceName.empty() || !isToken(config.serviceName)) {
    return Error{"service name must be a non-empty token"};
  }
  if (config.previewBytes > config.limits.maxBodyBytes) {
    return Error{"preview size exceeds the body limit"};
  }
  if (config.maxConnections == 0) return Error{"max connections must be positive"};
  if (!isToken(headerSafe(config.serverName))) return Error{"invalid server name"};
  for (auto* list : {&config.responsePassTypes, &config.requestPassTypes}) {
    for (auto& t : *list) {
      t = mediaType(t);
      if (t.find('/') == std::string::npos)
        return Error{"pass type '" + t + "' is not a media type"};
    }
  }
  char tag[40];
  std::snprintf(
      tag, sizeof(tag), "\"lbg-%016llx\"",
      static_cast<unsigned long long>(fnv1a(filter->versionTag() + "|" + config.serviceName)));
  return std::unique_ptr<SanitizeService>(
      new SanitizeService(std::move(config), std::move(filter), std::move(log), tag));
}

SanitizeService::SanitizeService(ServiceConfig config, std::shared_ptr<const ContentFilter> filter,
                                 std::shared_ptr<EventLog> log, std::string istag)
    : config_(std::move(config)),
      filter_(std::move(filter)),
      log_(std::move(log)),
      istag_(std::move(istag)) {}

std::optional<ParseError> SanitizeService::route(const IcapRequestHead& head) const {
  if (head.service != config_.serviceName) {
    return ParseError{Status::ServiceNotFound, "no service '" + head.service + "'"};
  }
  // The grammar makes the HTTP head optional, but a body without the head that describes it can
  // be neither sanitized nor given back with correct headers.
  if (head.method == Method::Reqmod && head.encapsulated.hasBody() &&
      !head.encapsulated.has(Part::ReqHdr)) {
    return ParseError{Status::BadRequest, "REQMOD body without req-hdr"};
  }
  if (head.method == Method::Respmod && head.encapsulated.hasBody() &&
      !head.encapsulated.has(Part::ResHdr)) {
    return ParseError{Status::BadRequest, "RESPMOD body without res-hdr"};
  }
  return std::nullopt;
}

std::string SanitizeService::options() const {
  stats_.options.fetch_add(1, std::memory_order_relaxed);
  IcapResponse r;
  r.status = Status::Ok;
  r.headers.add("Methods", "RESPMOD, REQMOD");
  r.headers.add("Service", config_.serverName + " file sanitization");
  r.headers.add("ISTag", istag_);
  r.headers.add("Max-Connections", std::to_string(config_.maxConnections));
  r.headers.add("Options-TTL", std::to_string(config_.optionsTtl));
  r.headers.add("Allow", "204");
  r.headers.add("Preview", std::to_string(config_.previewBytes));
  r.headers.add("Transfer-Preview", "*");
  r.headers.add("Server", config_.serverName);
  return serializeResponse(r);
}

std::string SanitizeService::error(Status status, std::string_view message, bool close,
                                   bool count) const {
  if (count) stats_.errors.fetch_add(1, std::memory_order_relaxed);
  IcapResponse r;
  r.status = status;
  r.headers.add("ISTag", istag_);
  r.headers.add("Server", config_.serverName);
  // The message goes into a header: keep it to printable ASCII.
  std::string safe;
  for (const char c : message.substr(0, 200)) {
    safe += (c >= 0x20 && c < 0x7f) ? c : '?';
  }
  if (!safe.empty()) r.headers.add("X-Error", safe);
  if (close) r.headers.add("Connection", "close");
  return serializeResponse(r);
}

std::string SanitizeService::fileNameHint(const IcapRequest& r) const {
  std::string name;
  if (const auto* h = messageHeaders(r)) {
    if (const auto* cd = h->get("Content-Disposition")) name = dispositionFileName(*cd);
  }
  if (name.empty() && r.http.request) name = urlFileName(r.http.request->target);
  // Keep only the last path component of whatever a server claims.
  const auto slash = name.find_last_of("/\\");
  if (slash != std::string::npos) name = name.substr(slash + 1);
  if (name.size() > 255) name.resize(255);
  return name;
}

std::optional<SanitizeService::Early> SanitizeService::earlyDecision(const IcapRequest& r) const {
  const HeaderList* headers = messageHeaders(r);
  if (r.head.method == Method::Respmod && r.http.response && r.http.response->status == 206) {
    // A range is not a file; sanitizing it alone would let the ranges be stitched together.
    return Early{true, "partial-content"};
  }
  if (headers != nullptr) {
    if (const auto* ce = headers->get("Content-Encoding")) {
      const auto v = mediaType(*ce);
      if (!v.empty() && v != "identity") return Early{true, "content-encoding:" + headerSafe(v)};
    }
    const auto* ct = headers->get("Content-Type");
    const auto* cd = headers->get("Content-Disposition");
    const bool attachment = cd != nullptr && containsIgnoreCase(*cd, "attachment");
    if (ct != nullptr && !attachment) {
      const auto type = mediaType(*ct);
      const auto& list =
          r.head.method == Method::Respmod ? config_.responsePassTypes : config_.requestPassTypes;
      if (std::find(list.begin(), list.end(), type) != list.end()) {
        // Form fields (REQMOD) are not files; a passive response type must also look passive.
        if (r.head.method == Method::Reqmod || looksPassiveText(r.body)) {
          return Early{false, "pass-type:" + type};
        }
      }
    }
  }
  return std::nullopt;
}

std::optional<std::string> SanitizeService::afterPreview(const IcapRequest& r) const {
  if (r.bodyComplete) return complete(r);
  const auto early = earlyDecision(r);
  if (!early) return std::nullopt;
  stats_.requests.fetch_add(1, std::memory_order_relaxed);
  if (early->block) {
    FilterResult fr;
    fr.blocked = true;
    fr.reason = early->reason;
    return block(r, fr);
  }
  stats_.passed.fetch_add(1, std::memory_order_relaxed);
  return pass(r, early->reason);
}

std::string SanitizeService::pass(const IcapRequest& r, std::string_view why) const {
  if (!why.empty()) {
    json fi = {{"filename", fileNameHint(r)},
               {"verdict", "passed"},
               {"reason", std::string(why)},
               {"input_bytes", r.body.size()},
               {"complete", r.bodyComplete}};
    logEvent(r, "passed", dumpJson(fi));
  }
  IcapResponse resp;
  resp.headers.add("ISTag", istag_);
  resp.headers.add("Server", config_.serverName);
  // RFC 3507 4.5/4.6: 204 is always allowed as the answer to a preview; otherwise only when the
  // client sent Allow: 204.
  if (r.head.allow204 || (r.head.preview.has_value() && !r.continued)) {
    resp.status = Status::NoContent;
    return serializeResponse(resp);
  }
  // Echo the message unchanged (only reached with a complete body).
  resp.status = Status::Ok;
  if (r.head.method == Method::Respmod) {
    resp.response = r.http.response;
  } else {
    resp.request = r.http.request;
  }
  if (r.head.encapsulated.hasBody()) resp.body = r.body;
  return serializeResponse(resp);
}

std::string SanitizeService::block(const IcapRequest& r, const FilterResult& result,
                                   std::string_view fileName) const {
  stats_.blocked.fetch_add(1, std::memory_order_relaxed);
  BlockInfo info;
  info.fileName = fileName.empty() ? fileNameHint(r) : std::string(fileName);
  info.url = r.http.request ? r.http.request->url() : std::string();
  info.reason = result.reason.empty() ? std::string("blocked") : result.reason;
  info.sha256 = result.inputSha256;
  info.detectedType = result.detectedType;
  info.bytes = r.body.size();
  info.upload = r.head.method == Method::Reqmod;
  info.contact = config_.contact;
  const std::string page = renderBlockPage(info);

  if (result.reportJson.empty()) {
    json fi = {{"filename", info.fileName},
               {"verdict", "blocked"},
               {"reason", info.reason},
               {"input_bytes", r.body.size()},
               {"complete", r.bodyComplete}};
    logEvent(r, "blocked", dumpJson(fi));
  } else {
    logEvent(r, "blocked", result.reportJson);
  }

  HttpResponseHead head;
  head.version = "HTTP/1.1";
  head.status = 403;
  head.reason = "Forbidden";
  head.headers.add("Content-Type", "text/html; charset=utf-8");
  head.headers.add("Content-Length", std::to_string(page.size()));
  head.headers.add("Cache-Control", "no-store");
  head.headers.add("X-Content-Type-Options", "nosniff");
  head.headers.add("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'");
  head.headers.add("X-LBG-Sanitizer", "blocked; reason=" + headerSafe(info.reason));

  IcapResponse resp;
  resp.status = Status::Ok;
  resp.headers.add("ISTag", istag_);
  resp.headers.add("Server", config_.serverName);
  resp.response = std::move(head);
  resp.body = page;
  return serializeResponse(resp);
}

std::string SanitizeService::replaceBody(const IcapRequest& r, const FilterResult& result) const {
  stats_.sanitized.fetch_add(1, std::memory_order_relaxed);
  logEvent(r, "sanitized", result.reportJson);

  const bool typeChanged = !result.outputType.empty() && result.outputType != result.detectedType;
  auto fixHeaders = [&](HeaderList& h) {
    dropRepresentationHeaders(h);
    h.set("Content-Length", std::to_string(result.output.size()));
    if (typeChanged) {
      h.set("Content-Type", contentTypeFor(result.outputType));
      const auto ext = extensionFor(result.outputType);
      if (const auto* cd = h.get("Content-Disposition"); cd != nullptr && !ext.empty()) {
        h.set("Content-Disposition", rewriteDispositionExtension(*cd, ext));
      }
    }
    // The marker is for the user's side only; uploads do not tell the cloud about the gateway.
    if (r.head.method != Method::Respmod) return;
    std::string removed;
    for (const auto& k : result.removedKinds) {
      const auto safe = headerSafe(k);
      if (safe.empty() || removed.find(safe) != std::string::npos) continue;
      if (!removed.empty()) removed += ",";
      removed += safe;
    }
    h.set("X-LBG-Sanitizer",
          "sanitized" + (removed.empty() ? std::string() : "; removed=" + removed));
  };

  IcapResponse resp;
  resp.status = Status::Ok;
  resp.headers.add("ISTag", istag_);
  resp.headers.add("Server", config_.serverName);
  if (r.head.method == Method::Respmod) {
    HttpResponseHead head;
    if (r.http.response) {
      head = *r.http.response;
    } else {
      head.version = "HTTP/1.1";
      head.status = 200;
      head.reason = "OK";
    }
    fixHeaders(head.headers);
    resp.response = std::move(head);
  } else {
    HttpRequestHead head = *r.http.request;  // REQMOD with a body always has req-hdr (checked)
    fixHeaders(head.headers);
    resp.request = std::move(head);
  }
  resp.body = result.output;
  return serializeResponse(resp);
}

std::string SanitizeService::complete(const IcapRequest& r) const {
  stats_.requests.fetch_add(1, std::memory_order_relaxed);
  if (!r.head.encapsulated.hasBody() || r.body.empty()) {
    stats_.passed.fetch_add(1, std::memory_order_relaxed);
    return pass(r, {});
  }
  if (const auto early = earlyDecision(r)) {
    if (early->block) {
      FilterResult fr;
      fr.blocked = true;
      fr.reason = early->reason;
      return block(r, fr);
    }
    stats_.passed.fetch_add(1, std::memory_order_relaxed);
    return pass(r, early->reason);
  }
  if (r.head.method == Method::Reqmod) {
    const auto* ct = r.http.request->headers.get("Content-Type");
    if (ct != nullptr && mediaType(*ct) == "multipart/form-data") return completeMultipart(r);
  }
  const auto result = filter_->filter(r.body, fileNameHint(r));
  if (result.blocked) return block(r, result);
  if (result.output == r.body) {
    stats_.unchanged.fetch_add(1, std::memory_order_relaxed);
    logEvent(r, "unchanged", result.reportJson);
    return pass(r, {});
  }
  return replaceBody(r, result);
}

std::string SanitizeService::completeMultipart(const IcapRequest& r) const {
  // A browser upload: each file part is sanitized on its own, form fields pass unchanged. One
  // blocked file blocks the whole upload (the form cannot be sent without it).
  FilterResult bad;
  bad.blocked = true;
  bad.reason = "multipart-malformed";
  const auto boundary = multipartBoundary(*r.http.request->headers.get("Content-Type"));
  std::vector<MultipartPart> parts;
  if (boundary.empty() ||
      !parseMultipart(r.body, boundary, kMaxMultipartParts, config_.limits.maxHeaders, parts)
           .empty()) {
    return block(r, bad);
  }
  bool changed = false;
  for (auto& part : parts) {
    if (!isFilePart(part) || part.body.empty()) continue;  // a field, or no file chosen
    // A copy: setting part headers below may move the field storage.
    const std::string cd = *part.headers.get("Content-Disposition");
    auto name = dispositionFileName(cd);
    if (const auto slash = name.find_last_of("/\\"); slash != std::string::npos) {
      name = name.substr(slash + 1);
    }
    if (const auto* cte = part.headers.get("Content-Transfer-Encoding")) {
      const auto v = mediaType(*cte);
      if (v != "binary" && v != "7bit" && v != "8bit") {
        bad.reason = "content-encoding:" + headerSafe(v);
        return block(r, bad, name);
      }
    }
    if (const auto* pct = part.headers.get("Content-Type");
        pct != nullptr && mediaType(*pct).rfind("multipart/", 0) == 0) {
      bad.reason = "multipart-nested";
      return block(r, bad, name);
    }
    const auto result = filter_->filter(part.body, name);
    if (result.blocked) return block(r, result, name);
    if (result.output == part.body) {
      logEvent(r, "unchanged", result.reportJson);
      continue;
    }
    stats_.sanitized.fetch_add(1, std::memory_order_relaxed);
    logEvent(r, "sanitized", result.reportJson);
    changed = true;
    part.body = result.output;
    if (!result.outputType.empty() && result.outputType != result.detectedType) {
      part.headers.set("Content-Type", contentTypeFor(result.outputType));
      const auto ext = extensionFor(result.outputType);
      if (!ext.empty()) {
        part.headers.set("Content-Disposition", rewriteDispositionExtension(cd, ext));
      }
    }
  }
  if (!changed) {
    stats_.unchanged.fetch_add(1, std::memory_order_relaxed);
    return pass(r, {});
  }
  auto body = serializeMultipart(parts, boundary);
  // A sanitized file that happens to contain the delimiter would split differently at the
  // server; parse our own output back and refuse if it does not give the same parts.
  std::vector<MultipartPart> check;
  bool same =
      parseMultipart(body, boundary, kMaxMultipartParts, config_.limits.maxHeaders + 2, check)
          .empty() &&
      check.size() == parts.size();
  for (size_t i = 0; same && i < parts.size(); ++i) same = check[i].body == parts[i].body;
  if (!same) {
    bad.reason = "multipart-boundary-collision";
    return block(r, bad);
  }
  HttpRequestHead head = *r.http.request;
  dropRepresentationHeaders(head.headers);
  head.headers.set("Content-Length", std::to_string(body.size()));
  IcapResponse resp;
  resp.status = Status::Ok;
  resp.headers.add("ISTag", istag_);
  resp.headers.add("Server", config_.serverName);
  resp.request = std::move(head);
  resp.body = body;
  return serializeResponse(resp);
}

std::string SanitizeService::bodyTooLarge(const IcapRequest& r) const {
  stats_.requests.fetch_add(1, std::memory_order_relaxed);
  FilterResult fr;
  fr.blocked = true;
  fr.reason = "limit:icap-max-body";
  auto out = block(r, fr);
  // The rest of the body is still on its way; the connection is closed after this answer.
  const auto end = out.find("\r\n");
  out.insert(end + 2, "Connection: close\r\n");
  return out;
}

void SanitizeService::logEvent(const IcapRequest& r, std::string_view action,
                               const std::string& fileinfoJson) const {
  if (!log_) return;
  json rec;
  rec["timestamp"] = EventLog::timestamp();
  rec["event_type"] = telemetry::toString(telemetry::LogEventType::FileInfo);
  json fi = json::parse(fileinfoJson, nullptr, false);
  if (fi.is_discarded() || !fi.is_object()) fi = json::object();
  if (!fi.contains("filename")) fi["filename"] = fileNameHint(r);
  rec["fileinfo"] = std::move(fi);
  rec["measure"] = telemetry::toString(telemetry::defaultMeasure(telemetry::LogEventType::FileInfo));
  rec["action"] = std::string(action);
  json http = json::object();
  if (r.http.request) {
    http["hostname"] = r.http.request->host();
    http["url"] = r.http.request->url();
    http["http_method"] = r.http.request->method;
    if (const auto* ua = r.http.request->headers.get("User-Agent")) http["http_user_agent"] = *ua;
  }
  if (r.http.response) {
    http["status"] = r.http.response->status;
    if (const auto* ct = r.http.response->headers.get("Content-Type")) {
      http["http_content_type"] = *ct;
    }
  } else if (r.http.request) {
    if (const auto* ct = r.http.request->headers.get("Content-Type")) {
      http["http_content_type"] = *ct;
    }
  }
  http["direction"] = r.head.method == Method::Respmod ? "download" : "upload";
  rec["http"] = std::move(http);
  // Squid sends these when adaptation_send_client_ip / _username are on.
  if (const auto* ip = r.head.headers.get("X-Client-IP")) rec["src_ip"] = *ip;
  if (const auto* user = r.head.headers.get("X-Client-Username")) rec["username"] = *user;
  rec["icap"] = {{"method", std::string(methodName(r.head.method))},
                 {"service", r.head.service},
                 {"istag", istag_}};
  log_->write(dumpJson(rec));
}

}  // namespace lbg::icap
