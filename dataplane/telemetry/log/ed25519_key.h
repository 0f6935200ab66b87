#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "policy/base/result.h"

struct evp_pkey_st;

// The gateway's log key: Ed25519 (RFC 8032) through OpenSSL 3. The private key stays on the
// appliance (PEM, mode 0600); auditors verify seals with the public key alone.
namespace lbg::telemetry::logfmt {

struct PkeyFree {
  void operator()(evp_pkey_st* k) const;
};
using PkeyPtr = std::unique_ptr<evp_pkey_st, PkeyFree>;

class VerifyKey {
 public:
  static Result<VerifyKey> loadPem(const std::string& path);
  static Result<VerifyKey> fromPem(std::string_view pem);
  bool verify(std::string_view message, std::string_view signature) const;
  // First 16 hex digits of SHA-256 over the raw 32-byte public key: names the key in seals.
  const std::string& keyId() const { return keyId_; }
  std::string pem() const;

 private:
  friend class SigningKey;
  std::shared_ptr<evp_pkey_st> key_;
  std::string keyId_;
};

class SigningKey {
 public:
  // Loads the PEM private key at `path`; if the file does not exist, generates a key, writes it
  // with mode 0600 (created exclusively, so a race never overwrites a key) and `path`.pub beside.
  static Result<SigningKey> loadOrCreate(const std::string& path);
  static Result<SigningKey> loadPem(const std::string& path);
  // From a raw 32-byte seed (tests and deterministic fixtures only).
  static Result<SigningKey> fromSeed(std::string_view seed32);
  static Result<SigningKey> generate();
  Result<Ok> writePem(const std::string& path) const;  // private key 0600 + path.pub

  std::string sign(std::string_view message) const;  // 64-byte signature
  const VerifyKey& publicKey() const { return public_; }
  const std::string& keyId() const { return public_.keyId(); }

 private:
  static Result<SigningKey> fromPkey(evp_pkey_st* owned);
  std::shared_ptr<evp_pkey_st> key_;
  VerifyKey public_;
};

}  // namespace lbg::telemetry::logfmt
