#pragma once

// TLS server flight inspector: ServerHello (RFC 8446 §4.1.3, RFC 5246 §7.4.1.3) and, for TLS 1.2
// and older, the first certificate of the Certificate message (RFC 5246 §7.4.2) and the stapled
// OCSP response of a CertificateStatus message right after it (RFC 6066 §8), so that the
// destination's certificate and its revocation can be checked passively. TLS 1.3 encrypts the certificate: the
// flight is Done after the ServerHello and the check has to be made by probe.
//
// Input is the server→client stream from its start, re-parsed as it grows, like parseClientHello.
// Hot path: no allocation; bounded work (at most kMaxFlightRecords records are indexed).

#include <cstdint>
#include <span>

#include "dataplane/inspect/status.h"
#include "dataplane/inspect/tls/client_hello.h"

namespace lbg::inspect {

// A flight cut into more records than this is refused (real servers use 1–5).
inline constexpr uint32_t kMaxFlightRecords = 64;

struct TlsServerHello {
  uint16_t version;  // negotiated: supported_versions if present, else legacy_version
  bool tls13;
  bool helloRetry;  // a HelloRetryRequest (TLS 1.3): the real ServerHello comes later
  uint16_t cipher;
  bool hasCertificate;  // the first certificate is complete in the stream
  bool certContiguous;  // it lies in one record: stream[certOffset, certOffset + certLength)
  bool certInScratch;   // it straddled records and was copied to scratch[0, certLength)
  uint32_t certOffset;
  uint32_t certLength;
  // The whole certificate_list (leaf and intermediates, each with its 3-byte length) is in the
  // stream; copied to `chain` when one was given and it fits.
  bool chainComplete;
  bool chainCopied;
  uint32_t chainLength;
  // What follows the Certificate message is in the stream (or the plaintext handshake ended), so
  // whether the server stapled an OCSP response is known. A staple (CertificateStatus of type
  // ocsp) is the DER OCSPResponse; it is copied to chain[chainLength, chainLength + stapleLength)
  // when the chain was copied and both fit.
  bool statusKnown;
  bool hasStaple;
  bool stapleCopied;
  uint32_t stapleLength;
  TlsReason reason;  // why Invalid; None otherwise
};

// Done when the ServerHello says TLS 1.3 (or HelloRetryRequest), when a TLS ≤ 1.2 flight has no
// Certificate (resumption, anonymous and PSK suites), or once the first certificate is complete.
// A certificate that straddles records is copied to `scratch` if it fits; otherwise Done with
// hasCertificate set and neither certContiguous nor certInScratch (the caller cannot check it and
// must treat it as unverified). The passive certificate check needs the whole list: it waits
// (re-parsing as the stream grows) until chainComplete, and, when it reads staples, statusKnown.
Status parseServerFlight(std::span<const uint8_t> stream, TlsServerHello& out,
                         std::span<uint8_t> scratch = {}, std::span<uint8_t> chain = {});

}  // namespace lbg::inspect
