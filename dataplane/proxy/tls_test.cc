#include <gtest/gtest.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "dataplane/cert/ocsp_test_util.h"
#include "dataplane/proxy/leaf_minter.h"
#include "dataplane/proxy/test_certs.h"
#include "dataplane/proxy/upstream_tls.h"

namespace lbg::proxy {
namespace {

using test::KeyCert;

std::vector<std::string> dnsSans(X509* c) {
  std::vector<std::string> out;
  auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(c, NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; names && i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* g = sk_GENERAL_NAME_value(names, i);
    if (g->type == GEN_DNS) {
      out.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(g->d.dNSName)),
                       size_t(ASN1_STRING_length(g->d.dNSName)));
    }
  }
  GENERAL_NAMES_free(names);
  return out;
}

std::unique_ptr<LeafMinter> makeMinter(const KeyCert& ca) {
  X509_up_ref(ca.cert.get());
  EVP_PKEY_up_ref(ca.key.get());
  return LeafMinter::create(X509Ptr(ca.cert.get()), PkeyPtr(ca.key.get()));
}

TEST(LeafMinter, CopiesSansSignsWithTheCaAndCaches) {
  const KeyCert origin = test::makeCa("Origin Root");
  const KeyCert appliance = test::makeCa("lbg appliance CA");
  const KeyCert up = test::makeLeaf(origin, "login.microsoftonline.com",
                                    {"login.microsoftonline.com", "Login.Microsoft.com",
                                     "*.login.windows.net", "bad,name.example", "a b.example",
                                     "1.2.3.4"});
  auto minter = makeMinter(appliance);
  ASSERT_TRUE(minter);
  X509* leaf = minter->mint(up.cert.get(), "login.microsoftonline.com");
  ASSERT_NE(leaf, nullptr);
  EXPECT_EQ(dnsSans(leaf), (std::vector<std::string>{"login.microsoftonline.com",
                                                     "login.microsoft.com", "*.login.windows.net"}));
  EXPECT_EQ(X509_verify(leaf, X509_get0_pubkey(appliance.cert.get())), 1);
  EXPECT_EQ(EVP_PKEY_get_base_id(X509_get0_pubkey(leaf)), EVP_PKEY_EC);
  EXPECT_EQ(X509_check_host(leaf, "login.microsoft.com", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_host(leaf, "evil.example", 0, 0, nullptr), 0);
  EXPECT_EQ(X509_check_private_key(leaf, minter->leafKey()), 1);
  EXPECT_GE(ASN1_TIME_compare(X509_get0_notAfter(up.cert.get()), X509_get0_notAfter(leaf)), 0);

  // Cached by upstream fingerprint and SNI.
  EXPECT_EQ(minter->mint(up.cert.get(), "LOGIN.microsoftonline.com"), leaf);
  EXPECT_EQ(minter->minted(), 1u);
  X509* other = minter->mint(up.cert.get(), "login.microsoft.com");
  EXPECT_NE(other, leaf);
  const KeyCert renewed = test::makeLeaf(origin, "login.microsoftonline.com",
                                         {"login.microsoftonline.com"});
  X509* fresh = minter->mint(renewed.cert.get(), "login.microsoftonline.com");
  EXPECT_NE(fresh, leaf);
  EXPECT_EQ(dnsSans(fresh), (std::vector<std::string>{"login.microsoftonline.com"}));
  EXPECT_EQ(minter->minted(), 3u);
  EXPECT_EQ(minter->cacheSize(), 3u);
}

TEST(LeafMinter, RefusesNamesNoDnsNameHas) {
  const KeyCert origin = test::makeCa("Origin Root");
  const KeyCert appliance = test::makeCa("lbg appliance CA");
  const KeyCert up = test::makeLeaf(origin, "a.example", {"a.example"});
  auto minter = makeMinter(appliance);
  for (const std::string& bad : std::vector<std::string>{"a.example,evil.example", "a.example evil", "*.example.com", "",
                                "a.example\n", std::string("a.example\0x", 11), "1.2.3.4"}) {
    EXPECT_EQ(minter->mint(up.cert.get(), bad), nullptr) << bad;
  }
  EXPECT_EQ(minter->minted(), 0u);
}

TEST(LeafMinter, RefusesAKeyThatIsNotTheCas) {
  const KeyCert a = test::makeCa("A");
  const KeyCert b = test::makeCa("B");
  X509_up_ref(a.cert.get());
  EVP_PKEY_up_ref(b.key.get());
  EXPECT_EQ(LeafMinter::create(X509Ptr(a.cert.get()), PkeyPtr(b.key.get())), nullptr);
}

class UpstreamVerify : public ::testing::Test {
 protected:
  ~UpstreamVerify() override { std::remove(trust_.c_str()); }
  UpstreamRefusal connect(const KeyCert& server, const std::string& host,
                          std::vector<SpkiPin> pins = {},
                          cert::OcspMode ocsp = cert::OcspMode::Prefer,
                          const std::vector<uint8_t>* staple = nullptr) {
    SslCtxPtr ctx = makeUpstreamCtx(trust_);
    EXPECT_TRUE(ctx);
    SslPtr ssl(SSL_new(ctx.get()));
    EXPECT_TRUE(prepareUpstream(ssl.get(), host));
    auto stapling = [staple](SSL_CTX* s) {
      if (staple != nullptr) cert::test::stapleOn(s, staple);
    };
    if (!test::handshake(ssl.get(), server, stapling)) return classifyFailure(ssl.get());
    const UpstreamRefusal pinned = checkPins(ssl.get(), pins);
    return pinned != UpstreamRefusal::None ? pinned : checkStaple(ssl.get(), ocsp);
  }

  KeyCert root_ = test::makeCa("Test Root");
  std::string trust_ = test::writePem(root_.cert.get(), "root");
};

TEST_F(UpstreamVerify, Reasons) {
  const KeyCert good = test::makeLeaf(root_, "login.microsoftonline.com", {"login.microsoftonline.com"});
  EXPECT_EQ(connect(good, "login.microsoftonline.com"), UpstreamRefusal::None);
  EXPECT_EQ(connect(good, "login.windows.net"), UpstreamRefusal::CertName);

  const KeyCert otherRoot = test::makeCa("Other Root");
  const KeyCert untrusted =
      test::makeLeaf(otherRoot, "login.microsoftonline.com", {"login.microsoftonline.com"});
  EXPECT_EQ(connect(untrusted, "login.microsoftonline.com"), UpstreamRefusal::CertUntrusted);

  const KeyCert expired = test::makeLeaf(root_, "login.microsoftonline.com",
                                         {"login.microsoftonline.com"}, -86400 * 10, -86400);
  EXPECT_EQ(connect(expired, "login.microsoftonline.com"), UpstreamRefusal::CertExpired);

  const KeyCert wildcard = test::makeLeaf(root_, "x", {"*.microsoftonline.com"});
  EXPECT_EQ(connect(wildcard, "login.microsoftonline.com"), UpstreamRefusal::None);
  EXPECT_EQ(connect(wildcard, "a.login.microsoftonline.com"), UpstreamRefusal::CertName);
}

TEST_F(UpstreamVerify, Pins) {
  const KeyCert good = test::makeLeaf(root_, "a.example", {"a.example"});
  SpkiPin rootPin{};
  ASSERT_TRUE(spkiSha256(root_.cert.get(), rootPin));
  SpkiPin leafPin{};
  ASSERT_TRUE(spkiSha256(good.cert.get(), leafPin));
  SpkiPin wrong{};
  wrong[0] = 1;
  EXPECT_EQ(connect(good, "a.example", {rootPin}), UpstreamRefusal::None);
  EXPECT_EQ(connect(good, "a.example", {wrong, leafPin}), UpstreamRefusal::None);
  EXPECT_EQ(connect(good, "a.example", {wrong}), UpstreamRefusal::PinMismatch);
  EXPECT_STREQ(toString(UpstreamRefusal::PinMismatch), "pin-mismatch");
  EXPECT_STREQ(toString(UpstreamRefusal::CertExpired), "cert-expired");
}

TEST_F(UpstreamVerify, StapledOcsp) {
  const KeyCert good = test::makeLeaf(root_, "a.example", {"a.example"});
  const auto ok = cert::test::makeOcspResponse(root_, good.cert.get(), root_.cert.get());
  const auto revoked = cert::test::makeOcspResponse(root_, good.cert.get(), root_.cert.get(),
                                                    {.certStatus = V_OCSP_CERTSTATUS_REVOKED});
  const auto stale = cert::test::makeOcspResponse(root_, good.cert.get(), root_.cert.get(),
                                                  {.thisUpdateSec = -7200, .nextUpdateSec = -3600});
  using cert::OcspMode;
  EXPECT_EQ(connect(good, "a.example", {}, OcspMode::Require, &ok), UpstreamRefusal::None);
  EXPECT_EQ(connect(good, "a.example", {}, OcspMode::Prefer, &revoked), UpstreamRefusal::Revoked);
  EXPECT_EQ(connect(good, "a.example", {}, OcspMode::Prefer, &stale), UpstreamRefusal::OcspInvalid);
  EXPECT_EQ(connect(good, "a.example", {}, OcspMode::Prefer), UpstreamRefusal::None);
  EXPECT_EQ(connect(good, "a.example", {}, OcspMode::Require), UpstreamRefusal::OcspMissing);
  EXPECT_STREQ(toString(UpstreamRefusal::Revoked), "cert-revoked");
}

}  // namespace
}  // namespace lbg::proxy
