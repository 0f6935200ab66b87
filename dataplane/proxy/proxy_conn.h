#pragma once

// One proxied connection (both legs), shared by the explicit (proxy_server.cc) and transparent
// (transparent_server.cc) listeners. Internal to lbg_proxy_server.
#include <netinet/in.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "dataplane/proxy/chunked_body.h"
#include "dataplane/proxy/connect_target.h"
#include "dataplane/proxy/ossl.h"
#include "dataplane/proxy/sanitize_relay.h"
#include "dataplane/proxy/transparent_socket.h"
#include "dataplane/telemetry/log/vocabulary.h"
#include "policy/snapshot.h"
#include <nlohmann/json.hpp>

namespace lbg::proxy {

// epoll tags: a connection's sockets are id << 2 | leg (ids start at 1); tags below 4 are the
// listeners'.
enum class Leg : uint64_t { Client = 0, Upstream = 1, Icap = 2 };
inline uint64_t epollTag(uint64_t id, Leg leg) { return id << 2 | uint64_t(leg); }
inline uint64_t connOfTag(uint64_t tag) { return tag >> 2; }

struct Conn {
  enum class Phase : uint8_t {
    PeekHello,  // transparent mode: waiting for the ClientHello that names the server
    ReadConnect,
    Resolving,  // the CONNECT host's addresses asked of the resolver (async_resolver.h)
    Connecting,
    UpHandshake,
    ClientHandshake,
    Relay,
    Splice,
    Drain
  };
  enum class Req : uint8_t { Head, Length, Chunked };

  uint64_t id = 0;
  int cfd = -1;
  int ufd = -1;
  SslPtr cssl;
  SslPtr ussl;
  Phase phase = Phase::ReadConnect;
  std::string cin;       // client bytes not yet handled (plain or decrypted)
  std::string toUp;      // bytes for upstream
  std::string toClient;  // bytes for the client
  ConnectTarget target;
  int service = -1;
  const policy::TenantSpec* tenant = nullptr;  // set when the host is one of the profile's
  // The fields set on each request head (replacing the client's copies): the tenant headers when
  // the host is one of the profile's, `Accept-Encoding: identity` for a sanitized service.
  const std::vector<std::pair<std::string, std::string>>* setHeaders = nullptr;
  std::unique_ptr<SanitizeState> san;  // a `sanitize: true` service with ICAP configured
  bool closing = false;  // an error answer queued in toClient: close once it is written
  Req req = Req::Head;
  uint64_t bodyLeft = 0;
  ChunkedBody chunked;
  bool upEof = false;
  std::chrono::steady_clock::time_point lastActive = std::chrono::steady_clock::now();
  std::string srcIp;
  uint16_t srcPort = 0;
  // Where the upstream leg connects once the name's lookup answered (family 0: still waiting;
  // resolveError: it failed, or, transparent, the name does not resolve to origDst).
  sockaddr_storage upstreamAddr{};
  int resolveError = 0;
  // Transparent mode: the client's address and the destination it asked for (getsockname of the
  // redirected connection); the upstream leg connects from the one to the other.
  bool transparent = false;
  SockAddr clientAddr;  // IPv4 or IPv6, like the listener that accepted it
  SockAddr origDst;
  std::string destIp;
};


// Does `host` match a profile host pattern ("a.b" exactly, or "*.b" for any name under b)?
bool hostMatches(std::string_view host, std::string_view pattern);

// The connection's log record of `type` (timestamp, addresses, ports) with `extra` members.
std::string connEvent(const Conn& c, telemetry::LogEventType type, const nlohmann::json& extra);

}  // namespace lbg::proxy
