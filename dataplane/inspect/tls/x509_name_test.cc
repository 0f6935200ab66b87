#include "dataplane/inspect/tls/x509_name.h"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <string>
#include <vector>

namespace lbg::inspect {
namespace {

struct Entry {
  const char* field;
  std::string value;
  int set;  // 0: a new RDN; -1: added to the previous RDN (multi-valued)
  int type = MBSTRING_UTF8;
};

// A real certificate made by OpenSSL, in DER.
std::vector<uint8_t> certificate(const std::vector<Entry>& subject, const std::vector<Entry>& issuer) {
  X509* x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
  X509_gmtime_adj(X509_getm_notBefore(x), 0);
  X509_gmtime_adj(X509_getm_notAfter(x), 3600);
  auto fill = [](X509_NAME* n, const std::vector<Entry>& es) {
    for (const Entry& e : es) {
      X509_NAME_add_entry_by_txt(n, e.field, e.type,
                                 reinterpret_cast<const unsigned char*>(e.value.data()),
                                 int(e.value.size()), -1, e.set);
    }
  };
  fill(X509_get_subject_name(x), subject);
  fill(X509_get_issuer_name(x), issuer);
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509_set_pubkey(x, key);
  X509_sign(x, key, EVP_sha256());
  unsigned char* der = nullptr;
  const int n = i2d_X509(x, &der);
  std::vector<uint8_t> out(der, der + n);
  OPENSSL_free(der);
  EVP_PKEY_free(key);
  X509_free(x);
  return out;
}

std::string text(const std::vector<uint8_t>& cert, X509NameField f, size_t cap = 1024) {
  std::string out(cap, '\0');
  out.resize(x509NameText(cert, f, out.data(), cap));
  return out;
}

// OpenSSL's rendering with Suricata's separators (", " between RDNs, " + " inside one), short
// names, no spaces around '=' and no escaping: an independent oracle for ordinary names.
std::string openssl(const std::vector<uint8_t>& cert, X509NameField f) {
  const unsigned char* p = cert.data();
  X509* x = d2i_X509(nullptr, &p, long(cert.size()));
  BIO* b = BIO_new(BIO_s_mem());
  X509_NAME_print_ex(b, f == X509NameField::Subject ? X509_get_subject_name(x) : X509_get_issuer_name(x),
                     0, XN_FLAG_SEP_CPLUS_SPC | XN_FLAG_FN_SN | ASN1_STRFLGS_UTF8_CONVERT);
  char* data = nullptr;
  const long n = BIO_get_mem_data(b, &data);
  std::string s(data, size_t(n));
  BIO_free(b);
  X509_free(x);
  return s;
}

TEST(X509NameText, SuricataShapeAgreesWithOpenSsl) {
  const auto cert = certificate(
      {{"C", "JP", 0}, {"ST", "Tokyo", 0}, {"O", "Example City Office", 0}, {"OU", "IT", 0},
       {"CN", "login.example.jp", 0}, {"emailAddress", "admin@example.jp", 0}},
      {{"C", "US", 0}, {"O", "Test Root CA", 0}, {"CN", "Test Intermediate R3", 0}});
  EXPECT_EQ(text(cert, X509NameField::Subject),
            "C=JP, ST=Tokyo, O=Example City Office, OU=IT, CN=login.example.jp, "
            "emailAddress=admin@example.jp");
  EXPECT_EQ(text(cert, X509NameField::Issuer), "C=US, O=Test Root CA, CN=Test Intermediate R3");
  EXPECT_EQ(text(cert, X509NameField::Subject), openssl(cert, X509NameField::Subject));
  EXPECT_EQ(text(cert, X509NameField::Issuer), openssl(cert, X509NameField::Issuer));
}

TEST(X509NameText, MultiValuedRdnDomainComponentsAndUtf8) {
  const auto cert = certificate(
      {{"DC", "jp", 0}, {"DC", "example", 0}, {"O", "東京都", 0}, {"CN", "a", 0},
       {"serialNumber", "42", -1}},
      {{"CN", "root", 0}});
  EXPECT_EQ(text(cert, X509NameField::Subject), "DC=jp, DC=example, O=東京都, CN=a + serialNumber=42");
  EXPECT_EQ(text(cert, X509NameField::Subject), openssl(cert, X509NameField::Subject));
}

TEST(X509NameText, BoundedAndMalformed) {
  const auto cert = certificate({{"CN", std::string(60, 'x'), 0}}, {{"CN", "root", 0}});
  EXPECT_EQ(text(cert, X509NameField::Subject, 10), "CN=xxxxxxx");  // cut at the capacity
  for (size_t cut = 0; cut < cert.size(); cut += 7) {
    const std::vector<uint8_t> part(cert.begin(), cert.begin() + long(cut));
    EXPECT_EQ(text(part, X509NameField::Subject), "") << cut;  // the outer length overruns
  }
  EXPECT_EQ(text({0x30, 0x03, 0x30, 0x01, 0x02}, X509NameField::Issuer), "");
}

}  // namespace
}  // namespace lbg::inspect
