// The certificate verifier thread and its rings (dataplane/cert/verifier.h) with a real EAL: the
// trust store is validated once, requests go out and come back answered, a pool bounds them.

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <thread>

#include "dataplane/cert/cache_key.h"
#include "dataplane/cert/verifier.h"
#include "dataplane/proxy/test_certs.h"

namespace lbg::cert {
namespace {

void fillList(VerifyRequest& r, X509* cert, const std::string& host) {
  unsigned char* der = nullptr;
  const int n = i2d_X509(cert, &der);
  r.chain[0] = uint8_t(n >> 16);
  r.chain[1] = uint8_t(n >> 8);
  r.chain[2] = uint8_t(n);
  std::memcpy(r.chain + 3, der, size_t(n));
  OPENSSL_free(der);
  r.chainLen = uint32_t(n) + 3;
  r.hostLen = uint8_t(host.size());
  std::memcpy(r.host, host.data(), host.size());
}

// Waits for `n` answers of worker `w` (the verifier is a thread: no timing is asserted).
std::vector<VerifyRequest*> await(Verifier& v, uint32_t w, size_t n) {
  std::vector<VerifyRequest*> out;
  VerifyRequest* got[8];
  while (out.size() < n) {
    const uint32_t k = v.collect(w, got);
    out.insert(out.end(), got, got + k);
    if (k == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return out;
}

TEST(CertVerifier, TrustStoreIsValidatedOnce) {
  auto missing = Verifier::create("/nonexistent/roots.pem", 1, 4);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().toString().find("trust store"), std::string::npos);
}

TEST(CertVerifier, RequestsComeBackAnsweredPerWorker) {
  const proxy::test::KeyCert root = proxy::test::makeCa("verifier test root");
  const std::string pem = proxy::test::writePem(root.cert.get(), "verifier-root");
  auto v = Verifier::create(pem, 2, 4);
  ASSERT_TRUE(v.ok()) << v.error().toString();
  Verifier& verifier = *v.value();
  RequestPool pool0(4), pool1(4);
  const proxy::test::KeyCert good = proxy::test::makeLeaf(root, "svc", {"svc.example.com"});
  const proxy::test::KeyCert other = proxy::test::makeCa("svc.example.com");
  VerifyRequest& a = pool0.at(pool0.acquire());
  fillList(a, good.cert.get(), "svc.example.com");
  VerifyRequest& b = pool0.at(pool0.acquire());
  fillList(b, good.cert.get(), "wrong.example.com");
  VerifyRequest& c = pool1.at(pool1.acquire());
  fillList(c, other.cert.get(), "svc.example.com");
  ASSERT_TRUE(verifier.post(0, &a));
  ASSERT_TRUE(verifier.post(0, &b));
  ASSERT_TRUE(verifier.post(1, &c));
  auto w0 = await(verifier, 0, 2);
  auto w1 = await(verifier, 1, 1);
  ASSERT_EQ(w0.size(), 2u);
  EXPECT_EQ(w0[0], &a);  // in order, each worker's own
  EXPECT_EQ(w0[1], &b);
  EXPECT_EQ(a.result, Refusal::None);
  EXPECT_EQ(b.result, Refusal::Name);
  ASSERT_EQ(w1.size(), 1u);
  EXPECT_EQ(w1[0], &c);
  EXPECT_EQ(c.result, Refusal::Untrusted);
  EXPECT_EQ(verifier.verified(), 3u);
}

TEST(CertVerifier, APoolBoundsTheRequestsInFlight) {
  RequestPool pool(3);
  EXPECT_GE(pool.acquire(), 0);
  const int32_t b = pool.acquire();
  EXPECT_GE(pool.acquire(), 0);
  EXPECT_EQ(pool.acquire(), -1);  // exhausted: the pipeline denies, fail closed
  pool.release(b);
  EXPECT_EQ(pool.acquire(), b);
  EXPECT_EQ(pool.available(), 0u);
}

}  // namespace
}  // namespace lbg::cert
