// Stapled OCSP (ocsp_staple.h) against responses signed in memory: each way a staple can be
// wrong, under each mode.

#include "dataplane/cert/ocsp_staple.h"

#include <gtest/gtest.h>

#include "dataplane/cert/chain_check.h"
#include "dataplane/cert/ocsp_test_util.h"

namespace lbg::cert {
namespace {

using proxy::test::KeyCert;
using test::OcspAnswer;

struct StackFree {
  void operator()(STACK_OF(X509) * s) const { sk_X509_free(s); }
};

class OcspStapleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = loadTrustStore(proxy::test::writePem(ca_.cert.get(), "ocsp-root"));
    ASSERT_TRUE(store_);
    chain_.reset(sk_X509_new_null());
    sk_X509_push(chain_.get(), leaf_.cert.get());  // the verified chain: leaf, then its issuer
    sk_X509_push(chain_.get(), ca_.cert.get());
  }
  Refusal check(const std::vector<uint8_t>& staple, OcspMode mode = OcspMode::Prefer) {
    return checkOcspStaple(staple, chain_.get(), store_.get(), mode);
  }
  std::vector<uint8_t> answer(const OcspAnswer& a = {}) {
    return test::makeOcspResponse(ca_, leaf_.cert.get(), ca_.cert.get(), a);
  }

  KeyCert ca_ = proxy::test::makeCa("ocsp test root");
  KeyCert leaf_ = proxy::test::makeLeaf(ca_, "svc", {"svc.example.com"});
  X509StorePtr store_;
  std::unique_ptr<STACK_OF(X509), StackFree> chain_;
};

TEST_F(OcspStapleTest, GoodFromTheIssuerPasses) {
  EXPECT_EQ(check(answer()), Refusal::None);
  EXPECT_EQ(check(answer(), OcspMode::Require), Refusal::None);
  EXPECT_EQ(check(answer({.nextUpdateSec = 0})), Refusal::None);  // recent, no nextUpdate
}

TEST_F(OcspStapleTest, RevokedRefusesUnlessOff) {
  const auto revoked = answer({.certStatus = V_OCSP_CERTSTATUS_REVOKED});
  EXPECT_EQ(check(revoked), Refusal::Revoked);
  EXPECT_EQ(check(revoked, OcspMode::Require), Refusal::Revoked);
  EXPECT_EQ(check(revoked, OcspMode::Off), Refusal::None);
  EXPECT_STREQ(toString(Refusal::Revoked), "cert-revoked");
}

TEST_F(OcspStapleTest, NoStapleOnlyRequireRefuses) {
  EXPECT_EQ(check({}), Refusal::None);
  EXPECT_EQ(check({}, OcspMode::Require), Refusal::OcspMissing);
  EXPECT_STREQ(toString(Refusal::OcspMissing), "ocsp-missing");
}

TEST_F(OcspStapleTest, AnswersThatSayNothingValidRefuse) {
  EXPECT_EQ(check(answer({.certStatus = V_OCSP_CERTSTATUS_UNKNOWN})), Refusal::OcspInvalid);
  EXPECT_EQ(check(answer({.responseStatus = OCSP_RESPONSE_STATUS_TRYLATER})), Refusal::OcspInvalid);
  // Stale: nextUpdate passed; no nextUpdate and older than a week; thisUpdate in the future.
  EXPECT_EQ(check(answer({.thisUpdateSec = -7200, .nextUpdateSec = -3600})), Refusal::OcspInvalid);
  EXPECT_EQ(check(answer({.thisUpdateSec = -8 * 86400, .nextUpdateSec = 0})), Refusal::OcspInvalid);
  EXPECT_EQ(check(answer({.thisUpdateSec = 3600, .nextUpdateSec = 7200})), Refusal::OcspInvalid);
  EXPECT_STREQ(toString(Refusal::OcspInvalid), "ocsp-invalid");
}

TEST_F(OcspStapleTest, WrongSignerOrCertificateRefuses) {
  // Signed by a key the store does not know.
  const KeyCert stranger = proxy::test::makeCa("ocsp test root");
  EXPECT_EQ(check(test::makeOcspResponse(stranger, leaf_.cert.get(), ca_.cert.get())),
            Refusal::OcspInvalid);
  // Signed by another certificate of the same CA that was not delegated (no OCSPSigning).
  const KeyCert sibling = proxy::test::makeLeaf(ca_, "other", {"other.example.com"});
  EXPECT_EQ(check(test::makeOcspResponse(sibling, leaf_.cert.get(), ca_.cert.get())),
            Refusal::OcspInvalid);
  // The same, delegated: accepted.
  KeyCert responder = proxy::test::makeLeaf(ca_, "responder", {"ocsp.example.com"});
  test::addOcspSigning(responder, ca_);
  EXPECT_EQ(check(test::makeOcspResponse(responder, leaf_.cert.get(), ca_.cert.get())),
            Refusal::None);
  // A good answer about another certificate.
  EXPECT_EQ(check(test::makeOcspResponse(ca_, sibling.cert.get(), ca_.cert.get())),
            Refusal::OcspInvalid);
}

TEST_F(OcspStapleTest, MalformedBytesRefuse) {
  auto good = answer();
  auto trailing = good;
  trailing.push_back(0);
  EXPECT_EQ(check(trailing), Refusal::OcspInvalid);
  EXPECT_EQ(check({0x30, 0x03, 0x0a, 0x01, 0x00}), Refusal::OcspInvalid);
  good.resize(good.size() / 2);
  EXPECT_EQ(check(good), Refusal::OcspInvalid);
  // A chain without the issuer cannot tie the answer to the leaf.
  std::unique_ptr<STACK_OF(X509), StackFree> leafOnly(sk_X509_new_null());
  sk_X509_push(leafOnly.get(), leaf_.cert.get());
  EXPECT_EQ(checkOcspStaple(answer(), leafOnly.get(), store_.get(), OcspMode::Prefer),
            Refusal::OcspInvalid);
}

}  // namespace
}  // namespace lbg::cert
