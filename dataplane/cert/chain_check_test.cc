#include "dataplane/cert/chain_check.h"

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include <ctime>
#include <vector>

#include "dataplane/cert/cache_key.h"
#include "dataplane/proxy/test_certs.h"

namespace lbg::cert {
namespace {

using proxy::test::KeyCert;
using proxy::test::makeCa;
using proxy::test::makeLeaf;

// A leaf whose SANs are written in OpenSSL's config syntax ("DNS:a.example, IP:192.0.2.1").
proxy::X509Ptr leafWithSans(const KeyCert& ca, const std::string& cn, const std::string& sans) {
  KeyCert k = makeLeaf(ca, cn, {});
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, ca.cert.get(), k.cert.get(), nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, sans.c_str());
  EXPECT_NE(ext, nullptr);
  X509_add_ext(k.cert.get(), ext, -1);
  X509_EXTENSION_free(ext);
  X509_sign(k.cert.get(), ca.key.get(), EVP_sha256());
  return std::move(k.cert);
}

bool matches(const std::vector<std::string>& sans, const std::string& host) {
  static const KeyCert ca = makeCa("san ca");
  KeyCert leaf = makeLeaf(ca, "cn.example.com", sans);
  return nameMatches(leaf.cert.get(), host);
}

TEST(SanMatch, WildcardCoversExactlyOneLabel) {
  EXPECT_TRUE(matches({"*.example.com"}, "a.example.com"));
  EXPECT_TRUE(matches({"*.example.com"}, "A.EXAMPLE.COM"));
  EXPECT_FALSE(matches({"*.example.com"}, "a.b.example.com"));
  EXPECT_FALSE(matches({"*.example.com"}, "example.com"));
  EXPECT_FALSE(matches({"*.example.com"}, "badexample.com"));
  EXPECT_FALSE(matches({"f*.example.com"}, "foo.example.com"));  // no partial wildcards
  EXPECT_FALSE(matches({"a.*.example.com"}, "a.b.example.com"));
  EXPECT_FALSE(matches({"*.com"}, "example.com"));
  EXPECT_TRUE(matches({"www.example.com"}, "WWW.Example.Com"));
  EXPECT_FALSE(matches({"www.example.com"}, "www.example.com.evil"));
}

TEST(SanMatch, IdnsCompareAsPunycodeIgnoringCase) {
  // 例え.jp as an A-label; SNI carries A-labels, compared case-insensitively.
  EXPECT_TRUE(matches({"xn--r8jz45g.jp"}, "xn--r8jz45g.jp"));
  EXPECT_TRUE(matches({"xn--r8jz45g.jp"}, "XN--R8JZ45G.JP"));
  EXPECT_TRUE(matches({"*.xn--r8jz45g.jp"}, "www.xn--r8jz45g.jp"));
  // A certificate spelling the U-label never matches the A-label the client sends.
  EXPECT_FALSE(matches({"\xe4\xbe\x8b\xe3\x81\x88.jp"}, "xn--r8jz45g.jp"));
  EXPECT_FALSE(matches({"xn--r8jz45g.jp"}, "xn--r8jz45h.jp"));
}

TEST(SanMatch, IpSansAndTheSubjectNeverMatchNames) {
  const KeyCert ca = makeCa("ip ca");
  auto ipOnly = leafWithSans(ca, "192.0.2.1", "IP:192.0.2.1");
  EXPECT_FALSE(nameMatches(ipOnly.get(), "192.0.2.1"));
  auto both = leafWithSans(ca, "x", "IP:192.0.2.1, DNS:ok.example.com");
  EXPECT_FALSE(nameMatches(both.get(), "192.0.2.1"));
  EXPECT_TRUE(nameMatches(both.get(), "ok.example.com"));
  // The subject CN is not consulted, even without any DNS SAN.
  KeyCert cnOnly = makeLeaf(ca, "cn.example.com", {});
  EXPECT_FALSE(nameMatches(cnOnly.cert.get(), "cn.example.com"));
  EXPECT_FALSE(nameMatches(cnOnly.cert.get(), ""));
}

// A certificate_list body: 24-bit length-prefixed DER certificates.
std::vector<uint8_t> certList(std::initializer_list<X509*> certs) {
  std::vector<uint8_t> out;
  for (X509* c : certs) {
    unsigned char* der = nullptr;
    const int n = i2d_X509(c, &der);
    out.push_back(uint8_t(n >> 16));
    out.push_back(uint8_t(n >> 8));
    out.push_back(uint8_t(n));
    out.insert(out.end(), der, der + n);
    OPENSSL_free(der);
  }
  return out;
}

class ChainCheck : public ::testing::Test {
 protected:
  void SetUp() override {
    store_.reset(X509_STORE_new());
    X509_STORE_add_cert(store_.get(), root_.cert.get());
  }
  Refusal check(std::initializer_list<X509*> certs, const std::string& host,
                std::span<const SpkiPin> pins = {}, int64_t at = 0) {
    const auto list = certList(certs);
    return checkCertificateList(store_.get(), list, {host, pins, at});
  }
  KeyCert root_ = makeCa("test root");
  X509StorePtr store_;
};

TEST_F(ChainCheck, Reasons) {
  KeyCert good = makeLeaf(root_, "svc", {"svc.example.com"});
  EXPECT_EQ(check({good.cert.get()}, "svc.example.com"), Refusal::None);
  EXPECT_EQ(check({good.cert.get()}, "other.example.com"), Refusal::Name);
  KeyCert selfSigned = makeCa("svc.example.com");
  EXPECT_EQ(check({selfSigned.cert.get()}, "svc.example.com"), Refusal::Untrusted);
  KeyCert stranger = makeCa("stranger");
  KeyCert foreign = makeLeaf(stranger, "svc", {"svc.example.com"});
  EXPECT_EQ(check({foreign.cert.get()}, "svc.example.com"), Refusal::Untrusted);
  KeyCert expired = makeLeaf(root_, "svc", {"svc.example.com"}, -72000, -3600);
  EXPECT_EQ(check({expired.cert.get()}, "svc.example.com"), Refusal::Expired);
  // Validity is judged at the given time (a replay's capture time).
  EXPECT_EQ(check({expired.cert.get()}, "svc.example.com", {}, int64_t(std::time(nullptr)) - 36000),
            Refusal::None);
  EXPECT_EQ(check({good.cert.get()}, ""), Refusal::Name);
}

TEST_F(ChainCheck, IntermediatesComeFromTheList) {
  KeyCert inter = makeCa("intermediate");
  // Re-sign the intermediate by the root so that it chains.
  X509_set_issuer_name(inter.cert.get(), X509_get_subject_name(root_.cert.get()));
  X509_sign(inter.cert.get(), root_.key.get(), EVP_sha256());
  KeyCert leaf = makeLeaf(inter, "svc", {"svc.example.com"});
  EXPECT_EQ(check({leaf.cert.get()}, "svc.example.com"), Refusal::Untrusted);
  EXPECT_EQ(check({leaf.cert.get(), inter.cert.get()}, "svc.example.com"), Refusal::None);
  SpkiPin interPin{}, otherPin{};
  ASSERT_TRUE(spkiSha256(inter.cert.get(), interPin));
  const SpkiPin pins[] = {interPin};
  EXPECT_EQ(check({leaf.cert.get(), inter.cert.get()}, "svc.example.com", pins), Refusal::None);
  const SpkiPin wrong[] = {otherPin};
  EXPECT_EQ(check({leaf.cert.get(), inter.cert.get()}, "svc.example.com", wrong),
            Refusal::PinMismatch);
}

TEST_F(ChainCheck, WeakKeyIsRefused) {
  // An RSA-1024 leaf signed by the root.
  EVP_PKEY* weak = EVP_RSA_gen(1024);
  ASSERT_NE(weak, nullptr);
  KeyCert leaf = makeLeaf(root_, "svc", {"svc.example.com"});
  X509_set_pubkey(leaf.cert.get(), weak);
  X509_sign(leaf.cert.get(), root_.key.get(), EVP_sha256());
  EXPECT_EQ(check({leaf.cert.get()}, "svc.example.com"), Refusal::WeakKey);
  EVP_PKEY_free(weak);
}

TEST_F(ChainCheck, GarbageListsAreUntrusted) {
  KeyCert good = makeLeaf(root_, "svc", {"svc.example.com"});
  auto list = certList({good.cert.get()});
  EXPECT_EQ(checkCertificateList(store_.get(), {}, {"svc.example.com"}), Refusal::Untrusted);
  auto cut = list;
  cut.pop_back();
  EXPECT_EQ(checkCertificateList(store_.get(), cut, {"svc.example.com"}), Refusal::Untrusted);
  auto longer = list;
  longer[2] = uint8_t(longer[2] - 1);  // declared one byte short of the DER
  EXPECT_EQ(checkCertificateList(store_.get(), longer, {"svc.example.com"}), Refusal::Untrusted);
}

TEST(Pins, DecodeTheCurlSpelling) {
  SpkiPin p{};
  EXPECT_TRUE(decodePin("sha256//47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", p));
  EXPECT_EQ(p[0], 0xe3);  // SHA-256 of the empty string
  EXPECT_EQ(p[31], 0x55);
  EXPECT_FALSE(decodePin("sha1//47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", p));
  EXPECT_FALSE(decodePin("sha256//short", p));
}

TEST(CacheKey, DependsOnChainNameAndPins) {
  const uint8_t a[] = {1, 2, 3};
  const SpkiPin pin{};
  const SpkiPin pins[] = {pin};
  const CacheKey k = cacheKey(a, "x.example", {});
  EXPECT_EQ(k, cacheKey(a, "x.example", {}));
  EXPECT_NE(k, cacheKey(a, "y.example", {}));
  EXPECT_NE(k, cacheKey(std::span<const uint8_t>(a, 2), "x.example", {}));
  EXPECT_NE(k, cacheKey(a, "x.example", pins));
}

}  // namespace
}  // namespace lbg::cert
