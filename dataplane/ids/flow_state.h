#pragma once

#include <cstdint>

#include "dataplane/ids/tls_records.h"
#include "policy/base/ip_addr.h"

struct hs_stream;

namespace lbg::ids {

// Which application the pipeline identified on the flow; `http`/`tls`/`dns` rules need it.
enum class AppProto : uint8_t { Unknown, Http, Tls, Dns };

// What the IDS needs to know about a flow, filled once by the pipeline (client = who opened it).
struct FlowTuple {
  IpAddr client, server;
  uint16_t clientPort = 0, serverPort = 0;
  uint8_t ipProto = 0;  // 6 TCP, 17 UDP, 1/58 ICMP
  AppProto app = AppProto::Unknown;
  bool established = false;  // the pipeline sets it when the handshake completed
};

// Per-flow IDS state: small and bounded (no pointer to anything but Hyperscan's stream state,
// opened on the flow's first TCP payload and closed by Engine::release()).
struct FlowIdsState {
  // The last bytes of each direction's stream, so a rule whose fast pattern ends in this chunk
  // but whose other contents came in earlier ones is still verified, however small the segments
  // an attacker sends: Suricata's inline raw inspection looks back about as far (its stream
  // chunk, 2,560 bytes with the packet). A ring indexed by stream offset, so a chunk writes only
  // its own bytes.
  static constexpr int kStreamTail = 2048;
  static_assert((kStreamTail & (kStreamTail - 1)) == 0, "the ring is indexed by a mask");
  // Distinct flowbits a flow can hold; a set beyond that is counted (flowbitsFull), not stored.
  static constexpr int kMaxFlowbits = 16;

  FlowTuple tuple;
  hs_stream* stream[2] = {nullptr, nullptr};  // [0] to server, [1] to client
  // The engine's stream database each direction uses (chosen by the flow's addresses and server
  // port when the direction's first payload comes): kStreamUnknown before, kNoStream when no
  // rule can match.
  static constexpr uint16_t kStreamUnknown = 0xffff;
  static constexpr uint16_t kNoStream = 0xfffe;
  uint16_t streamDb[2] = {kStreamUnknown, kStreamUnknown};
  uint32_t streamBytes[2] = {0, 0};           // bytes scanned so far per direction
  // streamBytes[d] when stream[d] was opened: Hyperscan counts its offsets from there (a flow
  // that went on from one policy version's engine to the next opened its new stream mid-way).
  uint32_t streamBase[2] = {0, 0};
  // Up to where (stream offset) a literal the stream database reported may still belong to a
  // match that ends later (Engine::Database::carry: a cut or sliced fast pattern, or a rule that
  // inspects more than it); while a chunk starts before it, the previous chunk's tail is
  // searched for those literals again.
  uint32_t carryUntil[2] = {0, 0};
  uint16_t tailLen[2] = {0, 0};  // bytes of the ring before streamBytes[d] that are the stream's
  uint8_t flowbitCount = 0;
  // What the address index (Engine::queueAlways) holds for this flow's two addresses in
  // direction d's payload, looked up on the direction's first scan by the engine whose id is
  // addressIndexEngine: addressHitCount[d] lists (indexes into that engine's index) in
  // addressHits[d], kAddressHitsUnknown before the lookup (or for another engine: a new policy
  // version looks again), kAddressHitsMany when more than kMaxAddressHits (looked up per scan).
  // The addresses of a flow do not change, so later packets queue the lists without hashing.
  static constexpr int kMaxAddressHits = 4;
  static constexpr uint8_t kAddressHitsUnknown = 0xff;
  static constexpr uint8_t kAddressHitsMany = 0xfe;
  uint8_t addressHitCount[2] = {kAddressHitsUnknown, kAddressHitsUnknown};
  uint32_t addressHits[2][kMaxAddressHits];
  uint64_t addressIndexEngine = 0;
  bool depthExceeded[2] = {false, false};
  // A TLS flow's records (tuple.app Tls): once its encrypted application data began, its payload
  // is no longer scanned (EngineConfig::inspectEncryptedTls, Suricata's default).
  TlsFlowWalk tls;
  bool encrypted = false;
  uint16_t flowbits[kMaxFlowbits];
  uint8_t tail[2][kStreamTail];  // stream offset o of direction d at tail[d][o % kStreamTail]

  bool isSet(uint16_t bit) const {
    for (int i = 0; i < flowbitCount; ++i)
      if (flowbits[i] == bit) return true;
    return false;
  }
  // false when the set is full
  bool set(uint16_t bit) {
    if (isSet(bit)) return true;
    if (flowbitCount == kMaxFlowbits) return false;
    flowbits[flowbitCount++] = bit;
    return true;
  }
  void unset(uint16_t bit) {
    for (int i = 0; i < flowbitCount; ++i)
      if (flowbits[i] == bit) {
        flowbits[i] = flowbits[--flowbitCount];
        return;
      }
  }
};

}  // namespace lbg::ids
