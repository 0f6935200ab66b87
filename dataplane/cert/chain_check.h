#pragma once

// Certificate validation shared by lbg-proxy (its upstream handshakes) and the gateway's passive
// check of TLS ≤ 1.2 server flights (verifier.h): one set of rules, one place.
//
//   chain     X509_verify_cert against the trust store, purpose TLS server
//   name      RFC 6125: DNS SANs only (the subject CN is never consulted, IP SANs never match a
//             name), case-insensitive, a wildcard only as a whole left-most label covering one label
//   validity  notBefore/notAfter at the given time (the capture's time in replays)
//   pins      SHA-256 of a SubjectPublicKeyInfo of any certificate of the verified chain
//   key       every key of the chain worth at least kMinSecurityBits (RSA ≥ 2048, EC ≥ 224)
//
// Set-up and verifier-thread code: allocates, never runs on a worker.

#include <openssl/x509.h>

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "dataplane/cert/ocsp_staple.h"

namespace lbg::cert {

// Why a certificate was refused; toString() is the logged reason.
enum class Refusal : uint8_t {
  None,
  Untrusted,    // no chain to the trust store (or any other verification failure)
  Name,         // no DNS SAN names the host
  Expired,      // outside its validity period (expired or not yet valid)
  PinMismatch,  // no certificate of the verified chain has a pinned SPKI
  WeakKey,      // a key of the chain is below kMinSecurityBits
  // The probe (prober.h) of a TLS 1.3 destination, whose certificate the client's flow encrypts:
  ProbeTimeout,  // no verified answer within the deadline (silent server, rate limit, no route)
  ProbeFailed,   // connection refused or reset, or the handshake failed before a certificate
  // Stapled OCSP (ocsp_staple.h):
  Revoked,      // the issuer's signed answer says the certificate is revoked
  OcspMissing,  // `ocsp: require` and the server stapled nothing
  OcspInvalid,  // a staple that is not a valid, signed, current "good" answer for the leaf
  // New refusals go last, and ha::kSyncCertVerdictMax (dataplane/ha/cache_record.h) follows,
  // or the HA sync rejects their verdicts as malformed.
};
const char* toString(Refusal r);

// OpenSSL security bits (RSA 2048 = 112, P-256 = 128): X509_VERIFY_PARAM auth level 2.
inline constexpr int kMinSecurityBits = 112;

// The flags every host name check uses (X509_check_host / X509_VERIFY_PARAM_set_hostflags).
unsigned hostCheckFlags();

// The refusal for an X509_V_ERR_* code of a failed verification.
Refusal classifyVerifyError(long x509Error);

// SHA-256 of a certificate's SubjectPublicKeyInfo (the pin format of `openssl x509 -pubkey | openssl
// pkey -pubin -outform der | sha256sum`).
using SpkiPin = std::array<uint8_t, 32>;
bool spkiSha256(X509* cert, SpkiPin& out);
// "sha256//<base64 of 32 bytes>" (policy `pins:`) into raw bytes; no allocation.
bool decodePin(std::string_view text, SpkiPin& out);
// None if `pins` is empty or any certificate of `chain` (a verified chain) matches one.
Refusal checkPins(STACK_OF(X509) * chain, std::span<const SpkiPin> pins);

// RFC 6125 match of `host` (an LDH name, A-labels for IDNs) against the certificate's DNS SANs.
bool nameMatches(X509* cert, std::string_view host);

struct X509StoreFree {
  void operator()(X509_STORE* s) const { X509_STORE_free(s); }
};
using X509StorePtr = std::unique_ptr<X509_STORE, X509StoreFree>;
// A PEM bundle (Debian: /etc/ssl/certs/ca-certificates.crt); nullptr if unreadable or empty.
X509StorePtr loadTrustStore(const std::string& pemFile);

struct CheckParams {
  std::string_view host;
  std::span<const SpkiPin> pins;
  int64_t atUnixSec = 0;  // 0: now
  // The server's stapled OCSP response (the probe's handshake, or the CertificateStatus of a
  // TLS ≤ 1.2 flight) and what to make of it.
  std::span<const uint8_t> ocspStaple;
  OcspMode ocsp = OcspMode::Off;
};
// Verifies a TLS ≤ 1.2 Certificate message's certificate_list body (RFC 5246 §7.4.2: 24-bit
// length-prefixed DER certificates, leaf first, the rest untrusted intermediates). An unparsable
// list is Untrusted.
Refusal checkCertificateList(X509_STORE* store, std::span<const uint8_t> certList,
                             const CheckParams& params);

}  // namespace lbg::cert
