#pragma once

// One proxied connection (both legs), shared by the explicit (proxy_server.cc) and transparent
// (transparent_server.cc) listeners. Internal to lbg_proxy_server.
#include <netinet/in.h>

#include <chrono>
#include <cstdint>
#include <string>

#include "dataplane/proxy/chunked_body.h"
#include "dataplane/proxy/connect_target.h"
#include "dataplane/proxy/ossl.h"
#include "dataplane/telemetry/log/vocabulary.h"
#include "policy/snapshot.h"
#include <nlohmann/json.hpp>

namespace lbg::proxy {

struct Conn {
  enum class Phase : uint8_t {
    PeekHello,  // transparent mode: waiting for the ClientHello that names the server
    ReadConnect,
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
  Req req = Req::Head;
  uint64_t bodyLeft = 0;
  ChunkedBody chunked;
  bool upEof = false;
  std::chrono::steady_clock::time_point lastActive = std::chrono::steady_clock::now();
  std::string srcIp;
  uint16_t srcPort = 0;
  // Transparent mode: the client's address and the destination it asked for (getsockname of the
  // redirected connection); the upstream leg connects from the one to the other.
  bool transparent = false;
  sockaddr_in clientAddr{};
  sockaddr_in origDst{};
  std::string destIp;
};


// Does `host` match a profile host pattern ("a.b" exactly, or "*.b" for any name under b)?
bool hostMatches(std::string_view host, std::string_view pattern);

// The connection's log record of `type` (timestamp, addresses, ports) with `extra` members.
std::string connEvent(const Conn& c, telemetry::LogEventType type, const nlohmann::json& extra);

}  // namespace lbg::proxy
