#include "dataplane/proxy/client_sessions.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include <cctype>
#include <cstring>
#include <ctime>
#include <string>

namespace lbg::proxy {

namespace {

// HMAC-SHA256(key, label) into out (32 bytes).
bool hmac(const std::array<uint8_t, 32>& key, std::string_view label, uint8_t* out) {
  size_t len = 0;
  return EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, key.data(), key.size(),
                   reinterpret_cast<const unsigned char*>(label.data()), label.size(), out, 32,
                   &len) != nullptr &&
         len == 32;
}

int64_t periodOf(int64_t nowSec) { return nowSec / kTicketPeriodSec; }

// SSL_CTX_set_tlsext_ticket_key_evp_cb: enc = 1 encrypts a new ticket under the current key;
// enc = 0 finds the key a ticket names (0: unknown, full handshake; 2: valid but old, renew).
int ticketKeyCallback(SSL* ssl, unsigned char keyName[16], unsigned char* iv, EVP_CIPHER_CTX* ctx,
                      EVP_MAC_CTX* hctx, int enc) {
  auto* keys = static_cast<TicketKeys*>(SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl)));
  if (keys == nullptr) return -1;
  keys->advance(int64_t(std::time(nullptr)));
  const TicketKeys::Key* key = &keys->current();
  bool old = false;
  if (enc) {
    std::memcpy(keyName, key->name.data(), key->name.size());
    if (RAND_bytes(iv, EVP_CIPHER_get_iv_length(keys->cipher())) != 1) return -1;
  } else {
    key = keys->find(keyName, old);
    if (key == nullptr) return 0;
  }
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, const_cast<uint8_t*>(key->hmac.data()),
                                        key->hmac.size()),
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>("SHA256"), 0),
      OSSL_PARAM_construct_end()};
  if (EVP_MAC_CTX_set_params(hctx, params) != 1) return -1;
  const int ok = enc ? EVP_EncryptInit_ex2(ctx, keys->cipher(), key->aes.data(), iv, nullptr)
                     : EVP_DecryptInit_ex2(ctx, keys->cipher(), key->aes.data(), iv, nullptr);
  if (ok != 1) return -1;
  return old ? 2 : 1;
}

}  // namespace

bool TicketSeed::generate(int64_t nowSec) {
  period = periodOf(nowSec);
  return RAND_priv_bytes(secret.data(), int(secret.size())) == 1;
}

void TicketSeed::wipe() { OPENSSL_cleanse(secret.data(), secret.size()); }

TicketKeys::TicketKeys(const TicketSeed& seed)
    : secret_(seed.secret), period_(seed.period),
      cipher_(EVP_CIPHER_fetch(nullptr, "AES-256-CBC", nullptr)) {
  derive();
}

TicketKeys::~TicketKeys() {
  OPENSSL_cleanse(secret_.data(), secret_.size());
  OPENSSL_cleanse(&cur_, sizeof cur_);
  OPENSSL_cleanse(&prev_, sizeof prev_);
  EVP_CIPHER_free(cipher_);
}

void TicketKeys::derive() {
  uint8_t name[32];
  hmac(secret_, "lbg-proxy ticket key name", name);
  std::memcpy(cur_.name.data(), name, cur_.name.size());
  hmac(secret_, "lbg-proxy ticket AES key", cur_.aes.data());
  hmac(secret_, "lbg-proxy ticket HMAC key", cur_.hmac.data());
}

void TicketKeys::advance(int64_t nowSec) {
  const int64_t target = periodOf(nowSec);
  while (period_ < target) {
    std::array<uint8_t, 32> next{};
    hmac(secret_, "lbg-proxy ticket ratchet", next.data());
    OPENSSL_cleanse(secret_.data(), secret_.size());
    secret_ = next;
    OPENSSL_cleanse(next.data(), next.size());
    ++period_;
    prev_ = cur_;
    hasPrev_ = true;
    derive();
  }
}

const TicketKeys::Key* TicketKeys::find(const uint8_t* name, bool& old) const {
  old = false;
  if (std::memcmp(name, cur_.name.data(), cur_.name.size()) == 0) return &cur_;
  if (hasPrev_ && std::memcmp(name, prev_.name.data(), prev_.name.size()) == 0) {
    old = true;
    return &prev_;
  }
  return nullptr;
}

void enableClientResumption(SSL_CTX* ctx, TicketKeys* keys) {
  SSL_CTX_set_app_data(ctx, keys);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
  SSL_CTX_set_timeout(ctx, long(kTicketPeriodSec));
  SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, ticketKeyCallback);
}

bool bindClientSession(SSL* ssl, std::string_view serverName, const std::array<uint8_t, 32>& caDigest) {
  std::string material = "lbg-proxy client session";
  material.push_back('\0');
  for (const char ch : serverName) material.push_back(char(std::tolower(static_cast<unsigned char>(ch))));
  material.push_back('\0');
  material.append(reinterpret_cast<const char*>(caDigest.data()), caDigest.size());
  unsigned char ctx[32];
  unsigned int len = 0;
  if (EVP_Digest(material.data(), material.size(), ctx, &len, EVP_sha256(), nullptr) != 1) return false;
  static_assert(sizeof ctx <= SSL_MAX_SID_CTX_LENGTH);
  return SSL_set_session_id_context(ssl, ctx, len) == 1;
}

}  // namespace lbg::proxy
