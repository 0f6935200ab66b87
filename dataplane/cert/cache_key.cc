// The one-shot EVP digests allocate a context per call; the worker uses the plain SHA-256
// functions, deprecated in OpenSSL 3 but allocation-free.
#define OPENSSL_SUPPRESS_DEPRECATED
#include "dataplane/cert/cache_key.h"

#include <openssl/sha.h>

#include <cstring>

namespace lbg::cert {

CacheKey cacheKey(std::span<const uint8_t> certList, std::string_view sni,
                  std::span<const SpkiPin> pins, OcspMode ocsp, std::span<const uint8_t> staple) {
  SHA256_CTX c;
  SHA256_Init(&c);
  SHA256_Update(&c, certList.data(), certList.size());
  const uint8_t zero = 0;
  SHA256_Update(&c, &zero, 1);
  SHA256_Update(&c, sni.data(), sni.size());
  SHA256_Update(&c, &zero, 1);
  for (const SpkiPin& p : pins) SHA256_Update(&c, p.data(), p.size());
  if (ocsp != OcspMode::Off) {  // Off keeps the key of a chain without revocation rule unchanged
    const uint8_t tag[2] = {'o', uint8_t(ocsp)};
    SHA256_Update(&c, tag, sizeof tag);
    SHA256_Update(&c, staple.data(), staple.size());
  }
  CacheKey out;
  SHA256_Final(out.data(), &c);
  return out;
}

CacheKey probeKey(const IpAddr& server, uint16_t port, std::string_view sni,
                  std::span<const SpkiPin> pins, OcspMode ocsp) {
  uint8_t where[5 + 16 + 2 + 1] = {'p', 'r', 'o', 'b', 'e'};
  std::memcpy(where + 5, server.bytes.data(), 16);
  where[21] = uint8_t(port >> 8);
  where[22] = uint8_t(port);
  where[23] = uint8_t(ocsp);
  return cacheKey(where, sni, pins);
}

}  // namespace lbg::cert
