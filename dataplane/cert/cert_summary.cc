#include "dataplane/cert/cert_summary.h"

#include <openssl/asn1.h>
#include <openssl/bio.h>

#include <ctime>
#include <memory>

namespace lbg::cert {

namespace {

std::string oneLine(const X509_NAME* name) {
  BIO* bio = BIO_new(BIO_s_mem());
  if (bio == nullptr) return {};
  // RFC 2253 with UTF-8 kept as is (Japanese organisation names stay readable).
  X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  std::string out(data, size_t(len > 0 ? len : 0));
  BIO_free(bio);
  return out;
}

}  // namespace

CertSummary summarize(X509* leaf) {
  CertSummary s;
  if (leaf == nullptr) return s;
  s.subject = oneLine(X509_get_subject_name(leaf));
  s.issuer = oneLine(X509_get_issuer_name(leaf));
  tm t{};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(leaf), &t) == 1) s.notAfter = int64_t(timegm(&t));
  return s;
}

CertSummary summarizeList(std::span<const uint8_t> certList) {
  if (certList.size() < 3) return {};
  const size_t len = (size_t(certList[0]) << 16) | (size_t(certList[1]) << 8) | certList[2];
  if (len == 0 || len > certList.size() - 3) return {};
  const unsigned char* p = certList.data() + 3;
  std::unique_ptr<X509, decltype(&X509_free)> leaf(d2i_X509(nullptr, &p, long(len)), X509_free);
  return summarize(leaf.get());
}

}  // namespace lbg::cert
