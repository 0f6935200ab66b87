#pragma once

// The flow-sync datagram: the only thing either box of an HA pair accepts from the HA link.
//
//   header (32 bytes): "LBGS", format version, record kind, record count, record size, sender
//                      id, sequence
//   count × one kind of record: SyncRecord (sync_record.h), DnsSyncRecord or CertSyncRecord
//   (cache_record.h); each kind has its own size and its own bound per datagram
//   HMAC-SHA256 (32 bytes) of everything before it, under the pair's shared key
//
// The receiver trusts nothing before the HMAC verified (a wrong key, a forged or truncated
// datagram is an auth failure and installs nothing); then the sequence must be newer than the last
// one accepted and within kMaxClockSkewNs of the receiver's clock (a replayed datagram, even a
// recent one, is refused); then every field is range-checked (validRecord() of the kind).
// The sequence is the sender's wall clock in ns, made strictly increasing: a restarted sender
// goes on above its old sequences, and a datagram captured earlier is either not newer or stale.

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "dataplane/ha/cache_record.h"
#include "dataplane/ha/sync_record.h"
#include "policy/base/result.h"

namespace lbg::ha {

inline constexpr size_t kSyncHeaderBytes = 32;
inline constexpr size_t kSyncMacBytes = 32;
// Records per datagram, per kind: a datagram fits a 1500-byte MTU without IP fragments.
inline constexpr size_t kSyncMaxRecords = 8;
inline constexpr size_t kSyncMaxDnsRecords = 5;
inline constexpr size_t kSyncMaxCertRecords = 4;
inline constexpr size_t kSyncMaxDatagram = 1472;
static_assert(kSyncHeaderBytes + kSyncMaxRecords * sizeof(SyncRecord) + kSyncMacBytes <=
              kSyncMaxDatagram);
static_assert(kSyncHeaderBytes + kSyncMaxDnsRecords * sizeof(DnsSyncRecord) + kSyncMacBytes <=
              kSyncMaxDatagram);
static_assert(kSyncHeaderBytes + kSyncMaxCertRecords * sizeof(CertSyncRecord) + kSyncMacBytes <=
              kSyncMaxDatagram);
// 2: the record carries the hosts' MACs (168 bytes). 3: the header names the record kind (DNS
// bindings and certificate verdicts besides flows).
inline constexpr uint8_t kSyncFormat = 3;

// The header's record kind (byte 5).
enum class SyncKind : uint8_t { Flow = 0, Dns = 1, Cert = 2 };
// The two boxes' clocks must agree within this (NTP); beyond, datagrams are refused as stale.
inline constexpr uint64_t kMaxClockSkewNs = 30'000'000'000ull;

// The pair's shared secret: at least 32 bytes (e.g. `openssl rand -hex 32`), read from a file
// that only its owner may read.
struct SyncKey {
  std::vector<uint8_t> bytes;
};
Result<SyncKey> loadSyncKey(const std::string& path);

// Sender side: encodes up to the kind's bound of records (kSyncMax*Records) into `out`
// (kSyncMaxDatagram bytes) and returns the datagram's length. `seq` must be strictly increasing
// (SyncSequence).
size_t encodeSyncDatagram(const SyncKey& key, uint64_t sender, uint64_t seq,
                          std::span<const SyncRecord> records, uint8_t* out);
size_t encodeSyncDatagram(const SyncKey& key, uint64_t sender, uint64_t seq,
                          std::span<const DnsSyncRecord> records, uint8_t* out);
size_t encodeSyncDatagram(const SyncKey& key, uint64_t sender, uint64_t seq,
                          std::span<const CertSyncRecord> records, uint8_t* out);

// The sender's sequence: its wall clock in ns, strictly increasing.
class SyncSequence {
 public:
  uint64_t next(uint64_t realtimeNs) {
    last_ = realtimeNs > last_ ? realtimeNs : last_ + 1;
    return last_;
  }

 private:
  uint64_t last_ = 0;
};

enum class SyncDecode : uint8_t { Ok, AuthFailed, Replayed, Malformed };

// One decoded datagram: its kind, and its records in the vector of that kind (the others empty).
// The vectors keep their capacity between datagrams (the sync thread reserves them once).
struct SyncBatch {
  SyncKind kind = SyncKind::Flow;
  std::vector<SyncRecord> flows;
  std::vector<DnsSyncRecord> dns;
  std::vector<CertSyncRecord> certs;
  void clear() {
    flows.clear();
    dns.clear();
    certs.clear();
  }
  size_t size() const { return flows.size() + dns.size() + certs.size(); }
};

// Receiver side: verifies and parses one datagram. Keeps the last accepted sequence (one window
// for all kinds: the sender numbers its datagrams in one sequence).
class SyncReceiver {
 public:
  explicit SyncReceiver(SyncKey key) : key_(std::move(key)) {}
  // On Ok, `out` holds the datagram's records (at most the kind's bound), each valid; otherwise
  // it is empty.
  SyncDecode decode(std::span<const uint8_t> datagram, uint64_t realtimeNs, SyncBatch& out);
  uint64_t lastSequence() const { return lastSeq_; }

 private:
  SyncKey key_;
  uint64_t lastSeq_ = 0;
};

}  // namespace lbg::ha
