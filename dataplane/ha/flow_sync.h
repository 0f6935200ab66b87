#pragma once

// The sync thread of an HA pair (flow-state sync; dataplane/ha/README.md). Not a worker: it owns
// the HA link's kernel UDP socket (the management/HA link, never a DPDK port), drains the
// workers' outbound rings into authenticated datagrams to the peer, and hands the records it
// receives (while this box is standby) to the owning worker's inbound ring. Workers never block
// on it and never make a syscall for it: a full ring is counted and the record dropped (the
// periodic re-sync of live flows sends it again).

#include <sys/socket.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "dataplane/ha/sync_codec.h"
#include "dataplane/ha/sync_counters.h"
#include "dataplane/ha/sync_record.h"
#include "dataplane/telemetry/spsc_ring.h"
#include "policy/base/result.h"

namespace lbg::ha {

// "ADDR:PORT" or "[ADDR6]:PORT", numeric only (no name resolution on the HA path).
struct SyncEndpoint {
  sockaddr_storage addr{};
  socklen_t len = 0;
  std::string text;
  static Result<SyncEndpoint> parse(const std::string& s);
};

using SyncRing = telemetry::SpscRing<SyncRecord>;
using DnsSyncRing = telemetry::SpscRing<DnsSyncRecord>;
using CertSyncRing = telemetry::SpscRing<CertSyncRecord>;

// One worker's rings of the caches' records (cache_record.h), both directions.
struct CacheSyncRings {
  DnsSyncRing* dnsOut = nullptr;
  DnsSyncRing* dnsIn = nullptr;
  CertSyncRing* certOut = nullptr;
  CertSyncRing* certIn = nullptr;
};

class FlowSync {
 public:
  // `ringRecords`: flow records per worker and direction (a power of two); the caches' rings
  // hold `cacheRingRecords` each (a power of two: bindings and verdicts are far rarer than
  // flow updates, and bigger).
  static Result<std::unique_ptr<FlowSync>> create(const SyncEndpoint& local,
                                                  const SyncEndpoint& peer, SyncKey key,
                                                  uint32_t workers, uint32_t ringRecords = 16384,
                                                  uint32_t cacheRingRecords = 2048);
  ~FlowSync();

  SyncRing& outbound(uint32_t worker) { return *out_[worker]; }
  SyncRing& inbound(uint32_t worker) { return *in_[worker]; }
  CacheSyncRings cacheRings(uint32_t worker) {
    return {dnsOut_[worker].get(), dnsIn_[worker].get(), certOut_[worker].get(),
            certIn_[worker].get()};
  }

  // Starts the thread; `standby()` says whether received records are installed (a standby) or
  // ignored (an active box has the newer state itself). `realtimeNs()` is the clock of the
  // datagrams' sequence.
  void start(std::function<bool()> standby, std::function<uint64_t()> realtimeNs);
  void stop();

  // One pass of the thread's work without waiting (tests, the bench): sends what the rings
  // hold, reads what the socket has. Not while the thread runs.
  void pollOnce(bool standby, uint64_t realtimeNs);

  SyncLinkCounters::Plain counters() const { return counters_.snapshot(); }
  const std::string& peerText() const { return peer_.text; }
  const std::string& localText() const { return local_.text; }

 private:
  FlowSync(const SyncEndpoint& local, const SyncEndpoint& peer, SyncKey key, uint32_t workers,
           uint32_t ringRecords, uint32_t cacheRingRecords);
  bool sendPending(uint64_t realtimeNs);  // true when it sent something
  bool receive(bool standby, uint64_t realtimeNs);
  void handOut(bool standby);  // the records of the datagram just decoded, to the workers
  // Drains one kind's outbound rings into datagrams of that kind.
  template <class R, size_t N>
  bool drain(std::vector<std::unique_ptr<telemetry::SpscRing<R>>>& rings, R (&batch)[N],
             uint64_t realtimeNs);
  template <class R>
  void flush(std::span<const R> records, uint64_t realtimeNs);
  void run();

  SyncEndpoint local_, peer_;
  SyncKey key_;
  SyncReceiver receiver_;
  SyncSequence sequence_;
  uint64_t sender_ = 0;  // random per process: says which run of the peer a datagram is from
  int fd_ = -1;
  std::vector<std::unique_ptr<SyncRing>> out_, in_;
  std::vector<std::unique_ptr<DnsSyncRing>> dnsOut_, dnsIn_;
  std::vector<std::unique_ptr<CertSyncRing>> certOut_, certIn_;
  SyncRecord batch_[kSyncMaxRecords];
  DnsSyncRecord dnsBatch_[kSyncMaxDnsRecords];
  CertSyncRecord certBatch_[kSyncMaxCertRecords];
  uint8_t buf_[kSyncMaxDatagram];
  SyncBatch received_;
  SyncLinkCounters counters_;
  std::function<bool()> standby_;
  std::function<uint64_t()> clock_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace lbg::ha
