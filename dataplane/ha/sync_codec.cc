#include "dataplane/ha/sync_codec.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sys/stat.h>

#include <cstring>
#include <fstream>
#include <iterator>

#include "dataplane/flow/flow_meta.h"
#include "dataplane/ha/learn_frame.h"
#include "dataplane/inspect/hostname.h"
#include "dataplane/inspect/http/request_stream.h"
#include "dataplane/telemetry/event.h"
#include "dataplane/telemetry/log/vocabulary.h"

namespace lbg::ha {

namespace {

constexpr uint8_t kMagic[4] = {'L', 'B', 'G', 'S'};

#define LBG_SYNC_COUNT_(...) +1
constexpr unsigned kReasons = 0 LBG_VERDICT_REASONS(LBG_SYNC_COUNT_);
#undef LBG_SYNC_COUNT_

void put16(uint8_t* p, uint16_t v) { std::memcpy(p, &v, 2); }
void put32(uint8_t* p, uint32_t v) { std::memcpy(p, &v, 4); }
void put64(uint8_t* p, uint64_t v) { std::memcpy(p, &v, 8); }
uint16_t get16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return v;
}
uint32_t get32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
uint64_t get64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

bool mac(const SyncKey& key, const uint8_t* data, size_t len, uint8_t* out) {
  unsigned outLen = 0;
  return HMAC(EVP_sha256(), key.bytes.data(), int(key.bytes.size()), data, len, out, &outLen) !=
             nullptr &&
         outLen == kSyncMacBytes;
}

}  // namespace

bool validRecord(const SyncRecord& r) {
  if (r.op != uint8_t(SyncOp::Upsert) && r.op != uint8_t(SyncOp::Delete)) return false;
  if (r.key.proto != 6 && r.key.proto != 17) return false;
  if (r.tcpState > uint8_t(flow::TcpState::Closed)) return false;
  if ((r.seqKnown | r.finSeen | r.finAcked) > 3) return false;
  if ((r.flags & ~kSyncFlagsKnown) != 0) return false;
  if (r.reason >= kReasons) return false;
  if (r.appProto > uint8_t(telemetry::AppProto::Icmp)) return false;
  if (r.flags & kSyncFollowHttp) {
    inspect::HttpRequestStream s;
    std::memcpy(&s, &r.httpStream, sizeof(s));
    if (s.phase > uint8_t(inspect::HttpStreamPhase::TrailerLf)) return false;
  }
  // Host MACs: a unicast one or none (a group MAC would have the switches "learn" a broadcast).
  for (const uint8_t* m : {r.insideMac, r.outsideMac}) {
    if ((m[0] & 1) != 0) return false;
  }
  if (r.vlanTpid > kLearnTpidMax) return false;
  for (uint8_t b : r.pad) {
    if (b != 0) return false;
  }
  return true;
}

bool validRecord(const DnsSyncRecord& r) {
  if (r.ttlSec == 0 || r.ttlSec > kSyncMaxTtlSec) return false;
  if (r.nameLen == 0 || r.nameLen > inspect::kMaxHostnameLength) return false;
  // What the active's DNS parser binds: a lowercase host name (a name the policy can match).
  const auto* name = reinterpret_cast<const uint8_t*>(r.name);
  if (!inspect::isHostname(name, r.nameLen, false)) return false;
  for (size_t i = 0; i < sizeof(r.name); ++i) {
    if (i < r.nameLen ? (name[i] >= 'A' && name[i] <= 'Z') : name[i] != 0) return false;
  }
  for (uint8_t b : r.pad) {
    if (b != 0) return false;
  }
  return true;
}

bool validRecord(const CertSyncRecord& r) {
  if (r.ttlSec == 0 || r.ttlSec > kSyncMaxTtlSec) return false;
  if (r.cache != uint8_t(CertSyncCache::Chain) && r.cache != uint8_t(CertSyncCache::Probe)) {
    return false;
  }
  if (r.verdict > kSyncCertVerdictMax) return false;
  for (size_t i = r.sniLen; i < sizeof(r.sni); ++i) {
    if (r.sni[i] != 0) return false;
  }
  return true;
}

