#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "dataplane/proxy/async_resolver.h"
#include "dataplane/proxy/client_hello_sniff.h"
#include "dataplane/proxy/client_sessions.h"
#include "dataplane/proxy/icap_client.h"
#include "dataplane/proxy/leaf_minter.h"
#include "dataplane/proxy/pac_file.h"
#include "dataplane/proxy/ossl.h"
#include "dataplane/proxy/proxy_counters.h"
#include "dataplane/proxy/session_id_store.h"
#include "dataplane/proxy/upstream_tls.h"
#include "dataplane/proxy/worker_link.h"
#include "dataplane/telemetry/log/log_writer.h"
#include "policy/base/result.h"
#include "policy/snapshot.h"

namespace lbg::proxy {

struct ProxyConfig {
  std::string listenAddress = "127.0.0.1";  // IPv4 or IPv6 literal (no brackets)
  uint16_t listenPort = 3128;
  std::string policyFile;
  std::string caCertFile;  // appliance CA (PEM)
  std::string caKeyFile;   // its private key (PEM), readable by lbg-proxy only
  std::string trustFile;   // upstream trust store; empty = /etc/ssl/certs
  // Tests only: "host" → "ip:port" instead of resolving host and connecting to the CONNECT port.
  std::map<std::string, std::string> connectTo;
  telemetry::LogConfig log;  // log.dir empty = no enforcement log
  // A connection with no byte in either direction for this long is closed (slowloris clients,
  // silent upstreams); before the CONNECT head and the handshakes are done, headTimeoutSec.
  int headTimeoutSec = 10;
  int idleTimeoutSec = 300;
  // Transparent listeners (IP_TRANSPARENT, fed by the kernel's TPROXY rules; empty = none): the
  // destination is the one the client asked for, the name the ClientHello's SNI. An IPv4 and an
  // IPv6 one (IPV6_V6ONLY) on the same port, either or both.
  std::string transparentAddress;
  std::string transparentAddress6;  // without brackets
  uint16_t transparentPort = 0;
  // Counters for the control server (counters_file.h), rewritten when they changed, at most every
  // half second, and at exit; empty = not written.
  std::string statsFile;
  // The appliance CA is read again on SIGHUP (ProxyWorkers::requestCaReload) and, when this is above 0, as soon
  // as its files change (checked every this many seconds); see ProxyWorkers::reloadCa. Off by default: after
  // `lbgctl ca rotate` the PCs must first be given the new certificate, and the operator says
  // when with SIGHUP (control/README.md, "Appliance CA").
  int caCheckIntervalSec = 0;
  // lbg-icapd for `sanitize: true` services ("icap://IPv4:PORT/sanitize"; empty = none, and then
  // a policy with such a service is refused at start). A response body is held whole up to
  // icapMaxBody bytes (larger: refused) and lbg-icapd must answer within icapTimeoutSec.
  std::string icapUri;
  uint64_t icapMaxBody = 32ull << 20;
  int icapTimeoutSec = 60;
  // Worker threads (proxy_workers.h), each with its own loop and SO_REUSEPORT listeners;
  // 0 = one per CPU lbg-proxy may run on (sched_getaffinity).
  int workers = 0;
  // Name lookups run on these threads per worker (async_resolver.h: getaddrinfo never blocks the
  // loop); at most resolverQueue lookups wait per worker, further CONNECTs are refused (503).
  int resolverThreads = 2;
  int resolverQueue = 256;
  // Per worker (conn_limits.cc): connections held at once (more are reset at accept), and bytes
  // of sanitized responses held for lbg-icapd at once (a response that would pass it gets 503):
  // memory stays bounded whatever the clients do.
  int maxConnections = 10000;
  uint64_t icapHeldBudget = 1ull << 30;
};

struct Conn;

// One worker: an epoll loop that owns its listeners (SO_REUSEPORT: every worker binds the same
// ports and the kernel spreads new connections), its SSL_CTXs, its leaf minter, its upstream
// session cache and its client ticket keys (computed like every other worker's from one seed:
// client_sessions.h); nothing of the I/O path is shared or locked. What goes to and comes from the
// supervisor (ProxyWorkers: log records, counters, CA reloads, stop) passes its WorkerLink. Explicit mode:
// `CONNECT host:port`. A host the policy allows and marks `intercept: true` is intercepted (its
// upstream validated first, then a minted leaf shown to the client); any other allowed host is
// spliced; anything else is refused with 403. Transparent mode (optional second listener,
// IP_TRANSPARENT): the same Conn state machine, the destination from getsockname() and the name
// from the ClientHello (peeked, so a splice loses no byte) instead of CONNECT.
class ProxyServer {
 public:
  // `policy` is the supervisor's validated snapshot (immutable, read by every worker), `minter`
  // this worker's, `tickets` the seed of the client ticket keys, `link` outlives the worker.
  static Result<std::unique_ptr<ProxyServer>> create(const ProxyConfig& config,
                                                     std::shared_ptr<const policy::Snapshot> policy,
                                                     std::unique_ptr<LeafMinter> minter,
                                                     const TicketSeed& tickets, WorkerLink& link,
                                                     SessionIdStore* sessionIds = nullptr);
  ~ProxyServer();

  uint16_t port() const { return port_; }
  uint16_t transparentPort() const { return transparentPort_; }
  // Runs until the link's stop request; publishes the counters at exit.
  void run();

  // Used by Conn.
  void logEvent(const std::string& json);
  ProxyCounters& mutableCounters() { return counters_; }

