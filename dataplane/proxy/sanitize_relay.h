#pragma once

// The response side of a connection to a `sanitize: true` service (sanitize_relay.cc): each
// response is held whole (bounded), sent to lbg-icapd as an ICAP RESPMOD on a non-blocking
// connection of the same epoll loop, and only what lbg-icapd answers reaches the client. Internal
// to lbg_proxy_server.
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>

#include "dataplane/proxy/chunked_body.h"
#include "dataplane/proxy/http_head.h"
#include "dataplane/proxy/icap_client.h"

namespace lbg::proxy {

struct SanitizeState {
  // A request relayed upstream whose response has not been handled yet (responses come in order).
  struct Pending {
    std::string method;
    std::string url;  // https://host/target (target capped)
  };
  static constexpr size_t kMaxPending = 32;  // pipelined requests held before reading stops

  enum class Stage : uint8_t { Head, Body, Icap };
  Stage stage = Stage::Head;
  std::deque<Pending> pending;
  std::string uin;   // upstream bytes not yet handled
  std::string head;  // the response head being held
  BodyKind kind = BodyKind::None;
  uint64_t bodyLeft = 0;
  ChunkedBody chunked;
  std::string body;  // decoded
  // The ICAP transaction of the held response.
  int icapFd = -1;
  bool icapConnected = false;
  std::string icapOut;
  std::unique_ptr<IcapResponseParser> answer;
  std::chrono::steady_clock::time_point icapDeadline{};
  // Bytes of this response charged to the worker's --icap-held-budget (ProxyServer::chargeHeld).
  uint64_t charged = 0;

  // Nothing held: no response being read, sent to ICAP or waiting.
  bool idle() const { return stage == Stage::Head && uin.empty(); }
};

}  // namespace lbg::proxy
