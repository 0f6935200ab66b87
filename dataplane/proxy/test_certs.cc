#include "dataplane/proxy/test_certs.h"

#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

namespace lbg::proxy::test {

namespace {

void addExt(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (!ext) std::abort();
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

X509Ptr base(const std::string& cn, long nb, long na, EVP_PKEY* key) {
  static long serial = 1;
  X509Ptr c(X509_new());
  X509_set_version(c.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(c.get()), ++serial);
  X509_NAME_add_entry_by_txt(X509_get_subject_name(c.get()), "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_gmtime_adj(X509_getm_notBefore(c.get()), nb);
  X509_gmtime_adj(X509_getm_notAfter(c.get()), na);
  X509_set_pubkey(c.get(), key);
  return c;
}

}  // namespace

KeyCert makeCa(const std::string& cn) {
  KeyCert out{PkeyPtr(EVP_EC_gen("P-256")), nullptr};
  out.cert = base(cn, -86400, 86400 * 365, out.key.get());
  X509_set_issuer_name(out.cert.get(), X509_get_subject_name(out.cert.get()));
  addExt(out.cert.get(), out.cert.get(), NID_basic_constraints, "critical,CA:TRUE");
  addExt(out.cert.get(), out.cert.get(), NID_key_usage, "critical,keyCertSign,cRLSign");
  addExt(out.cert.get(), out.cert.get(), NID_subject_key_identifier, "hash");
  X509_sign(out.cert.get(), out.key.get(), EVP_sha256());
  return out;
}

KeyCert makeLeaf(const KeyCert& ca, const std::string& cn, const std::vector<std::string>& sans,
                 long notBeforeSec, long notAfterSec) {
  KeyCert out{PkeyPtr(EVP_EC_gen("P-256")), nullptr};
  out.cert = base(cn, notBeforeSec, notAfterSec, out.key.get());
  X509_set_issuer_name(out.cert.get(), X509_get_subject_name(ca.cert.get()));
  if (!sans.empty()) {
    GENERAL_NAMES* names = sk_GENERAL_NAME_new_null();
    for (const auto& s : sans) {
      GENERAL_NAME* g = GENERAL_NAME_new();
      ASN1_IA5STRING* v = ASN1_IA5STRING_new();
      ASN1_STRING_set(v, s.data(), int(s.size()));
      GENERAL_NAME_set0_value(g, GEN_DNS, v);
      sk_GENERAL_NAME_push(names, g);
    }
    X509_add1_ext_i2d(out.cert.get(), NID_subject_alt_name, names, 0, 0);
    GENERAL_NAMES_free(names);
  }
  addExt(out.cert.get(), ca.cert.get(), NID_ext_key_usage, "serverAuth");
  X509_sign(out.cert.get(), ca.key.get(), EVP_sha256());
  return out;
}

std::string writePem(X509* cert, const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  std::string path = std::string(dir ? dir : "/tmp") + "/lbg-proxy-test-" +
                     std::to_string(getpid()) + "-" + name + ".pem";
  FILE* f = std::fopen(path.c_str(), "w");
  if (!f) std::abort();
  PEM_write_X509(f, cert);
  std::fclose(f);
  return path;
}

bool handshake(SSL* client, const KeyCert& server,
               const std::function<void(SSL_CTX*)>& configure) {
  SslCtxPtr sctx(SSL_CTX_new(TLS_server_method()));
  SSL_CTX_use_certificate(sctx.get(), server.cert.get());
  SSL_CTX_use_PrivateKey(sctx.get(), server.key.get());
  if (configure) configure(sctx.get());
  SslPtr s(SSL_new(sctx.get()));
  BIO* cb = nullptr;
  BIO* sb = nullptr;
  BIO_new_bio_pair(&cb, 0, &sb, 0);
  SSL_set_bio(client, cb, cb);
  SSL_set_bio(s.get(), sb, sb);
  SSL_set_connect_state(client);
  SSL_set_accept_state(s.get());
  for (int round = 0; round < 20; ++round) {
    const int c = SSL_do_handshake(client);
    SSL_do_handshake(s.get());
    if (c == 1) return true;
    const int err = SSL_get_error(client, c);
    if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) return false;
  }
  return false;
}

}  // namespace lbg::proxy::test
