#pragma once

// Test support: OCSP responses signed in memory (what a CA's responder would answer), and the
// server half of stapling. Tests only.

#include <openssl/ocsp.h>
#include <openssl/ssl.h>

#include <cstdint>
#include <vector>

#include "dataplane/proxy/test_certs.h"

namespace lbg::cert::test {

struct OcspAnswer {
  int certStatus = V_OCSP_CERTSTATUS_GOOD;
  long thisUpdateSec = -60;   // relative to now
  long nextUpdateSec = 3600;  // relative to now; 0 = none
  int responseStatus = OCSP_RESPONSE_STATUS_SUCCESSFUL;
};

// A DER OCSPResponse about `leaf` (issued by `issuer`), signed by `signer`.
std::vector<uint8_t> makeOcspResponse(const proxy::test::KeyCert& signer, X509* leaf,
                                      X509* issuer, const OcspAnswer& a = {});

// `base` issued by `ca` again with extendedKeyUsage id-kp-OCSPSigning: a delegated responder.
void addOcspSigning(proxy::test::KeyCert& base, const proxy::test::KeyCert& ca);

// Makes a server SSL_CTX staple `*der` (nothing when empty); `der` outlives the context.
void stapleOn(SSL_CTX* ctx, const std::vector<uint8_t>* der);

}  // namespace lbg::cert::test
