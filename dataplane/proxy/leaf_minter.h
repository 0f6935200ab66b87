#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "dataplane/proxy/ossl.h"

namespace lbg::proxy {

// Mints the leaf certificate lbg-proxy shows the client, signed by the appliance CA: ECDSA P-256
// with one key generated at start (minting then costs one signature, never a key generation),
// the subject alternative names copied from the upstream server's validated certificate (DNS
// names only, each checked like an SNI), valid from an hour ago to the upstream's notAfter capped
// at 30 days. Cached by the upstream certificate's SHA-256 fingerprint and the SNI: a new
// upstream certificate gets a new leaf, the same one is minted once. One minter per worker (no
// locks).
class LeafMinter {
 public:
  // nullptr if the CA key cannot sign or the leaf key cannot be made.
  static std::unique_ptr<LeafMinter> create(X509Ptr caCert, PkeyPtr caKey, size_t cacheLimit = 4096);

  // The leaf for `sni` given the validated upstream certificate, or nullptr if `sni` is not a
  // server name (validServerName) or signing fails. The pointer stays owned by the cache; the
  // caller takes its own reference (X509_up_ref) if it keeps it.
  X509* mint(X509* upstream, std::string_view sni);

  EVP_PKEY* leafKey() const { return leafKey_.get(); }
  X509* caCert() const { return caCert_.get(); }
  // SHA-256 of the CA certificate (client sessions are bound to it: client_sessions.h).
  const std::array<uint8_t, 32>& caDigest() const { return caDigest_; }
  size_t cacheSize() const { return cache_.size(); }
  uint64_t minted() const { return minted_; }

 private:
  LeafMinter(X509Ptr caCert, PkeyPtr caKey, PkeyPtr leafKey, size_t cacheLimit)
      : caCert_(std::move(caCert)), caKey_(std::move(caKey)), leafKey_(std::move(leafKey)),
        cacheLimit_(cacheLimit) {}
  X509Ptr build(X509* upstream, std::string_view sni);

  X509Ptr caCert_;
  PkeyPtr caKey_;
  PkeyPtr leafKey_;
  std::array<uint8_t, 32> caDigest_{};
  size_t cacheLimit_;
  uint64_t minted_ = 0;
  uint64_t serial_ = 0;
  std::map<std::pair<std::array<uint8_t, 32>, std::string>, X509Ptr> cache_;
};

}  // namespace lbg::proxy