Result<SyncKey> loadSyncKey(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return Error{"cannot read the HA sync key", path};
  if ((st.st_mode & 077) != 0) {
    return Error{"the HA sync key must be readable by its owner only (chmod 600)", path};
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{"cannot read the HA sync key", path};
  SyncKey k;
  k.bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  while (!k.bytes.empty() && (k.bytes.back() == '\n' || k.bytes.back() == '\r' ||
                              k.bytes.back() == ' ')) {
    k.bytes.pop_back();
  }
  if (k.bytes.size() < 32) {
    return Error{"the HA sync key must be at least 32 bytes (openssl rand -hex 32)", path};
  }
  return k;
}

namespace {

size_t encode(const SyncKey& key, uint64_t sender, uint64_t seq, SyncKind kind,
              const void* records, size_t count, size_t recordSize, uint8_t* out) {
  std::memset(out, 0, kSyncHeaderBytes);
  std::memcpy(out, kMagic, 4);
  out[4] = kSyncFormat;
  out[5] = uint8_t(kind);
  put16(out + 6, uint16_t(count));
  put32(out + 8, uint32_t(recordSize));
  put64(out + 16, sender);
  put64(out + 24, seq);
  size_t len = kSyncHeaderBytes;
  if (count != 0) std::memcpy(out + len, records, count * recordSize);
  len += count * recordSize;
  if (!mac(key, out, len, out + len)) return 0;
  return len + kSyncMacBytes;
}

// The records of one kind after the header, each valid; false (out cleared) otherwise.
template <class R>
bool parseRecords(const uint8_t* p, uint16_t count, size_t maxCount, std::vector<R>& out) {
  if (count > maxCount) return false;
  out.resize(count);
  if (count > 0) std::memcpy(static_cast<void*>(out.data()), p, size_t(count) * sizeof(R));
  for (const R& r : out) {
    if (!validRecord(r)) {
      out.clear();
      return false;
    }
  }
  return true;
}

}  // namespace

size_t encodeSyncDatagram(const SyncKey& key, uint64_t sender, uint64_t seq,
                          std::span<const SyncRecord> records, uint8_t* out) {
  if (records.size() > kSyncMaxRecords) records = records.first(kSyncMaxRecords);
  return encode(key, sender, seq, SyncKind::Flow, records.data(), records.size(),
                sizeof(SyncRecord), out);
}

size_t encodeSyncDatagram(const SyncKey& key, uint64_t sender, uint64_t seq,
                          std::span<const DnsSyncRecord> records, uint8_t* out) {
  if (records.size() > kSyncMaxDnsRecords) records = records.first(kSyncMaxDnsRecords);
  return encode(key, sender, seq, SyncKind::Dns, records.data(), records.size(),
                sizeof(DnsSyncRecord), out);
}

size_t encodeSyncDatagram(const SyncKey& key, uint64_t sender, uint64_t seq,
                          std::span<const CertSyncRecord> records, uint8_t* out) {
  if (records.size() > kSyncMaxCertRecords) records = records.first(kSyncMaxCertRecords);
  return encode(key, sender, seq, SyncKind::Cert, records.data(), records.size(),
                sizeof(CertSyncRecord), out);
}

SyncDecode SyncReceiver::decode(std::span<const uint8_t> d, uint64_t realtimeNs,
                                SyncBatch& out) {
  out.clear();
  // Nothing is read before the HMAC verified, not even the count.
  if (d.size() < kSyncHeaderBytes + kSyncMacBytes || d.size() > kSyncMaxDatagram) {
    return SyncDecode::AuthFailed;
  }
  const size_t body = d.size() - kSyncMacBytes;
  uint8_t expect[kSyncMacBytes];
  if (!mac(key_, d.data(), body, expect) ||
      CRYPTO_memcmp(expect, d.data() + body, kSyncMacBytes) != 0) {
    return SyncDecode::AuthFailed;
  }
  const uint8_t* h = d.data();
  const uint16_t count = get16(h + 6);
  size_t size = 0;
  switch (h[5]) {
    case uint8_t(SyncKind::Flow): size = sizeof(SyncRecord); break;
    case uint8_t(SyncKind::Dns): size = sizeof(DnsSyncRecord); break;
    case uint8_t(SyncKind::Cert): size = sizeof(CertSyncRecord); break;
    default: return SyncDecode::Malformed;
  }
  if (std::memcmp(h, kMagic, 4) != 0 || h[4] != kSyncFormat || get32(h + 8) != size ||
      body != kSyncHeaderBytes + size_t(count) * size) {
    return SyncDecode::Malformed;
  }
  const uint64_t seq = get64(h + 24);
  const uint64_t skew = seq > realtimeNs ? seq - realtimeNs : realtimeNs - seq;
  if (seq <= lastSeq_ || skew > kMaxClockSkewNs) return SyncDecode::Replayed;
  const uint8_t* p = h + kSyncHeaderBytes;
  out.kind = SyncKind(h[5]);
  bool ok = false;
  switch (out.kind) {
    case SyncKind::Flow: ok = parseRecords(p, count, kSyncMaxRecords, out.flows); break;
    case SyncKind::Dns: ok = parseRecords(p, count, kSyncMaxDnsRecords, out.dns); break;
    case SyncKind::Cert: ok = parseRecords(p, count, kSyncMaxCertRecords, out.certs); break;
  }
  if (!ok) return SyncDecode::Malformed;
  lastSeq_ = seq;  // only a datagram that was wholly accepted moves the window
  return SyncDecode::Ok;
}

}  // namespace lbg::ha
