#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>

#include "dataplane/cert/chain_check.h"
#include "dataplane/proxy/ossl.h"

namespace lbg::proxy {

// Why an upstream server was refused. The `tls` event's reason is toString() of it; there is no
// "continue anyway": any of these refuses the client's connection.
enum class UpstreamRefusal : uint8_t {
  None,
  CertUntrusted,  // no chain to the trust store (or any other verification failure)
  CertName,       // the certificate does not name the host
  CertExpired,    // outside its validity period (expired or not yet valid)
  PinMismatch,    // no certificate of the chain has a pinned SPKI
  Revoked,        // stapled OCSP says revoked (cert-revoked)
  OcspMissing,    // `ocsp: require` and nothing stapled
  OcspInvalid,    // a stapled answer that is not a valid, signed, current "good"
  Handshake,      // the TLS handshake failed for another reason (protocol < 1.2, reset, …)
};
const char* toString(UpstreamRefusal r);

// The SSL_CTX for upstream connections (one per worker): verification required against
// `trustFile` (PEM bundle) or, if empty, Debian's /etc/ssl/certs; TLS 1.2 at least; ALPN http/1.1;
// a stapled OCSP answer asked for (status_request) on every handshake.
// nullptr if the trust store cannot be loaded.
SslCtxPtr makeUpstreamCtx(const std::string& trustFile);

// Prepares an upstream SSL for `host`: SNI and hostname verification (cert::hostCheckFlags():
// DNS SANs only, no partial wildcards).
bool prepareUpstream(SSL* ssl, const std::string& host);

// The refusal for a failed handshake, from the verification result.
UpstreamRefusal classifyFailure(const SSL* ssl);

// Pins and their digest are the shared validator's (dataplane/cert/chain_check.h).
using cert::SpkiPin;
using cert::spkiSha256;
// After a verified handshake: None if `pins` is empty or any certificate of the verified chain
// (leaf, intermediates, root) matches a pin, else PinMismatch.
UpstreamRefusal checkPins(SSL* ssl, std::span<const SpkiPin> pins);

// After a verified handshake: the server's stapled OCSP answer against the verified chain and the
// context's trust store (dataplane/cert/ocsp_staple.h: the probe's rules).
UpstreamRefusal checkStaple(SSL* ssl, cert::OcspMode mode);

}  // namespace lbg::proxy
