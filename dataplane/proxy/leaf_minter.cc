#include "dataplane/proxy/leaf_minter.h"

#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <ctime>

#include "dataplane/proxy/connect_target.h"

namespace lbg::proxy {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = char(c + 32);
  }
  if (!out.empty() && out.back() == '.') out.pop_back();
  return out;
}

// A SAN worth copying: a server name, or "*." and a server name of at least two labels.
bool copyableDnsName(std::string_view n) {
  if (n.size() > 2 && n[0] == '*' && n[1] == '.') n.remove_prefix(2);
  return validServerName(n);
}

}  // namespace

std::unique_ptr<LeafMinter> LeafMinter::create(X509Ptr caCert, PkeyPtr caKey, size_t cacheLimit) {
  if (!caCert || !caKey || X509_check_private_key(caCert.get(), caKey.get()) != 1) return nullptr;
  PkeyPtr leafKey(EVP_EC_gen("P-256"));
  if (!leafKey) return nullptr;
  std::array<uint8_t, 32> digest{};
  unsigned int len = 0;
  if (X509_digest(caCert.get(), EVP_sha256(), digest.data(), &len) != 1 || len != digest.size()) {
    return nullptr;
  }
  auto minter = std::unique_ptr<LeafMinter>(
      new LeafMinter(std::move(caCert), std::move(caKey), std::move(leafKey), cacheLimit));
  minter->caDigest_ = digest;
  return minter;
}

X509* LeafMinter::mint(X509* upstream, std::string_view sni) {
  if (!upstream || !validServerName(sni)) return nullptr;
  std::array<uint8_t, 32> fp{};
  unsigned len = 0;
  if (X509_digest(upstream, EVP_sha256(), fp.data(), &len) != 1 || len != fp.size()) return nullptr;
  auto key = std::make_pair(fp, lower(sni));
  if (auto it = cache_.find(key); it != cache_.end()) return it->second.get();
  X509Ptr leaf = build(upstream, key.second);
  if (!leaf) return nullptr;
  // Bounded: when full, start over (a rare event; the working set is a few login hosts).
  if (cache_.size() >= cacheLimit_) cache_.clear();
  ++minted_;
  return cache_.emplace(std::move(key), std::move(leaf)).first->second.get();
}

X509Ptr LeafMinter::build(X509* upstream, std::string_view sni) {
  X509Ptr leaf(X509_new());
  if (!leaf || X509_set_version(leaf.get(), 2) != 1) return nullptr;
  // Random 64-bit serial plus a counter: unique per minter, unpredictable across restarts.
  uint64_t r = 0;
  RAND_bytes(reinterpret_cast<unsigned char*>(&r), sizeof(r));
  ASN1_INTEGER_set_uint64(X509_get_serialNumber(leaf.get()), (r & ~0xffffULL) | (++serial_ & 0xffff));
  X509_NAME* subject = X509_get_subject_name(leaf.get());
  const std::string cn(sni);
  X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(leaf.get(), X509_get_subject_name(caCert_.get()));
  X509_gmtime_adj(X509_getm_notBefore(leaf.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(leaf.get()), 30L * 86400);
  // Never outlive the certificate the client is shown a copy of.
  if (ASN1_TIME_compare(X509_get0_notAfter(upstream), X509_get0_notAfter(leaf.get())) < 0) {
    X509_set1_notAfter(leaf.get(), X509_get0_notAfter(upstream));
  }
  X509_set_pubkey(leaf.get(), leafKey_.get());

  GENERAL_NAMES* sans = sk_GENERAL_NAME_new_null();
  auto addDns = [&](const std::string& name) {
    for (int i = 0; i < sk_GENERAL_NAME_num(sans); ++i) {
      const GENERAL_NAME* g = sk_GENERAL_NAME_value(sans, i);
      const auto* s = g->d.dNSName;
      if (std::string_view(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                           size_t(ASN1_STRING_length(s))) == name)
        return;
    }
    GENERAL_NAME* g = GENERAL_NAME_new();
    ASN1_IA5STRING* s = ASN1_IA5STRING_new();
    ASN1_STRING_set(s, name.data(), int(name.size()));
    GENERAL_NAME_set0_value(g, GEN_DNS, s);
    sk_GENERAL_NAME_push(sans, g);
  };
  addDns(std::string(sni));
  auto* upstreamSans = static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(upstream, NID_subject_alt_name, nullptr, nullptr));
  if (upstreamSans) {
    for (int i = 0; i < sk_GENERAL_NAME_num(upstreamSans) && sk_GENERAL_NAME_num(sans) < 100; ++i) {
      const GENERAL_NAME* g = sk_GENERAL_NAME_value(upstreamSans, i);
      if (g->type != GEN_DNS) continue;
      const std::string_view n(reinterpret_cast<const char*>(ASN1_STRING_get0_data(g->d.dNSName)),
                               size_t(ASN1_STRING_length(g->d.dNSName)));
      if (copyableDnsName(n)) addDns(lower(n));
    }
    GENERAL_NAMES_free(upstreamSans);
  }
  const int ok = X509_add1_ext_i2d(leaf.get(), NID_subject_alt_name, sans, 0, 0);
  GENERAL_NAMES_free(sans);
  if (ok != 1) return nullptr;

  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, caCert_.get(), leaf.get(), nullptr, nullptr, 0);
  for (auto [nid, value] : {std::pair{NID_basic_constraints, "critical,CA:FALSE"},
                            std::pair{NID_key_usage, "critical,digitalSignature"},
                            std::pair{NID_ext_key_usage, "serverAuth"},
                            std::pair{NID_subject_key_identifier, "hash"},
                            std::pair{NID_authority_key_identifier, "keyid:always"}}) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    // A CA certificate without a subject key identifier gives no keyid: the AKI is optional.
    if (!ext && nid == NID_authority_key_identifier) {
      ERR_clear_error();
      continue;
    }
    if (!ext) return nullptr;
    X509_add_ext(leaf.get(), ext, -1);
    X509_EXTENSION_free(ext);
  }
  if (X509_sign(leaf.get(), caKey_.get(), EVP_sha256()) <= 0) return nullptr;
  return leaf;
}

}  // namespace lbg::proxy
