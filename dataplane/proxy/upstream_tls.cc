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
    case UpstreamRefusal::Revoked:
      return "cert-revoked";
    case UpstreamRefusal::OcspMissing:
      return "ocsp-missing";
    case UpstreamRefusal::OcspInvalid:
      return "ocsp-invalid";
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
  SSL_CTX_set_tlsext_status_type(ctx.get(), TLSEXT_STATUSTYPE_ocsp);
  return ctx;
}

bool prepareUpstream(SSL* ssl, const std::string& host) {
  SSL_set_hostflags(ssl, cert::hostCheckFlags());
  return SSL_set_tlsext_host_name(ssl, host.c_str()) == 1 && SSL_set1_host(ssl, host.c_str()) == 1;
}

UpstreamRefusal classifyFailure(const SSL* ssl) {
  switch (cert::classifyVerifyError(SSL_get_verify_result(ssl))) {
    case cert::Refusal::None:
      return UpstreamRefusal::Handshake;
    case cert::Refusal::Name:
      return UpstreamRefusal::CertName;
    case cert::Refusal::Expired:
      return UpstreamRefusal::CertExpired;
    case cert::Refusal::PinMismatch:
      return UpstreamRefusal::PinMismatch;
    case cert::Refusal::Untrusted:
    case cert::Refusal::WeakKey:
      return UpstreamRefusal::CertUntrusted;
    case cert::Refusal::ProbeTimeout:  // never from a verify error code
    case cert::Refusal::ProbeFailed:
    case cert::Refusal::Revoked:
    case cert::Refusal::OcspMissing:
    case cert::Refusal::OcspInvalid:
      return UpstreamRefusal::Handshake;
  }
  return UpstreamRefusal::CertUntrusted;
}

UpstreamRefusal checkPins(SSL* ssl, std::span<const SpkiPin> pins) {
  return cert::checkPins(SSL_get0_verified_chain(ssl), pins) == cert::Refusal::None
             ? UpstreamRefusal::None
             : UpstreamRefusal::PinMismatch;
}

}  // namespace lbg::proxy

namespace lbg::proxy {

UpstreamRefusal checkStaple(SSL* ssl, cert::OcspMode mode) {
  const unsigned char* der = nullptr;
  const long len = SSL_get_tlsext_status_ocsp_resp(ssl, &der);
  std::span<const uint8_t> staple;
  if (len > 0 && der != nullptr) staple = {der, size_t(len)};
  X509_STORE* store = SSL_CTX_get_cert_store(SSL_get_SSL_CTX(ssl));
  switch (cert::checkOcspStaple(staple, SSL_get0_verified_chain(ssl), store, mode)) {
    case cert::Refusal::None:
      return UpstreamRefusal::None;
    case cert::Refusal::Revoked:
      return UpstreamRefusal::Revoked;
    case cert::Refusal::OcspMissing:
      return UpstreamRefusal::OcspMissing;
    default:
      return UpstreamRefusal::OcspInvalid;
  }
}

}  // namespace lbg::proxy
