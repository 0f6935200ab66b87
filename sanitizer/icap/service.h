#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policy/base/result.h"
#include "sanitizer/icap/content_filter.h"
#include "sanitizer/icap/event_log.h"
#include "sanitizer/icap/icap_limits.h"
#include "sanitizer/icap/icap_request.h"

namespace lbg::icap {

struct ServiceConfig {
  std::string serviceName = "sanitize";  // served at icap://host:port/<serviceName>
  uint32_t previewBytes = 4096;          // advertised in OPTIONS
  uint32_t maxConnections = 8;           // advertised in OPTIONS (the worker count)
  uint32_t optionsTtl = 3600;
  // Response media types that cannot carry a file worth rebuilding. They get 204 right after the
  // preview if the preview bytes also look like plain text and the response is not marked as an
  // attachment. Everything else goes through the sanitizer.
  std::vector<std::string> responsePassTypes = {"text/css"};
  // Request bodies that are form fields, not files (REQMOD).
  std::vector<std::string> requestPassTypes = {"application/x-www-form-urlencoded",
                                               "application/json"};
  std::string contact;  // whom users ask about a blocked file (block page)
  std::string serverName = "lbg-icapd/0.1.0";
  Limits limits;
};

// One ICAP request as the connection has read it so far.
struct IcapRequest {
  IcapRequestHead head;
  EncapsulatedHeads http;
  std::string body;           // decoded body bytes received so far
  bool bodyComplete = false;  // `body` is the whole body (ieof, or the last chunk after 100)
  bool continued = false;     // "100 Continue" was sent: from now on 204 needs Allow: 204
};

struct ServiceStats {
  std::atomic<uint64_t> requests{0}, options{0}, sanitized{0}, unchanged{0}, blocked{0}, passed{0},
      errors{0};
};

// The /sanitize service: decides every answer; knows nothing of sockets. Immutable after
// create() and safe to call from all workers at once.
class SanitizeService {
 public:
  static Result<std::unique_ptr<SanitizeService>> create(ServiceConfig config,
                                                         std::shared_ptr<const ContentFilter> filter,
                                                         std::shared_ptr<EventLog> log);

  const Limits& limits() const { return config_.limits; }
  const std::string& istag() const { return istag_; }
  const ServiceStats& stats() const { return stats_; }

  // 404 for an unknown service; nullopt when the request may proceed.
  std::optional<ParseError> route(const IcapRequestHead& head) const;

  std::string options() const;

  // Right after the preview chunk: a final response, or nullopt to send "100 Continue".
  std::optional<std::string> afterPreview(const IcapRequest& request) const;

  // The body is complete (or there is none): the final response.
  std::string complete(const IcapRequest& request) const;

  // The body grew past limits.maxBodyBytes: a block page (the connection is then closed).
  std::string bodyTooLarge(const IcapRequest& request) const;

  // An ICAP error response without encapsulated content; counted in stats().errors unless
  // `count` is false (a canned answer prepared ahead).
  std::string error(Status status, std::string_view message, bool close, bool count = true) const;

 private:
  SanitizeService(ServiceConfig config, std::shared_ptr<const ContentFilter> filter,
                  std::shared_ptr<EventLog> log, std::string istag);

  struct Early;
  std::optional<Early> earlyDecision(const IcapRequest& request) const;
  std::string pass(const IcapRequest& request, std::string_view why) const;
  std::string block(const IcapRequest& request, const FilterResult& result,
                    std::string_view fileName = {}) const;
  std::string completeMultipart(const IcapRequest& request) const;
  std::string replaceBody(const IcapRequest& request, const FilterResult& result) const;
  std::string fileNameHint(const IcapRequest& request) const;
  void logEvent(const IcapRequest& request, std::string_view action,
                const std::string& fileinfoJson) const;

  ServiceConfig config_;
  std::shared_ptr<const ContentFilter> filter_;
  std::shared_ptr<EventLog> log_;
  std::string istag_;
  mutable ServiceStats stats_;
};

}  // namespace lbg::icap
