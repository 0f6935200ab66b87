// What bounds a worker's memory and descriptors whatever its clients do: connections held at
// once (--max-connections), descriptors running out (accept fails), and the bytes of sanitized
// responses held for lbg-icapd (--icap-held-budget). Each refusal is counted; none crashes or
// stalls the worker. See proxy_server.h.
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "dataplane/proxy/proxy_conn.h"
#include "dataplane/proxy/proxy_server.h"

namespace lbg::proxy {

namespace {

// A reset, not a FIN: the client learns at once and its socket leaves no TIME_WAIT here.
void resetAndClose(int fd) {
  const linger hard{1, 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
  close(fd);
}

}  // namespace

bool ProxyServer::admit(int fd) {
  if (conns_.size() < size_t(std::max(config_.maxConnections, 1))) return true;
  ++counters_.conn_limit_refused;
  resetAndClose(fd);
  return false;
}

void ProxyServer::acceptFailed(int listenFd) {
  if (errno != EMFILE && errno != ENFILE) return;  // EAGAIN: nothing waits; others pass
  // Out of descriptors: the waiting connection stays in the listen queue and the listener,
  // level-triggered, wakes the loop again at once. The spare descriptor is given up to take
  // that connection and reset it, then taken back.
  ++counters_.accept_failed;
  if (spareFd_ >= 0) close(spareFd_);
  spareFd_ = -1;
  const int fd = accept4(listenFd, nullptr, nullptr, SOCK_CLOEXEC);
  if (fd >= 0) resetAndClose(fd);
  spareFd_ = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

bool ProxyServer::chargeHeld(Conn& c) {
  SanitizeState& s = *c.san;
  // The body is held twice while lbg-icapd has it (the original for a 204, its copy in the ICAP
  // request), and a body of known length is charged whole from its head, so that a response that
  // cannot fit is refused before its bytes are read.
  const uint64_t body = s.body.size() + (s.kind == BodyKind::Length ? s.bodyLeft : 0);
  const uint64_t want = 2 * body + (s.answer ? s.answer->body().size() : 0);
  if (want > s.charged && heldBytes_ + (want - s.charged) > config_.icapHeldBudget) return false;
  heldBytes_ = heldBytes_ - s.charged + want;
  s.charged = want;
  return true;
}

int ProxyServer::refuseOverBudget(Conn& c) {
  ++counters_.sanitize_busy;
  refuseResponse(c, "503 Service Unavailable", "sanitize-busy", "over --icap-held-budget");
  return 1;
}

void ProxyServer::releaseHeld(Conn& c) {
  heldBytes_ -= c.san->charged;
  c.san->charged = 0;
}

}  // namespace lbg::proxy
