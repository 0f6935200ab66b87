// libFuzzer target: arbitrary bytes as a server certificate's DER (x509_name.h). Beyond "no
// crash" (ASan/UBSan): the text never exceeds its capacity, and a smaller capacity gives a prefix
// of the larger one's text.
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "dataplane/inspect/tls/x509_name.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace lbg::inspect;
  char big[4096], small[64];
  for (auto f : {X509NameField::Subject, X509NameField::Issuer}) {
    const size_t n = x509NameText({data, size}, f, big, sizeof big);
    const size_t m = x509NameText({data, size}, f, small, sizeof small);
    if (n > sizeof big || m > sizeof small) std::abort();
    if (m > n || std::memcmp(big, small, m) != 0) std::abort();
  }
  return 0;
}
