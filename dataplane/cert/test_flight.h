#pragma once

// Tests' and benchmarks' server flight: what a TLS server sends after the ClientHello, built from
// real certificates — ServerHello, then for TLS 1.2 Certificate (the given DER certificates, leaf
// first), a CertificateStatus when a stapled OCSP response is given, and ServerHelloDone; for TLS 1.3 the ServerHello alone (the rest is encrypted). Never
// linked into the appliance.

#include <openssl/x509.h>

#include <cstdint>
#include <initializer_list>
#include <vector>

#include "dataplane/inspect/tls/hello_builder.h"

namespace lbg::cert::testing {

inline inspect::testing::Bytes serverFlight(std::initializer_list<X509*> certs,
                                            bool tls13 = false,
                                            const std::vector<uint8_t>* staple = nullptr) {
  namespace tls = inspect::testing;
  tls::Bytes sh;
  tls::put16(sh, 0x0303);
  tls::append(sh, tls::Bytes(32, 0x42));
  sh.push_back(0);
  tls::put16(sh, tls13 ? 0x1301 : 0xc02f);
  sh.push_back(0);
  if (tls13) {
    tls::put16(sh, 6);
    tls::put16(sh, 43);  // supported_versions: TLS 1.3
    tls::put16(sh, 2);
    tls::put16(sh, 0x0304);
  }
  tls::Bytes msgs = tls::handshake(sh, 2);
  if (!tls13) {
    tls::Bytes list;
    for (X509* c : certs) {
      unsigned char* der = nullptr;
      const int n = i2d_X509(c, &der);
      tls::put24(list, size_t(n));
      tls::append(list, tls::Bytes(der, der + n));
      OPENSSL_free(der);
    }
    tls::Bytes body;
    tls::put24(body, list.size());
    tls::append(body, list);
    tls::append(msgs, tls::handshake(body, 11));
    if (staple != nullptr) {  // RFC 6066 §8: status_type ocsp, 24-bit length, OCSPResponse
      tls::Bytes status = {1};
      tls::put24(status, staple->size());
      tls::append(status, tls::Bytes(staple->begin(), staple->end()));
      tls::append(msgs, tls::handshake(status, 22));
    }
    tls::append(msgs, tls::handshake({}, 14));
  }
  return tls::records(msgs, 16384, 0x0303);
}

}  // namespace lbg::cert::testing
