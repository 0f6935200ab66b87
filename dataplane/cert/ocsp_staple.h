#pragma once

// Revocation by stapled OCSP (RFC 6066 §8, RFC 6960): the server hands over a response signed
// by its certificate's issuer (or a responder the issuer delegated), so the check costs no
// connection to a responder and reveals nothing to a third party. lbg never fetches OCSP itself:
// from the appliance's network the responders are not reachable, and a soft-fail fetch would be
// theatre. Used by lbg-proxy's upstream handshakes and by the certificate probe (one rule set).
//
//   off      the staple is not looked at
//   prefer   (default) a staple that is present must be a valid, signed "good" answer for the
//            leaf: "revoked" refuses (cert-revoked), anything else wrong refuses (ocsp-invalid);
//            no staple passes
//   require  as prefer, and no staple refuses (ocsp-missing)
//
// Set-up and verifier-thread code: allocates, never runs on a worker.

#include <openssl/x509.h>

#include <cstdint>
#include <span>

#include "policy/model.h"

namespace lbg::cert {

enum class OcspMode : uint8_t { Off, Prefer, Require };
const char* toString(OcspMode m);
// The policy's `certificate.ocsp` of a service.
OcspMode ocspModeOf(policy::OcspCheck c);

enum class Refusal : uint8_t;

// How far a response's thisUpdate may lie in the future and its nextUpdate in the past (clock
// skew between the responder and the appliance).
inline constexpr int64_t kOcspSkewSec = 300;
// A response without nextUpdate is accepted this long after its thisUpdate (a week, as browsers).
inline constexpr int64_t kOcspMaxAgeSec = 7 * 86400;

// `staple` is the DER OCSPResponse the server stapled (empty: none); `chain` the verified chain,
// leaf first and its issuer second; `store` the trust store the chain was verified against (it
// also anchors the responder's certificate). `atUnixSec` 0 = now.
Refusal checkOcspStaple(std::span<const uint8_t> staple, STACK_OF(X509) * chain,
                        X509_STORE* store, OcspMode mode, int64_t atUnixSec = 0);

}  // namespace lbg::cert
