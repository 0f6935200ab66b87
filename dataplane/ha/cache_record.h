#pragma once

// What the active box of an HA pair sends the standby besides flows (flow-state sync,
// ARCHITECTURE.md "Redundancy"): the state that decides a *new* flow's verdict and that the
// standby cannot learn itself, since it sees none of the traffic:
//   DnsSyncRecord   one DNS binding (name ↔ address) learnt from an answer the active saw, so
//                   that `sni_dns: enforce` and DNS-bound services allow after a takeover without
//                   a new answer (clients keep their cached answers);
//   CertSyncRecord  one certificate verdict (passive chain check or probe), positive or negative,
//                   so that a destination refused before the takeover stays refused and a proven
//                   one is not probed again.
// Times travel as remaining seconds, never as absolute clocks: the boxes' monotonic clocks have
// nothing in common. Fixed size, plain data, no padding (copied as bytes like SyncRecord).

#include <cstdint>
#include <type_traits>

namespace lbg::ha {

// Longest TTL a record may carry: the receiver clamps to its own limits anyway (dnsTtlMaxSec,
// the caches' TTLs); beyond this the record is malformed.
inline constexpr uint32_t kSyncMaxTtlSec = 7 * 24 * 3600;

struct DnsSyncRecord {
  uint8_t addr[16];  // IpAddr::bytes (IPv4 mapped)
  uint32_t ttlSec;   // remaining at the export, 1..kSyncMaxTtlSec
  uint8_t worker;    // the active's worker: the standby binds on the same index (its clock)
  uint8_t nameLen;   // 1..253
  char name[254];    // normalised (lowercase host name, no trailing dot), zero after nameLen
  uint8_t pad[4];
};
static_assert(sizeof(DnsSyncRecord) == 280);
static_assert(std::has_unique_object_representations_v<DnsSyncRecord>);
static_assert(std::is_trivially_copyable_v<DnsSyncRecord>);

// CertSyncRecord::cache: which of a worker's verdict caches (dataplane/cert/verdict_cache.h).
enum class CertSyncCache : uint8_t {
  Chain = 1,  // the passive check's, keyed by cacheKey() (certificate list, SNI, pins)
  Probe = 2,  // the probe's, keyed by probeKey() (server address, port, SNI, pins)
};
// Highest cert::Refusal (OcspInvalid); pipeline_cache_sync.cc asserts it stays so.
inline constexpr uint8_t kSyncCertVerdictMax = 10;

struct CertSyncRecord {
  // The cache key, a SHA-256 over what the verdict depends on, pins included: both boxes run the
  // same committed policy, so the standby's next flow computes the same key. It is what installs.
  uint8_t key[32];
  // What the verdict is about (the key cannot be read back): for tests and diagnostics.
  uint8_t server[16];  // IpAddr::bytes
  uint32_t ttlSec;     // remaining at the export, 1..kSyncMaxTtlSec
  uint16_t serverPort;
  uint8_t cache;    // CertSyncCache
  uint8_t verdict;  // cert::Refusal: None (proven) or why it was refused
  uint8_t sniLen;
  char sni[255];  // zero after sniLen
};
static_assert(sizeof(CertSyncRecord) == 312);
static_assert(std::has_unique_object_representations_v<CertSyncRecord>);
static_assert(std::is_trivially_copyable_v<CertSyncRecord>);

// False when a field is out of its range: the receiver counts the datagram malformed.
bool validRecord(const DnsSyncRecord& r);
bool validRecord(const CertSyncRecord& r);

}  // namespace lbg::ha