 private:
  ProxyServer() = default;
  void onEvent(uint64_t tag, uint32_t events);
  void acceptAll();
  // Transparent mode (transparent_server.cc).
  // epoll tags: the IPv4 and IPv6 transparent listeners, the resolver's eventfd (answers to
  // take); connections use epollTag() (>= 4)
  static constexpr uint64_t kTransparentTag = 1, kResolverTag = 2, kTransparent6Tag = 3;
  // Explicit mode's way to the upstream (resolve_connect.cc): resolveUpstream asks for the
  // CONNECT host's addresses (false: too many lookups waiting); takeAnswers hands the resolver's
  // answers to the connections waiting in Phase::Resolving; connectUpstream starts the
  // non-blocking connect to the address found (false: refused at once).
  bool resolveUpstream(Conn& c);
  // Admission (conn_limits.cc): admit() resets a connection accepted over --max-connections;
  // acceptFailed() handles accept()'s failure, sheding one waiting connection when descriptors
  // ran out (the level-triggered listener would wake the loop forever otherwise).
  bool admit(int fd);
  void acceptFailed(int listenFd);
  // Charges a sanitized response's held bytes to the worker's budget (false: over it, refused
  // by the caller); releaseHeld returns them.
  bool chargeHeld(Conn& c);
  void releaseHeld(Conn& c);
  // The refusal of a response chargeHeld() turned down: 503 sanitize-busy, counted; returns 1
  // (progress, as pumpSanitize and pumpIcap report it).
  int refuseOverBudget(Conn& c);
  void takeAnswers();
  bool connectUpstream(Conn& c);
  Result<Ok> openTransparent();
  Result<Ok> openTransparentFamily(const std::string& address, int& fd, uint64_t tag);
  void acceptTransparent(int listenFd);
  bool pumpHello(Conn& c);  // true once the connection left PeekHello
  // Refuses a transparent connection with a reset and a `tls` event (returns false).
  bool refuseHello(Conn& c, const char* reason, const std::string& sni);
  // The upstream leg from the client's own address to the original destination (false: refused).
  bool connectTransparent(Conn& c);
  void refuseTransparent(Conn& c);
  void pump(Conn& c);
  // The matched service's per-connection settings: tenant headers when the host is one of the
  // profile's, the fields set on requests, the sanitizing state.
  void bindService(Conn& c);
  // `GET /proxy.pac` or `/wpad.dat` on the explicit listener (pac_file.h).
  void servePac(Conn& c);
  // Sanitized services (sanitize_relay.cc): reads the upstream's responses, holds each one,
  // adapts it through lbg-icapd and queues the result in c.toClient. Returns 1 on progress, 0 if
  // waiting; failures queue an error answer and set c.closing (fail closed).
  int pumpSanitize(Conn& c);
  void refuseResponse(Conn& c, const char* status, const char* reason, const char* detail);
  void startIcap(Conn& c);
  int pumpIcap(Conn& c);
  void closeIcap(Conn& c);
  void checkIcapDeadlines();
  // A client connection accepted (explicit or transparent): registered with epoll and pumped.
  void addConn(std::unique_ptr<Conn> c);
  void closeConn(Conn& c);
  void closeIdle();

  friend struct Conn;
  ProxyConfig config_;
  std::shared_ptr<const policy::Snapshot> policy_;
  std::unique_ptr<LeafMinter> minter_;
  std::vector<std::vector<SpkiPin>> pins_;  // per service index, decoded from the policy
  std::vector<cert::OcspMode> ocsp_;          // per service index: `certificate.ocsp`
  // Per service index: the fields set on requests to its tenant profile's hosts, and to its
  // other hosts (`Accept-Encoding: identity` for sanitized services: lbg-icapd blocks compressed
  // bodies, so the origin is asked for plain ones).
  std::vector<std::vector<std::pair<std::string, std::string>>> tenantHeaders_;
  std::vector<std::vector<std::pair<std::string, std::string>>> plainHeaders_;
  std::optional<IcapService> icap_;
  std::unique_ptr<PacFile> pac_;
  SslCtxPtr clientCtx_;    // the side facing the client
  SslCtxPtr upstreamCtx_;  // the side facing the origin
  std::unique_ptr<TicketKeys> ticketKeys_;  // clientCtx_'s (its app data)
  WorkerLink* link_ = nullptr;
  bool logging_ = false;
  std::vector<std::string> pendingLogs_;  // this loop iteration's records, then to link_
  int epfd_ = -1;
  int listenFd_ = -1;
  uint16_t port_ = 0;
  int transparentFd_ = -1;
  int transparent6Fd_ = -1;
  uint16_t transparentPort_ = 0;
  std::unique_ptr<ClientHelloSniffer> sniffer_;
  uint64_t nextId_ = 1;
  std::unordered_map<uint64_t, std::unique_ptr<Conn>> conns_;
  std::unique_ptr<AsyncResolver> resolver_;
  int spareFd_ = -1;         // given up to accept and reset one connection when out of descriptors
  uint64_t heldBytes_ = 0;   // sanitized responses' bytes held by this worker (chargeHeld)
  // The newest upstream TLS session per host (resumption skips the server's signature and the
  // chain verification; the chain was validated when the session was made).
  struct SessionFree {
    void operator()(SSL_SESSION* p) const { SSL_SESSION_free(p); }
  };
  std::unordered_map<std::string, std::unique_ptr<SSL_SESSION, SessionFree>> upstreamSessions_;
  ProxyCounters counters_;
};

}  // namespace lbg::proxy
