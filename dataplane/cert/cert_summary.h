#pragma once

// What `lbgctl certs` shows of a destination's certificate: the leaf's subject and issuer (RFC
// 2253, one line) and its notAfter. Read by the verifier thread for the certificate ledger
// (ledger.h), never on a worker.

#include <openssl/x509.h>

#include <cstdint>
#include <span>
#include <string>

namespace lbg::cert {

struct CertSummary {
  std::string subject;
  std::string issuer;
  int64_t notAfter = 0;  // Unix seconds; 0: no certificate was read
};

CertSummary summarize(X509* leaf);
// The first certificate of a TLS ≤ 1.2 certificate_list body (24-bit length-prefixed DER); an
// empty summary if it does not parse.
CertSummary summarizeList(std::span<const uint8_t> certList);

}  // namespace lbg::cert
