#pragma once

// The TLS ClientHello inside a QUIC client Initial (RFC 9001 §5: Initial packet protection with
// keys derived from the Destination Connection ID; RFC 9000 §19.6 CRYPTO frames; RFC 9369 v2).
// Initial keys are public by design, so the gateway can read the SNI a QUIC client sends.
//
// One datagram at a time and no state: if the ClientHello continues in the next Initial
// (post-quantum key shares make it ~1.8 KiB+), the answer is NeedMore. CRYPTO frames may come in
// any order inside the packet (Chrome shuffles them); overlapping frames must agree.
//
// Cost: one HKDF (HMAC-SHA256 through OpenSSL), one AES-ECB block and one AES-GCM open per call,
// on thread-local cipher contexts created on first use. OpenSSL's one-shot HMAC allocates inside:
// call this on the first datagram(s) of a UDP/443 flow only. Measured: ~30 µs per datagram.

#include <cstdint>
#include <span>
#include <string_view>

#include "dataplane/inspect/status.h"
#include "dataplane/inspect/tls/client_hello.h"

namespace lbg::inspect {

#define LBG_QUIC_REASONS(X)                                                             \
  X(None, "none")                                                                       \
  X(NotInitial, "quic-not-initial") /* not a long-header Initial */                     \
  X(UnsupportedVersion, "quic-unsupported-version")                                     \
  X(BadHeader, "quic-bad-header")           /* lengths past the datagram */             \
  X(DecryptFailed, "quic-decrypt-failed")   /* AEAD tag mismatch */                     \
  X(BadFrame, "quic-bad-frame")             /* frame not allowed in Initial, overrun */ \
  X(CryptoConflict, "quic-crypto-conflict") /* overlapping CRYPTO data differs */       \
  X(CryptoTooLarge, "quic-crypto-too-large")                                            \
  X(Tls, "quic-tls") /* the ClientHello itself: see tls.reason */

enum class QuicReason : uint8_t {
#define LBG_QUIC_REASON_ENUM_(id, text) id,
  LBG_QUIC_REASONS(LBG_QUIC_REASON_ENUM_)
#undef LBG_QUIC_REASON_ENUM_
};
std::string_view toString(QuicReason r);

struct QuicClientHello {
  uint32_t version;
  TlsClientHello tls;  // valid when Done
  QuicReason reason;   // why Invalid; None otherwise
};

// Done: the ClientHello was complete in this datagram's first Initial packet. NeedMore: it
// continues in a later datagram (or the CRYPTO data has a gap). Invalid: see reason. NotMine:
// not a QUIC long-header packet at all.
Status parseQuicClientHello(std::span<const uint8_t> datagram, QuicClientHello& out);

// Client Initial keys (RFC 9001 §5.2), exposed for tests. False for versions we do not know.
struct QuicInitialKeys {
  uint8_t key[16];
  uint8_t iv[12];
  uint8_t hp[16];
};
bool deriveQuicClientKeys(uint32_t version, std::span<const uint8_t> dcid, QuicInitialKeys& out);

}  // namespace lbg::inspect
