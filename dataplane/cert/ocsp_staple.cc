#include "dataplane/cert/ocsp_staple.h"

#include <openssl/err.h>
#include <openssl/ocsp.h>

#include <ctime>
#include <memory>

#include "dataplane/cert/chain_check.h"

namespace lbg::cert {

namespace {

struct ResponseFree {
  void operator()(OCSP_RESPONSE* r) const { OCSP_RESPONSE_free(r); }
};
struct BasicFree {
  void operator()(OCSP_BASICRESP* b) const { OCSP_BASICRESP_free(b); }
};
struct CertIdFree {
  void operator()(OCSP_CERTID* i) const { OCSP_CERTID_free(i); }
};

// The single response about `leaf`: responders name the certificate by SHA-1 (RFC 5019) or
// SHA-256 hashes of its issuer's name and key; both are tried.
bool findStatus(OCSP_BASICRESP* bs, X509* leaf, X509* issuer, int& status,
                ASN1_GENERALIZEDTIME*& thisUpdate, ASN1_GENERALIZEDTIME*& nextUpdate) {
  for (const EVP_MD* md : {EVP_sha1(), EVP_sha256()}) {
    std::unique_ptr<OCSP_CERTID, CertIdFree> id(OCSP_cert_to_id(md, leaf, issuer));
    int reason = 0;
    ASN1_GENERALIZEDTIME* revokedAt = nullptr;
    if (id && OCSP_resp_find_status(bs, id.get(), &status, &reason, &revokedAt, &thisUpdate,
                                    &nextUpdate) == 1) {
      return true;
    }
  }
  return false;
}

}  // namespace

const char* toString(OcspMode m) {
  switch (m) {
    case OcspMode::Off:
      return "off";
    case OcspMode::Prefer:
      return "prefer";
    case OcspMode::Require:
      return "require";
  }
  return "prefer";
}

OcspMode ocspModeOf(policy::OcspCheck c) {
  switch (c) {
    case policy::OcspCheck::Off:
      return OcspMode::Off;
    case policy::OcspCheck::Prefer:
      return OcspMode::Prefer;
    case policy::OcspCheck::Require:
      return OcspMode::Require;
  }
  return OcspMode::Prefer;
}

Refusal checkOcspStaple(std::span<const uint8_t> staple, STACK_OF(X509) * chain,
                        X509_STORE* store, OcspMode mode, int64_t atUnixSec) {
  if (mode == OcspMode::Off) return Refusal::None;
  if (staple.empty()) return mode == OcspMode::Require ? Refusal::OcspMissing : Refusal::None;
  // Without the issuer the response cannot be tied to the leaf (a self-signed leaf has no
  // revocation to speak of, but it never verifies in the first place).
  if (chain == nullptr || sk_X509_num(chain) < 2 || store == nullptr) return Refusal::OcspInvalid;
  X509* leaf = sk_X509_value(chain, 0);
  X509* issuer = sk_X509_value(chain, 1);

  const unsigned char* p = staple.data();
  std::unique_ptr<OCSP_RESPONSE, ResponseFree> resp(
      d2i_OCSP_RESPONSE(nullptr, &p, long(staple.size())));
  if (!resp || p != staple.data() + staple.size()) return Refusal::OcspInvalid;
  // tryLater, internalError, unauthorized…: a staple that says nothing is not "no staple": a
  // server that staples is expected to staple an answer.
  if (OCSP_response_status(resp.get()) != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
    return Refusal::OcspInvalid;
  }
  std::unique_ptr<OCSP_BASICRESP, BasicFree> bs(OCSP_response_get1_basic(resp.get()));
  if (!bs) return Refusal::OcspInvalid;
  // The signature, the responder's chain to the store, and its authority: the leaf's issuer
  // itself or a certificate the issuer gave id-kp-OCSPSigning (RFC 6960 §4.2.2.2). The server's
  // chain is offered as untrusted certificates for finding the issuer.
  if (OCSP_basic_verify(bs.get(), chain, store, 0) != 1) {
    ERR_clear_error();
    return Refusal::OcspInvalid;
  }
  int status = -1;
  ASN1_GENERALIZEDTIME* thisUpdate = nullptr;
  ASN1_GENERALIZEDTIME* nextUpdate = nullptr;
  if (!findStatus(bs.get(), leaf, issuer, status, thisUpdate, nextUpdate)) {
    return Refusal::OcspInvalid;  // an answer about another certificate
  }
  if (status == V_OCSP_CERTSTATUS_REVOKED) return Refusal::Revoked;
  if (status != V_OCSP_CERTSTATUS_GOOD || thisUpdate == nullptr) return Refusal::OcspInvalid;
  const time_t now = atUnixSec != 0 ? time_t(atUnixSec) : std::time(nullptr);
  if (ASN1_TIME_cmp_time_t(thisUpdate, now + kOcspSkewSec) > 0) return Refusal::OcspInvalid;
  if (nextUpdate != nullptr) {
    if (ASN1_TIME_cmp_time_t(nextUpdate, now - kOcspSkewSec) < 0) return Refusal::OcspInvalid;
  } else if (ASN1_TIME_cmp_time_t(thisUpdate, now - kOcspMaxAgeSec) < 0) {
    return Refusal::OcspInvalid;
  }
  return Refusal::None;
}

}  // namespace lbg::cert
