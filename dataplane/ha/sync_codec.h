#pragma once

// The flow-sync datagram: the only thing either box of an HA pair accepts from the HA link.
//
//   header (32 bytes): "LBGS", format version, record count, record size, sender id, sequence
//   count × SyncRecord (sync_record.h)
//   HMAC-SHA256 (32 bytes) of everything before it, under the pair's shared key
//
// The receiver trusts nothing before the HMAC verified (a wrong key, a forged or truncated
// datagram is an auth failure and installs nothing); then the sequence must be newer than the last
// one accepted and within kMaxClockSkewNs of the receiver's clock (a replayed datagram, even a
// recent one, is refused); then every field is range-checked (sync_record.h validRecord()).
// The sequence is the sender's wall clock in ns, made strictly increasing: a restarted sender
// goes on above its old sequences, and a datagram captured earlier is either not newer or stale.

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "dataplane/ha/sync_record.h"
#include "policy/base/result.h"

namespace lbg::ha {

inline constexpr size_t kSyncHeaderBytes = 32;
inline constexpr size_t kSyncMacBytes = 32;
// Records per datagram: a datagram fits a 1500-byte MTU without IP fragments.
inline constexpr size_t kSyncMaxRecords = 8;
inline constexpr size_t kSyncMaxDatagram =
    kSyncHeaderBytes + kSyncMaxRecords * sizeof(SyncRecord) + kSyncMacBytes;
static_assert(kSyncMaxDatagram <= 1472);
// 2: the record carries the hosts' MACs (168 bytes).
inline constexpr uint8_t kSyncFormat = 2;
// The two boxes' clocks must agree within this (NTP); beyond, datagrams are refused as stale.
inline constexpr uint64_t kMaxClockSkewNs = 30'000'000'000ull;

// The pair's shared secret: at least 32 bytes (e.g. `openssl rand -hex 32`), read from a file
// that only its owner may read.
struct SyncKey {
  std::vector<uint8_t> bytes;
};
Result<SyncKey> loadSyncKey(const std::string& path);

// Sender side: encodes up to kSyncMaxRecords records into `out` (kSyncMaxDatagram bytes) and
// returns the datagram's length. `seq` must be strictly increasing (SyncSequence).
size_t encodeSyncDatagram(const SyncKey& key, uint64_t sender, uint64_t seq,
                          std::span<const SyncRecord> records, uint8_t* out);

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

// Receiver side: verifies and parses one datagram. Keeps the last accepted sequence.
class SyncReceiver {
 public:
  explicit SyncReceiver(SyncKey key) : key_(std::move(key)) {}
  // On Ok, `out` holds the datagram's records (at most kSyncMaxRecords), each valid.
  SyncDecode decode(std::span<const uint8_t> datagram, uint64_t realtimeNs,
                    std::vector<SyncRecord>& out);
  uint64_t lastSequence() const { return lastSeq_; }

 private:
  SyncKey key_;
  uint64_t lastSeq_ = 0;
};

}  // namespace lbg::ha
