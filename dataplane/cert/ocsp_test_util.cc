#include "dataplane/cert/ocsp_test_util.h"

#include <openssl/x509v3.h>

#include <cstring>

namespace lbg::cert::test {

std::vector<uint8_t> makeOcspResponse(const proxy::test::KeyCert& signer, X509* leaf,
                                      X509* issuer, const OcspAnswer& a) {
  std::vector<uint8_t> out;
  OCSP_RESPONSE* resp = nullptr;
  if (a.responseStatus != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
    resp = OCSP_response_create(a.responseStatus, nullptr);
  } else {
    OCSP_BASICRESP* bs = OCSP_BASICRESP_new();
    OCSP_CERTID* id = OCSP_cert_to_id(EVP_sha1(), leaf, issuer);
    ASN1_TIME* thisUpd = X509_gmtime_adj(nullptr, a.thisUpdateSec);
    ASN1_TIME* nextUpd = a.nextUpdateSec != 0 ? X509_gmtime_adj(nullptr, a.nextUpdateSec) : nullptr;
    ASN1_TIME* revokedAt = X509_gmtime_adj(nullptr, -86400);
    OCSP_basic_add1_status(bs, id, a.certStatus, OCSP_REVOKED_STATUS_KEYCOMPROMISE,
                           a.certStatus == V_OCSP_CERTSTATUS_REVOKED ? revokedAt : nullptr,
                           thisUpd, nextUpd);
    OCSP_basic_sign(bs, signer.cert.get(), signer.key.get(), EVP_sha256(), nullptr, 0);
    resp = OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, bs);
    OCSP_BASICRESP_free(bs);
    OCSP_CERTID_free(id);
    ASN1_TIME_free(thisUpd);
    ASN1_TIME_free(nextUpd);
    ASN1_TIME_free(revokedAt);
  }
  unsigned char* der = nullptr;
  const int len = i2d_OCSP_RESPONSE(resp, &der);
  if (len > 0) out.assign(der, der + len);
  OPENSSL_free(der);
  OCSP_RESPONSE_free(resp);
  return out;
}

void addOcspSigning(proxy::test::KeyCert& base, const proxy::test::KeyCert& ca) {
  const int old = X509_get_ext_by_NID(base.cert.get(), NID_ext_key_usage, -1);
  if (old >= 0) X509_EXTENSION_free(X509_delete_ext(base.cert.get(), old));  // serverAuth
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, nullptr, NID_ext_key_usage, "OCSPSigning");
  X509_add_ext(base.cert.get(), ext, -1);
  X509_EXTENSION_free(ext);
  X509_sign(base.cert.get(), ca.key.get(), EVP_sha256());
  // Through DER, so that no extension flags cached from the certificate before survive.
  unsigned char* der = nullptr;
  const int len = i2d_X509(base.cert.get(), &der);
  const unsigned char* p = der;
  base.cert.reset(d2i_X509(nullptr, &p, len));
  OPENSSL_free(der);
}

namespace {
int staple(SSL* ssl, void* arg) {
  const auto* der = static_cast<const std::vector<uint8_t>*>(arg);
  if (der == nullptr || der->empty()) return SSL_TLSEXT_ERR_NOACK;
  auto* copy = static_cast<unsigned char*>(OPENSSL_malloc(der->size()));
  std::memcpy(copy, der->data(), der->size());
  SSL_set_tlsext_status_ocsp_resp(ssl, copy, long(der->size()));  // takes the copy
  return SSL_TLSEXT_ERR_OK;
}
}  // namespace

void stapleOn(SSL_CTX* ctx, const std::vector<uint8_t>* der) {
  SSL_CTX_set_tlsext_status_cb(ctx, staple);
  SSL_CTX_set_tlsext_status_arg(ctx, const_cast<std::vector<uint8_t>*>(der));
}

}  // namespace lbg::cert::test
