#pragma once

// Following a TLS client stream after its ClientHello was judged, until the encrypted phase
// (RFC 8446 §5.1, RFC 5246 §6.2): the pipeline (dataplane/core/tls_follow.cc) feeds the client
// bytes in order, segment by segment; the walker checks every record header and every cleartext
// handshake message header, and stops at each later ClientHello so that the caller can hold it
// until complete and judge the name it carries (a second hello after a HelloRetryRequest, or one
// an attacker slips in after the verdict).
//
// What a client sends in cleartext after its first ClientHello, and what the walker accepts:
//   TLS 1.2 full handshake   Certificate (11), ClientKeyExchange (16), CertificateVerify (15),
//                            change_cipher_spec; after it everything is encrypted: End.
//   TLS 1.2 resumption       change_cipher_spec, then an encrypted Finished in a handshake record.
//   TLS 1.3                  change_cipher_spec (compatibility mode), a second ClientHello after
//                            a HelloRetryRequest, then application_data records: End at the first.
//   TLS 1.3 with 0-RTT       application_data records right after the hello (early data). A
//                            server that answers with a HelloRetryRequest skips them (RFC 8446
//                            §4.2.10) and reads the next ClientHello: the walk does not end at
//                            them and goes on for the life of the connection.
// After a change_cipher_spec, a client that offered TLS 1.3 and sent no ClientKeyExchange may be
// in any of the last three cases (the server's choice, not seen here): a handshake record there
// is a ClientHello if its first byte says so (type 1, length below 2^18, more than any server
// accepts), and must then be a valid one; anything else is the encrypted Finished: End.
//
// Refused (Invalid, `reason`): a record type other than 20–23, a record version not 3.x, a
// record longer than 2^14 (2^14 + 2048 once encrypted records may come, RFC 5246 §6.2.3), an
// empty handshake record, a change_cipher_spec other than the one byte 1, a cleartext alert not
// 2 bytes long, another record type inside a handshake message, a cleartext handshake message a
// client does not send (anything but 1, 11, 15, 16).
//
// Per flow: TlsFollow (8 bytes, in the flow entry). No allocation; tlsFollowHello() gathers a
// hello spread over records in a 16 KiB stack buffer, like parseClientHello().

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "dataplane/inspect/status.h"
#include "dataplane/inspect/tls/client_hello.h"

namespace lbg::inspect {

struct TlsFollow {
  uint32_t hsLeft : 24;  // body bytes left of the handshake message walked (or its length read)
  uint32_t hsHave : 2;   // handshake header bytes read (1: the type; 2, 3: length bytes)
  uint32_t hdrHave : 3;  // record header bytes read; 4: the length's high byte is in recLeft
  uint32_t recType : 2;  // current record's content type − 20
  uint32_t ccsSeen : 1;  // the client sent change_cipher_spec (and it did not end the walk)
  uint16_t recLeft;      // body bytes left of the current record
  uint8_t offers13 : 1;  // the judged hello offered TLS 1.3
  uint8_t earlyData : 1; // a hello offered early data (0-RTT): application data does not end it
  uint8_t ckeSeen : 1;   // ClientKeyExchange seen: TLS ≤ 1.2, encrypted after the CCS
  uint8_t hasSni : 1;    // the judged hello named a server (the caller keeps the name's hash)
  uint8_t pad;
};
static_assert(sizeof(TlsFollow) == 8);

#define LBG_TLS_FOLLOW_REASONS(X)                                                  \
  X(None, "none")                                                                  \
  X(RecordType, "tls-follow-record-type")         /* not 20–23 */                  \
  X(RecordVersion, "tls-follow-record-version")   /* not 3.x */                    \
  X(RecordTooLong, "tls-follow-record-too-long")                                   \
  X(EmptyRecord, "tls-follow-empty-record")       /* zero-length handshake record */ \
  X(BadCcs, "tls-follow-bad-ccs")                 /* not one byte 0x01 */          \
  X(BadAlert, "tls-follow-bad-alert")             /* cleartext alert not 2 bytes */ \
  X(Interleaved, "tls-follow-interleaved-record") /* inside a handshake message */ \
  X(HandshakeType, "tls-follow-handshake-type")   /* not a client's cleartext message */

enum class TlsFollowReason : uint8_t {
#define LBG_TLS_FOLLOW_ENUM_(id, text) id,
  LBG_TLS_FOLLOW_REASONS(LBG_TLS_FOLLOW_ENUM_)
#undef LBG_TLS_FOLLOW_ENUM_
};
std::string_view toString(TlsFollowReason r);

enum class FollowStep : uint8_t {
  Walked,   // every byte given was walked and is consistent: it may be forwarded
  Hello,    // a ClientHello message starts at `consumed`: call tlsFollowHello() from there
  End,      // the encrypted phase starts inside these bytes: stop following
  Invalid,  // `reason`: deny
};

struct FollowResult {
  FollowStep step;
  size_t consumed;  // Walked: all; Hello: bytes before the hello's first byte
  TlsFollowReason reason;
};

// The state of a follower started just after the judged ClientHello (at a record boundary).
TlsFollow tlsFollowStart(bool offersTls13, bool earlyData, bool hasSni);

// Walks `bytes` from state `s` (advanced). See FollowStep.
FollowResult tlsFollowWalk(TlsFollow& s, std::span<const uint8_t> bytes);

struct HelloStep {
  Status status;     // NeedMore: hold and call again with more bytes; Done: `hello` filled
  bool encrypted;    // (with Done) not a hello after all: the encrypted Finished, stop following
  size_t consumed;   // Done: bytes up to the end of the hello
  TlsReason reason;  // Invalid: why (record layer or parseClientHelloMessage())
};

// `bytes` starts at the first byte of a ClientHello message (FollowStep::Hello), `s` is the state
// there. Gathers the message across records and parses it; on Done `s` is advanced past it.
HelloStep tlsFollowHello(TlsFollow& s, std::span<const uint8_t> bytes, TlsClientHello& hello);

}  // namespace lbg::inspect
