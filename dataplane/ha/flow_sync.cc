#include "dataplane/ha/flow_sync.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <random>

namespace lbg::ha {

Result<SyncEndpoint> SyncEndpoint::parse(const std::string& s) {
  SyncEndpoint e;
  e.text = s;
  std::string host, port;
  if (!s.empty() && s.front() == '[') {
    const auto close = s.find(']');
    if (close == std::string::npos || close + 1 >= s.size() || s[close + 1] != ':') {
      return Error{"'" + s + "' is not [ADDR]:PORT"};
    }
    host = s.substr(1, close - 1);
    port = s.substr(close + 2);
  } else {
    const auto colon = s.rfind(':');
    if (colon == std::string::npos || s.find(':') != colon) {
      return Error{"'" + s + "' is not ADDR:PORT (IPv6: [ADDR]:PORT)"};
    }
    host = s.substr(0, colon);
    port = s.substr(colon + 1);
  }
  uint32_t p = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || p == 0 ||
      p > 65535) {
    return Error{"'" + s + "': the port must be 1..65535"};
  }
  auto* v4 = reinterpret_cast<sockaddr_in*>(&e.addr);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&e.addr);
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(uint16_t(p));
    e.len = sizeof(sockaddr_in);
  } else if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(uint16_t(p));
    e.len = sizeof(sockaddr_in6);
  } else {
    return Error{"'" + s + "': '" + host + "' is not a numeric IPv4 or IPv6 address"};
  }
  return e;
}

FlowSync::FlowSync(const SyncEndpoint& local, const SyncEndpoint& peer, SyncKey key,
                   uint32_t workers, uint32_t ringRecords, uint32_t cacheRingRecords)
    : local_(local), peer_(peer), key_(key), receiver_(std::move(key)) {
  for (uint32_t w = 0; w < workers; ++w) {
    out_.push_back(std::make_unique<SyncRing>(ringRecords));
    in_.push_back(std::make_unique<SyncRing>(ringRecords));
    dnsOut_.push_back(std::make_unique<DnsSyncRing>(cacheRingRecords));
    dnsIn_.push_back(std::make_unique<DnsSyncRing>(cacheRingRecords));
    certOut_.push_back(std::make_unique<CertSyncRing>(cacheRingRecords));
    certIn_.push_back(std::make_unique<CertSyncRing>(cacheRingRecords));
  }
  std::random_device rd;
  sender_ = uint64_t(rd()) << 32 | rd();
  received_.flows.reserve(kSyncMaxRecords);
  received_.dns.reserve(kSyncMaxDnsRecords);
  received_.certs.reserve(kSyncMaxCertRecords);
}

Result<std::unique_ptr<FlowSync>> FlowSync::create(const SyncEndpoint& local,
                                                   const SyncEndpoint& peer, SyncKey key,
                                                   uint32_t workers, uint32_t ringRecords,
                                                   uint32_t cacheRingRecords) {
  if (local.addr.ss_family != peer.addr.ss_family) {
    return Error{"ha.sync: local and peer must be of the same address family"};
  }
  for (uint32_t n : {ringRecords, cacheRingRecords}) {
    if (n == 0 || (n & (n - 1)) != 0) return Error{"ha.sync: ring size must be a power of two"};
  }
  std::unique_ptr<FlowSync> s(
      new FlowSync(local, peer, std::move(key), workers, ringRecords, cacheRingRecords));
  s->fd_ = ::socket(local.addr.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (s->fd_ < 0) return Error{std::string("ha.sync: socket: ") + std::strerror(errno)};
  if (::bind(s->fd_, reinterpret_cast<const sockaddr*>(&local.addr), local.len) != 0) {
    return Error{"ha.sync: cannot bind " + local.text + ": " + std::strerror(errno)};
  }
  // Bursts of new flows come in bursts of datagrams: room for them in the kernel. The FORCE
  // variants pass net.core.[rw]mem_max (the gateway runs with CAP_NET_ADMIN); else the capped one.
  const int bufBytes = 8 << 20;
  if (::setsockopt(s->fd_, SOL_SOCKET, SO_RCVBUFFORCE, &bufBytes, sizeof(bufBytes)) != 0) {
    ::setsockopt(s->fd_, SOL_SOCKET, SO_RCVBUF, &bufBytes, sizeof(bufBytes));
  }
  if (::setsockopt(s->fd_, SOL_SOCKET, SO_SNDBUFFORCE, &bufBytes, sizeof(bufBytes)) != 0) {
    ::setsockopt(s->fd_, SOL_SOCKET, SO_SNDBUF, &bufBytes, sizeof(bufBytes));
  }
  return s;
}

FlowSync::~FlowSync() {
  stop();
  if (fd_ >= 0) ::close(fd_);
}

void FlowSync::start(std::function<bool()> standby, std::function<uint64_t()> realtimeNs) {
  standby_ = std::move(standby);
  clock_ = std::move(realtimeNs);
  stop_.store(false);
  thread_ = std::thread([this] { run(); });
}

void FlowSync::stop() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
}

