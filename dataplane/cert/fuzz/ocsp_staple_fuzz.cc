// libFuzzer target: a server's stapled OCSP answer (untrusted bytes from the network) against a
// verified chain (leaf, root) and a store with that root. Whatever the input, the verdict is a
// refusal: no input can carry a signature by the root's key, which the fuzzer lacks.
#include <cstdint>
#include <cstdlib>

#include "dataplane/cert/chain_check.h"
#include "dataplane/cert/ocsp_staple.h"
#include "dataplane/proxy/test_certs.h"

namespace {

struct Fixture {
  lbg::proxy::test::KeyCert root = lbg::proxy::test::makeCa("fuzz root");
  lbg::proxy::test::KeyCert leaf =
      lbg::proxy::test::makeLeaf(root, "svc", {"svc.example.com"});
  X509_STORE* store = X509_STORE_new();
  STACK_OF(X509)* chain = sk_X509_new_null();
  Fixture() {
    X509_STORE_add_cert(store, root.cert.get());
    sk_X509_push(chain, leaf.cert.get());
    sk_X509_push(chain, root.cert.get());
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture* f = new Fixture();
  using lbg::cert::OcspMode;
  using lbg::cert::Refusal;
  const std::span<const uint8_t> staple(data, size);
  const Refusal r = lbg::cert::checkOcspStaple(staple, f->chain, f->store, OcspMode::Require);
  if (r == Refusal::None) std::abort();
  // Prefer differs from require only for an empty staple.
  if (size != 0 &&
      lbg::cert::checkOcspStaple(staple, f->chain, f->store, OcspMode::Prefer) == Refusal::None) {
    std::abort();
  }
  return 0;
}
