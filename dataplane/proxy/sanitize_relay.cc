// The response side of connections to `sanitize: true` services: every response body goes
// through lbg-icapd (ICAP RESPMOD) before the client sees a byte of it. See sanitize_relay.h.
#include "dataplane/proxy/sanitize_relay.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

#include "dataplane/proxy/proxy_conn.h"
#include "dataplane/proxy/proxy_server.h"
#include "dataplane/proxy/relay_io.h"
#include "dataplane/telemetry/log/vocabulary.h"

namespace lbg::proxy {

namespace {

using telemetry::LogEventType;
using telemetry::MeasureId;

// What the user reads instead of a file that could not be checked (the origin's bytes never).
constexpr const char* kRefusalText =
    "このファイルは無害化を確認できなかったため、届けられませんでした。情報システム担当にお問い合わせください。\n"
    "This file could not be sanitized and was not delivered. Please contact your IT department.\n";

}  // namespace

void ProxyServer::closeIcap(Conn& c) {
  SanitizeState& s = *c.san;
  if (s.icapFd >= 0) close(s.icapFd);  // also leaves the epoll set
  s.icapFd = -1;
  s.icapConnected = false;
  s.icapOut.clear();
  s.icapOut.shrink_to_fit();
  s.answer.reset();
}

void ProxyServer::refuseResponse(Conn& c, const char* status, const char* reason, const char* detail) {
  SanitizeState& s = *c.san;
  const std::string url = s.pending.empty() ? std::string() : s.pending.front().url;
  logEvent(connEvent(c, LogEventType::Http,
                     {{"action", "deny"},
                      {"reason", reason},
                      {"detail", detail ? detail : ""},
                      {"measure", telemetry::toString(MeasureId::Sanitize)},
                      {"http", {{"hostname", c.target.host}, {"url", url}}},
                      {"policy", {{"service", policy_->service(c.service).name}}}}));
  const std::string body = kRefusalText;
  c.toClient += std::string("HTTP/1.1 ") + status +
                "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: " +
                std::to_string(body.size()) + "\r\nX-Lbg-Reason: " + reason +
                "\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n" + body;
  // The rest of the connection cannot be trusted to line up with its requests: it ends once the
  // answers before this one and this one are written.
  c.closing = true;
  closeIcap(c);
  s.body.clear();
  s.body.shrink_to_fit();
  s.uin.clear();
  releaseHeld(c);
}

void ProxyServer::startIcap(Conn& c) {
  SanitizeState& s = *c.san;
  ++counters_.sanitize_requests;
  const SanitizeState::Pending& p = s.pending.front();
  s.icapOut = encodeRespmod(*icap_, {p.method, p.url, c.target.host, s.head, s.body, c.srcIp});
  // Rebuilt files may grow (a PDF rendered to images): twice the limit on what comes back.
  s.answer = std::make_unique<IcapResponseParser>(2 * config_.icapMaxBody);
  s.stage = SanitizeState::Stage::Icap;
  s.icapDeadline = std::chrono::steady_clock::now() + std::chrono::seconds(config_.icapTimeoutSec);
  s.icapFd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(icap_->port);
  inet_pton(AF_INET, icap_->host.c_str(), &a.sin_addr);
  if (s.icapFd < 0 ||
      (connect(s.icapFd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 && errno != EINPROGRESS)) {
    ++counters_.sanitize_failed;
    return refuseResponse(c, "502 Bad Gateway", "icap-unavailable", std::strerror(errno));
  }
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  ev.data.u64 = epollTag(c.id, Leg::Icap);
  epoll_ctl(epfd_, EPOLL_CTL_ADD, s.icapFd, &ev);
}

int ProxyServer::pumpIcap(Conn& c) {
  SanitizeState& s = *c.san;
  const auto failed = [&](const char* reason, const char* detail) {
    ++counters_.sanitize_failed;
    refuseResponse(c, "502 Bad Gateway", reason, detail);
    return 1;
  };
  if (!s.icapConnected) {
    pollfd p{s.icapFd, POLLOUT, 0};
    if (poll(&p, 1, 0) <= 0) return 0;
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(s.icapFd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) return failed("icap-unavailable", std::strerror(err));
    s.icapConnected = true;
  }
  int progress = 0;
  while (!s.icapOut.empty()) {
    const ssize_t n = send(s.icapFd, s.icapOut.data(), s.icapOut.size(), MSG_NOSIGNAL);
    if (n > 0) {
      s.icapOut.erase(0, size_t(n));
      progress = 1;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
      break;
    } else {
      // lbg-icapd may answer early and close (a body over its limit gets the block page): read
      // what it said before calling it a failure.
      s.icapOut.clear();
      break;
    }
  }
  IcapResponseParser::Status st = IcapResponseParser::Status::More;
  while (st == IcapResponseParser::Status::More) {
    char buf[16384];
    const ssize_t n = recv(s.icapFd, buf, sizeof buf, 0);
    if (n > 0) {
      st = s.answer->feed(std::string_view(buf, size_t(n)));
      progress = 1;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
      return progress;
    } else {
      st = s.answer->finish();
    }
  }
  if (!chargeHeld(c)) return refuseOverBudget(c);
  if (st == IcapResponseParser::Status::Invalid) {
    if (s.answer->status() != 0 && s.answer->status() != 200 && s.answer->status() != 204) {
      return failed("icap-status", s.answer->error());
    }
    return failed("icap-invalid", s.answer->error());
  }
  // Done: the adapted response, or the original one when lbg-icapd left it unchanged (204).
  std::string out;
  bool ok = false;
  if (s.answer->unchanged()) {
    ++counters_.sanitize_unchanged;
    ok = reframeResponse(s.head, s.body, out);
  } else if (isBlockPage(s.answer->httpHead())) {
    ++counters_.sanitize_blocked;
    logEvent(connEvent(c, LogEventType::Http,
                       {{"action", "deny"},
                        {"reason", "sanitize-blocked"},
                        {"measure", telemetry::toString(MeasureId::Sanitize)},
                        {"http", {{"hostname", c.target.host}, {"url", s.pending.front().url}}},
                        {"policy", {{"service", policy_->service(c.service).name}}}}));
    ok = reframeResponse(s.answer->httpHead(), s.answer->body(), out);
  } else {
    ++counters_.sanitize_replaced;
    ok = reframeResponse(s.answer->httpHead(), s.answer->body(), out);
  }
  if (!ok) return failed("icap-invalid", "adapted head does not reframe");
  c.toClient += out;
  s.pending.pop_front();
  closeIcap(c);
  s.head.clear();
  s.body.clear();
  s.body.shrink_to_fit();
  releaseHeld(c);
  s.stage = SanitizeState::Stage::Head;
  return 1;
}

int ProxyServer::pumpSanitize(Conn& c) {
  SanitizeState& s = *c.san;
  int progress = 0;
  if (!c.upEof) {
    const int r = readTls(c.ussl.get(), s.uin);
    if (r < 0) c.upEof = true;
    progress = r != 0 ? 1 : 0;
  }
  const auto upstreamBad = [&](const char* detail) {
    ++counters_.sanitize_failed;
    refuseResponse(c, "502 Bad Gateway", "upstream-response", detail);
    return 1;
  };
  const auto tooLarge = [&] {
    ++counters_.sanitize_too_large;
    refuseResponse(c, "403 Forbidden", "too-large", "body over --icap-max-body");
    return 1;
  };
  while (true) {
    if (s.stage == SanitizeState::Stage::Head) {
      if (s.uin.empty()) break;
      if (s.pending.empty()) return upstreamBad("response without a request");
      HttpHead h;
      const HeadStatus st = parseResponseHead(s.uin, s.pending.front().method, h);
      if (st == HeadStatus::Incomplete) {
        if (c.upEof) return upstreamBad("truncated response head");
        break;
      }
      if (st == HeadStatus::Invalid) return upstreamBad(h.error);
      // A switched protocol would carry bodies past the sanitizer.
      if (h.status == 101) return upstreamBad("protocol switch");
      if (h.status < 200 || h.body == BodyKind::None) {
        // Interim answers (100 Continue) and responses without a body pass as they are.
        c.toClient.append(s.uin, 0, h.headBytes);
        s.uin.erase(0, h.headBytes);
        if (h.status >= 200) s.pending.pop_front();
        progress = 1;
        continue;
      }
      if (h.body == BodyKind::Length && h.contentLength > config_.icapMaxBody) return tooLarge();
      s.head.assign(s.uin, 0, h.headBytes);
      s.uin.erase(0, h.headBytes);
      s.kind = h.body;
      s.bodyLeft = h.contentLength;
      s.chunked = ChunkedBody();
      s.body.clear();
      s.stage = SanitizeState::Stage::Body;
      if (!chargeHeld(c)) return refuseOverBudget(c);
      progress = 1;
    }
    if (s.stage == SanitizeState::Stage::Body) {
      bool done = false;
      if (s.kind == BodyKind::Length) {
        const size_t n = size_t(std::min<uint64_t>(s.bodyLeft, s.uin.size()));
        s.body.append(s.uin, 0, n);
        s.uin.erase(0, n);
        s.bodyLeft -= n;
        done = s.bodyLeft == 0;
      } else if (s.kind == BodyKind::Chunked) {
        size_t used = 0;
        const ChunkedBody::Status st = s.chunked.feed(s.uin, used, &s.body);
        if (st == ChunkedBody::Status::Invalid) return upstreamBad("malformed chunked body");
        s.uin.erase(0, used);
        done = st == ChunkedBody::Status::Done;
      } else {  // until the origin closes
        s.body += s.uin;
        s.uin.clear();
        done = c.upEof;
      }
      if (s.body.size() > config_.icapMaxBody) return tooLarge();
      if (!chargeHeld(c)) return refuseOverBudget(c);
      if (!done) {
        if (c.upEof) return upstreamBad("truncated response body");
        break;
      }
      startIcap(c);
      if (c.closing) return 1;
      progress = 1;
    }
    if (s.stage == SanitizeState::Stage::Icap) {
      const int r = pumpIcap(c);
      if (c.closing) return 1;
      if (s.stage == SanitizeState::Stage::Icap) break;
      progress = progress || r;
    }
  }
  return progress;
}

void ProxyServer::checkIcapDeadlines() {
  const auto now = std::chrono::steady_clock::now();
  std::vector<uint64_t> late;
  for (auto& [id, c] : conns_) {
    if (c->san && c->san->stage == SanitizeState::Stage::Icap && now > c->san->icapDeadline) {
      late.push_back(id);
    }
  }
  for (uint64_t id : late) {
    auto it = conns_.find(id);
    if (it == conns_.end()) continue;
    ++counters_.sanitize_failed;
    refuseResponse(*it->second, "502 Bad Gateway", "icap-timeout", "no answer in --icap-timeout");
    pump(*it->second);  // writes the answer; closes the connection once it is out
  }
}

}  // namespace lbg::proxy