template <class R>
void FlowSync::flush(std::span<const R> records, uint64_t realtimeNs) {
  if (records.empty()) return;
  const size_t len =
      encodeSyncDatagram(key_, sender_, sequence_.next(realtimeNs), records, buf_);
  for (;;) {
    const ssize_t n = len == 0 ? -1
                               : ::sendto(fd_, buf_, len, 0,
                                          reinterpret_cast<const sockaddr*>(&peer_.addr), peer_.len);
    if (n == ssize_t(len)) {
      counters_.ha_sync_datagrams_sent.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == ENOBUFS)) {
      // The socket's buffer is full: wait for room rather than lose the records.
      pollfd p{fd_, POLLOUT, 0};
      if (::poll(&p, 1, 10) > 0) continue;
    }
    counters_.ha_sync_send_failed.fetch_add(1, std::memory_order_relaxed);
    return;
  }
}

template <class R, size_t N>
bool FlowSync::drain(std::vector<std::unique_ptr<telemetry::SpscRing<R>>>& rings, R (&batch)[N],
                     uint64_t realtimeNs) {
  bool any = false;
  size_t batched = 0;
  for (auto& ring : rings) {
    // A bounded share per ring per pass, so that one busy worker does not starve the receive.
    for (uint32_t n = 0; n < 4096 && ring->tryPop(batch[batched]); ++n) {
      any = true;
      if (++batched == N) {
        flush(std::span<const R>(batch, batched), realtimeNs);
        batched = 0;
      }
    }
  }
  flush(std::span<const R>(batch, batched), realtimeNs);
  return any;
}

bool FlowSync::sendPending(uint64_t realtimeNs) {
  // Bindings and verdicts first: a flow allowed by a binding is worth little on the standby
  // without it (they are queued before or with the flow's first record).
  const bool dns = drain(dnsOut_, dnsBatch_, realtimeNs);
  const bool certs = drain(certOut_, certBatch_, realtimeNs);
  const bool flows = drain(out_, batch_, realtimeNs);
  return dns || certs || flows;
}

bool FlowSync::receive(bool standby, uint64_t realtimeNs) {
  bool any = false;
  for (int n = 0; n < 256; ++n) {
    uint8_t d[kSyncMaxDatagram + 1];
    const ssize_t got = ::recv(fd_, d, sizeof(d), 0);
    if (got < 0) break;
    any = true;
    counters_.ha_sync_datagrams_received.fetch_add(1, std::memory_order_relaxed);
    switch (receiver_.decode({d, size_t(got)}, realtimeNs, received_)) {
      case SyncDecode::AuthFailed:
        counters_.ha_sync_auth_failed.fetch_add(1, std::memory_order_relaxed);
        continue;
      case SyncDecode::Replayed:
        counters_.ha_sync_replayed.fetch_add(1, std::memory_order_relaxed);
        continue;
      case SyncDecode::Malformed:
        counters_.ha_sync_malformed.fetch_add(1, std::memory_order_relaxed);
        continue;
      case SyncDecode::Ok:
        break;
    }
    handOut(standby);
  }
  return any;
}

void FlowSync::handOut(bool standby) {
  if (!standby) {
    counters_.ha_sync_ignored_active.fetch_add(received_.size(), std::memory_order_relaxed);
    return;
  }
  auto pushed = [this](bool ok, std::atomic<uint64_t>& received) {
    (ok ? received : counters_.ha_sync_inbound_overflow).fetch_add(1, std::memory_order_relaxed);
  };
  for (const SyncRecord& r : received_.flows) {
    // Both boxes spread flows over their workers the same way (same ports, same symmetric
    // hash, same worker count): the worker that owned the flow there owns it here.
    pushed(in_[r.worker % in_.size()]->tryPush(r), counters_.ha_sync_records_received);
  }
  for (const DnsSyncRecord& r : received_.dns) {
    // One table for all workers: the worker that learnt it binds it (any would do).
    pushed(dnsIn_[r.worker % dnsIn_.size()]->tryPush(r), counters_.ha_sync_dns_received);
  }
  for (const CertSyncRecord& r : received_.certs) {
    // Each worker has its own caches, and the next flow to that destination may land on any.
    for (auto& ring : certIn_) pushed(ring->tryPush(r), counters_.ha_sync_cert_received);
  }
}

void FlowSync::pollOnce(bool standby, uint64_t realtimeNs) {
  sendPending(realtimeNs);
  receive(standby, realtimeNs);
}

void FlowSync::run() {
  while (!stop_.load(std::memory_order_relaxed)) {
    const uint64_t now = clock_();
    const bool sent = sendPending(now);
    const bool got = receive(standby_(), now);
    if (!sent && !got) {
      // Idle: wait for a datagram, or 1 ms for the workers to queue more.
      pollfd p{fd_, POLLIN, 0};
      ::poll(&p, 1, 1);
    }
  }
  sendPending(clock_());  // what the workers queued before stopping
}

}  // namespace lbg::ha
