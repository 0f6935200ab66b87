// libFuzzer target: the flow-sync datagram parser (sync_codec.h), the only thing a box accepts
// from the HA link. Each input is decoded twice: as it is (nearly always an auth failure: the
// HMAC must hold first), and signed with the receiver's key, so that the parser behind the HMAC
// (header, count, sequence window, every record's ranges) sees arbitrary authenticated bytes.
// Invariants: nothing but Ok yields records; Ok yields records of one kind only (flows, DNS
// bindings or certificate verdicts), at most that kind's bound, each valid, and the replay window
// only moves forward.

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "dataplane/ha/sync_codec.h"

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

constexpr uint64_t kNow = 1'800'000'000'000'000'000ull;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace lbg::ha;
  static const SyncKey key{std::vector<uint8_t>(32, 0x5a)};
  SyncReceiver rx(key);
  SyncBatch out;
  const auto raw = rx.decode({data, size}, kNow, out);
  check(raw == SyncDecode::Ok || out.size() == 0);

  if (size > kSyncMaxDatagram - kSyncMacBytes) size = kSyncMaxDatagram - kSyncMacBytes;
  std::vector<uint8_t> signed_(data, data + size);
  signed_.resize(size + kSyncMacBytes);
  unsigned len = 0;
  HMAC(EVP_sha256(), key.bytes.data(), int(key.bytes.size()), data, size, signed_.data() + size,
       &len);
  const uint64_t before = rx.lastSequence();
  const auto r = rx.decode(signed_, kNow, out);
  if (r == SyncDecode::Ok) {
    const size_t kinds = !out.flows.empty() + !out.dns.empty() + !out.certs.empty();
    check(kinds <= 1);
    check(out.flows.size() <= kSyncMaxRecords && out.dns.size() <= kSyncMaxDnsRecords &&
          out.certs.size() <= kSyncMaxCertRecords);
    check(out.flows.empty() || out.kind == SyncKind::Flow);
    check(out.dns.empty() || out.kind == SyncKind::Dns);
    check(out.certs.empty() || out.kind == SyncKind::Cert);
    for (const auto& rec : out.flows) check(validRecord(rec));
    for (const auto& rec : out.dns) check(validRecord(rec));
    for (const auto& rec : out.certs) check(validRecord(rec));
    check(rx.lastSequence() > before);
  } else {
    check(out.size() == 0);
    check(rx.lastSequence() == before);
  }
  return 0;
}
