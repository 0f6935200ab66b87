#include "dataplane/proxy/upstream_tls.h"

#include <openssl/x509v3.h>

#include <algorithm>

namespace lbg::proxy {

const char* toString(UpstreamRefusal r) {
  switch (r) {
    case UpstreamRefusal::None:
      return "none";
    case UpstreamRefusal::CertUntrusted:
      return "cert-untrusted";
    case UpstreamRefusal::CertName:
      return "cert-name";
    case UpstreamRefusal::CertExpired:
      return "cert-expired";
    case UpstreamRefusal::PinMismatch:
      return "pin-mismatch";
    case UpstreamRefusal::Handshake:
      return "upstream-handshake";
  }
  return "upstream-handshake";
}

SslCtxPtr makeUpstreamCtx(const std::string& trustFile) {
  SslCtxPtr ctx(SSL_CTX_new(TLS_client_method()));
  if (!ctx) return nullptr;
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  const int ok = trustFile.empty()
                     ? SSL_CTX_load_verify_locations(ctx.get(), nullptr, "/etc/ssl/certs")
                     : SSL_CTX_load_verify_locations(ctx.get(), trustFile.c_str(), nullptr);
  if (ok != 1) return nullptr;
  static const unsigned char kAlpn[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  SSL_CTX_set_alpn_protos(ctx.get(), kAlpn, sizeof(kAlpn));
  return ctx;
}

bool prepareUpstream(SSL* ssl, const std::string& host) {
  SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  return SSL_set_tlsext_host_name(ssl, host.c_str()) == 1 && SSL_set1_host(ssl, host.c_str()) == 1;
}

UpstreamRefusal classifyFailure(const SSL* ssl) {
  switch (SSL_get_verify_result(ssl)) {
    case X509_V_OK:
      return UpstreamRefusal::Handshake;
    case X509_V_ERR_HOSTNAME_MISMATCH:
      return UpstreamRefusal::CertName;
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_CERT_NOT_YET_VALID:
      return UpstreamRefusal::CertExpired;
    default:
      return UpstreamRefusal::CertUntrusted;
  }
}

bool spkiSha256(X509* cert, SpkiPin& out) {
  unsigned char* der = nullptr;
  const int len = i2d_PUBKEY(X509_get0_pubkey(cert), &der);
  if (len <= 0) return false;
  unsigned n = 0;
  const bool ok = EVP_Digest(der, size_t(len), out.data(), &n, EVP_sha256(), nullptr) == 1;
  OPENSSL_free(der);
  return ok && n == out.size();
}

UpstreamRefusal checkPins(SSL* ssl, std::span<const SpkiPin> pins) {
  if (pins.empty()) return UpstreamRefusal::None;
  STACK_OF(X509)* chain = SSL_get0_verified_chain(ssl);
  if (!chain) return UpstreamRefusal::PinMismatch;
  for (int i = 0; i < sk_X509_num(chain); ++i) {
    SpkiPin h{};
    if (!spkiSha256(sk_X509_value(chain, i), h)) continue;
    if (std::find(pins.begin(), pins.end(), h) != pins.end()) return UpstreamRefusal::None;
  }
  return UpstreamRefusal::PinMismatch;
}

}  // namespace lbg::proxy
