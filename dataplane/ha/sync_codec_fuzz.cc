// libFuzzer target: the flow-sync datagram parser (sync_codec.h), the only thing a box accepts
// from the HA link. Each input is decoded twice: as it is (nearly always an auth failure: the
// HMAC must hold first), and signed with the receiver's key, so that the parser behind the HMAC
// (header, count, sequence window, every record's ranges) sees arbitrary authenticated bytes.
// Invariants: nothing but Ok yields records; Ok yields at most kSyncMaxRecords records, each
// valid, and the replay window only moves forward.

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
  std::vector<SyncRecord> out;
  const auto raw = rx.decode({data, size}, kNow, out);
  check(raw == SyncDecode::Ok || out.empty());

  if (size > kSyncMaxDatagram - kSyncMacBytes) size = kSyncMaxDatagram - kSyncMacBytes;
  std::vector<uint8_t> signed_(data, data + size);
  signed_.resize(size + kSyncMacBytes);
  unsigned len = 0;
  HMAC(EVP_sha256(), key.bytes.data(), int(key.bytes.size()), data, size, signed_.data() + size,
       &len);
  const uint64_t before = rx.lastSequence();
  const auto r = rx.decode(signed_, kNow, out);
  if (r == SyncDecode::Ok) {
    check(out.size() <= kSyncMaxRecords);
    for (const auto& rec : out) check(validRecord(rec));
    check(rx.lastSequence() > before);
  } else {
    check(out.empty());
    check(rx.lastSequence() == before);
  }
  return 0;
}
