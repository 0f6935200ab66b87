// libFuzzer target: a server's certificate_list (untrusted bytes from the network) through the
// passive check's parser and OpenSSL's verification against a store with one root. Whatever the
// input, the verdict is a refusal (no input can chain to a root whose key the fuzzer lacks).
#include <cstdint>
#include <cstdlib>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "dataplane/cert/chain_check.h"

namespace {

X509_STORE* makeStore() {
  X509_STORE* store = X509_STORE_new();
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* root = X509_new();
  X509_set_version(root, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(root), 1);
  X509_NAME_add_entry_by_txt(X509_get_subject_name(root), "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("fuzz root"), -1, -1, 0);
  X509_set_issuer_name(root, X509_get_subject_name(root));
  X509_gmtime_adj(X509_getm_notBefore(root), -86400);
  X509_gmtime_adj(X509_getm_notAfter(root), 86400);
  X509_set_pubkey(root, key);
  X509_sign(root, key, EVP_sha256());
  X509_STORE_add_cert(store, root);
  X509_free(root);
  EVP_PKEY_free(key);
  return store;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static X509_STORE* store = makeStore();
  const lbg::cert::Refusal r =
      lbg::cert::checkCertificateList(store, {data, size}, {"fuzz.example.com", {}, 0});
  if (r == lbg::cert::Refusal::None) std::abort();
  return 0;
}
