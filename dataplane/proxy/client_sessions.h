#pragma once

#include <openssl/ssl.h>

#include <array>
#include <cstdint>
#include <string_view>

namespace lbg::proxy {

// TLS session resumption for lbg-proxy's clients: TLS 1.3 tickets, TLS 1.2 tickets (RFC 5077)
// and TLS 1.2 session ids.
//
// Ticket keys: one random secret made at start (RAND_bytes), in memory only, never written.
// Rotation is a one-way ratchet over wall-clock periods of kTicketPeriodSec: the secret of period
// n+1 is HMAC-SHA256(secret of n), and each period's key name, AES-256-CBC key and HMAC-SHA256 key
// are HMACs of its secret. A ticket is accepted in the period it was issued and the next (and then
// renewed), so it lives between one and two periods; the session lifetime is one period. Each
// worker starts its own ring from the same TicketSeed and so computes the same keys at the same
// time: a session resumes on any worker with nothing shared or locked between them. The ratchet
// only goes forward and the seed is wiped once the workers have their rings, so the memory of a
// running proxy holds the keys of the current and previous periods, never older ones.
inline constexpr int64_t kTicketPeriodSec = 3600;

struct TicketSeed {
  std::array<uint8_t, 32> secret{};
  int64_t period = 0;  // the period `secret` belongs to (unix seconds / kTicketPeriodSec)
  // A fresh seed for the period of `nowSec`; false if the random generator fails.
  bool generate(int64_t nowSec);
  void wipe();
};

class TicketKeys {
 public:
  struct Key {
    std::array<uint8_t, 16> name{};
    std::array<uint8_t, 32> aes{};
    std::array<uint8_t, 32> hmac{};
  };

  explicit TicketKeys(const TicketSeed& seed);
  ~TicketKeys();
  TicketKeys(const TicketKeys&) = delete;
  TicketKeys& operator=(const TicketKeys&) = delete;

  // Ratchets forward to the period of `nowSec` (never back: a clock set back keeps the keys).
  void advance(int64_t nowSec);
  const Key& current() const { return cur_; }
  // The current or the previous period's key named `name` (16 bytes), else nullptr; `old` tells
  // which (a ticket under the previous key is renewed).
  const Key* find(const uint8_t* name, bool& old) const;
  int64_t period() const { return period_; }
  // AES-256-CBC, fetched once per ring (OpenSSL 3: no algorithm lookup per ticket).
  EVP_CIPHER* cipher() const { return cipher_; }

 private:
  void derive();

  std::array<uint8_t, 32> secret_{};
  int64_t period_ = 0;
  Key cur_;
  Key prev_;
  bool hasPrev_ = false;
  EVP_CIPHER* cipher_ = nullptr;
};

// Makes a client-facing SSL_CTX resume sessions: tickets encrypted with `keys` (which must
// outlive `ctx`; kept in the context's app data), a session lifetime of one ticket period, and the
// server-side cache of TLS 1.2 session ids (per SSL_CTX, so per worker: a client without tickets
// resumes only when it lands on the same worker again). lbg-proxy never switches a connection's
// SSL_CTX (one client context per worker, the leaf is set on each SSL), so the context that
// encrypts and decrypts tickets (OpenSSL's session context, the one the SSL was made from) is
// always the one holding `keys`.
void enableClientResumption(SSL_CTX* ctx, TicketKeys* keys);

// Binds the sessions of `ssl` (a client connection, before its handshake) to the server name it
// is intercepted for and the CA whose leaf it is shown: its session id context becomes
// SHA-256("lbg-proxy client session" | lower-case name | `caDigest`, the SHA-256 of the CA
// certificate, LeafMinter::caDigest()). OpenSSL
// resumes a TLS 1.2 session id or ticket, or a TLS 1.3 ticket, only when the session's context is
// the connection's (else a full handshake), and it checks no server name on a TLS 1.2 resumption
// itself: without this, a session minted for one host would be accepted on a connection to
// another, which never sees a leaf naming it. After a CA rotation no session of the old CA
// resumes: every client is shown a leaf of the new one. False if hashing fails.
bool bindClientSession(SSL* ssl, std::string_view serverName, const std::array<uint8_t, 32>& caDigest);

}  // namespace lbg::proxy
