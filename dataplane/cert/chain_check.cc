#include "dataplane/cert/chain_check.h"

#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cstring>

namespace lbg::cert {
namespace {

struct StackFree {
  void operator()(STACK_OF(X509) * s) const { sk_X509_pop_free(s, X509_free); }
};
struct CtxFree {
  void operator()(X509_STORE_CTX* c) const { X509_STORE_CTX_free(c); }
};

}  // namespace

const char* toString(Refusal r) {
  switch (r) {
    case Refusal::None:
      return "none";
    case Refusal::Untrusted:
      return "cert-untrusted";
    case Refusal::Name:
      return "cert-name";
    case Refusal::Expired:
      return "cert-expired";
    case Refusal::PinMismatch:
      return "pin-mismatch";
    case Refusal::WeakKey:
      return "cert-weak-key";
    case Refusal::ProbeTimeout:
      return "cert-probe-timeout";
    case Refusal::ProbeFailed:
      return "cert-probe-failed";
    case Refusal::Revoked:
      return "cert-revoked";
    case Refusal::OcspMissing:
      return "ocsp-missing";
    case Refusal::OcspInvalid:
      return "ocsp-invalid";
  }
  return "cert-untrusted";
}

unsigned hostCheckFlags() {
  // No "f*.example.com", and never the subject CN: a certificate names its hosts in SANs only.
  return X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS | X509_CHECK_FLAG_NEVER_CHECK_SUBJECT;
}

Refusal classifyVerifyError(long x509Error) {
  switch (x509Error) {
    case X509_V_OK:
      return Refusal::None;
    case X509_V_ERR_HOSTNAME_MISMATCH:
      return Refusal::Name;
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_CERT_NOT_YET_VALID:
      return Refusal::Expired;
    case X509_V_ERR_EE_KEY_TOO_SMALL:
    case X509_V_ERR_CA_KEY_TOO_SMALL:
    case X509_V_ERR_CA_MD_TOO_WEAK:
      return Refusal::WeakKey;
    default:
      return Refusal::Untrusted;
  }
}

bool spkiSha256(X509* cert, SpkiPin& out) {
  unsigned char* der = nullptr;
  const int len = i2d_PUBKEY(X509_get0_pubkey(cert), &der);
  if (len <= 0) return false;
  unsigned n = 0;
  const bool ok = EVP_Digest(der, size_t(len), out.data(), &n, EVP_sha256(), nullptr) == 1;
  OPENSSL_free(der);
  return ok && n == out.size();
}

bool decodePin(std::string_view text, SpkiPin& out) {
  constexpr std::string_view kPrefix = "sha256//";
  if (!text.starts_with(kPrefix) || text.size() != kPrefix.size() + 44) return false;
  unsigned char raw[48];
  const int n = EVP_DecodeBlock(raw, reinterpret_cast<const unsigned char*>(text.data() + 8), 44);
  if (n < 32) return false;  // 33 with the padding byte counted
  std::memcpy(out.data(), raw, out.size());
  return true;
}

Refusal checkPins(STACK_OF(X509) * chain, std::span<const SpkiPin> pins) {
  if (pins.empty()) return Refusal::None;
  if (chain == nullptr) return Refusal::PinMismatch;
  for (int i = 0; i < sk_X509_num(chain); ++i) {
    SpkiPin h{};
    if (!spkiSha256(sk_X509_value(chain, i), h)) continue;
    if (std::find(pins.begin(), pins.end(), h) != pins.end()) return Refusal::None;
  }
  return Refusal::PinMismatch;
}

bool nameMatches(X509* cert, std::string_view host) {
  return !host.empty() &&
         X509_check_host(cert, host.data(), host.size(), hostCheckFlags(), nullptr) == 1;
}

X509StorePtr loadTrustStore(const std::string& pemFile) {
  X509StorePtr store(X509_STORE_new());
  if (!store || X509_STORE_load_file(store.get(), pemFile.c_str()) != 1) return nullptr;
  STACK_OF(X509_OBJECT)* objs = X509_STORE_get0_objects(store.get());
  if (objs == nullptr || sk_X509_OBJECT_num(objs) == 0) return nullptr;
  return store;
}

Refusal checkCertificateList(X509_STORE* store, std::span<const uint8_t> certList,
                             const CheckParams& params) {
  std::unique_ptr<STACK_OF(X509), StackFree> untrusted(sk_X509_new_null());
  X509* leaf = nullptr;
  size_t pos = 0;
  while (pos < certList.size()) {
    if (certList.size() - pos < 3) return Refusal::Untrusted;
    const size_t len = size_t(certList[pos]) << 16 | size_t(certList[pos + 1]) << 8 | certList[pos + 2];
    pos += 3;
    if (len == 0 || len > certList.size() - pos) return Refusal::Untrusted;
    const unsigned char* p = certList.data() + pos;
    X509* c = d2i_X509(nullptr, &p, long(len));
    if (c == nullptr || p != certList.data() + pos + len) {
      X509_free(c);
      return Refusal::Untrusted;
    }
    if (leaf == nullptr) leaf = c;  // owned by the stack too: freed with it
    sk_X509_push(untrusted.get(), c);
    pos += len;
  }
  if (leaf == nullptr) return Refusal::Untrusted;
  std::unique_ptr<X509_STORE_CTX, CtxFree> ctx(X509_STORE_CTX_new());
  if (!ctx || X509_STORE_CTX_init(ctx.get(), store, leaf, untrusted.get()) != 1) {
    return Refusal::Untrusted;
  }
  X509_STORE_CTX_set_purpose(ctx.get(), X509_PURPOSE_SSL_SERVER);
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  X509_VERIFY_PARAM_set_hostflags(param, hostCheckFlags());
  const std::string host(params.host);
  if (host.empty() || X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size()) != 1) {
    return Refusal::Name;
  }
  X509_VERIFY_PARAM_set_auth_level(param, 2);  // kMinSecurityBits
  if (params.atUnixSec != 0) X509_VERIFY_PARAM_set_time(param, time_t(params.atUnixSec));
  if (X509_verify_cert(ctx.get()) != 1) {
    const Refusal r = classifyVerifyError(X509_STORE_CTX_get_error(ctx.get()));
    return r == Refusal::None ? Refusal::Untrusted : r;
  }
  STACK_OF(X509)* verified = X509_STORE_CTX_get0_chain(ctx.get());
  const Refusal pinned = checkPins(verified, params.pins);
  if (pinned != Refusal::None) return pinned;
  return checkOcspStaple(params.ocspStaple, verified, store, params.ocsp, params.atUnixSec);
}

}  // namespace lbg::cert
