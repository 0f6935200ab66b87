#include "dataplane/telemetry/log/ed25519_key.h"

#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "dataplane/telemetry/log/chain.h"

namespace lbg::telemetry::logfmt {

void PkeyFree::operator()(evp_pkey_st* k) const { EVP_PKEY_free(k); }

namespace {

std::string sslError(const std::string& what) {
  unsigned long e = ERR_get_error();
  char buf[256] = "";
  if (e != 0) ERR_error_string_n(e, buf, sizeof(buf));
  ERR_clear_error();
  return what + (e != 0 ? std::string(": ") + buf : std::string());
}

Result<std::string> readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{"cannot open " + path + ": " + std::strerror(errno), path};
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string computeKeyId(EVP_PKEY* k) {
  unsigned char raw[32];
  size_t len = sizeof(raw);
  if (EVP_PKEY_get_raw_public_key(k, raw, &len) != 1 || len != 32) return "";
  unsigned char h[32];
  SHA256(raw, len, h);
  return toHex(h, 8);
}

Result<Ok> writeExclusive(const std::string& path, const std::string& data, mode_t mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return Error{"cannot create " + path + ": " + std::strerror(errno), path};
  ssize_t n = ::write(fd, data.data(), data.size());
  bool ok = n == ssize_t(data.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) return Error{"cannot write " + path, path};
  return Ok{};
}

}  // namespace

Result<VerifyKey> VerifyKey::fromPem(std::string_view pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), int(pem.size()));
  EVP_PKEY* k = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (k == nullptr) return Error{sslError("not a PEM public key")};
  if (EVP_PKEY_get_id(k) != EVP_PKEY_ED25519) {
    EVP_PKEY_free(k);
    return Error{"public key is not Ed25519"};
  }
  VerifyKey v;
  v.key_.reset(k, PkeyFree{});
  v.keyId_ = computeKeyId(k);
  return v;
}

Result<VerifyKey> VerifyKey::loadPem(const std::string& path) {
  auto text = readFile(path);
  if (!text) return text.error();
  auto k = fromPem(*text);
  if (!k) return Error{k.error().message, path};
  return k;
}

bool VerifyKey::verify(std::string_view message, std::string_view signature) const {
  if (!key_ || signature.size() != 64) return false;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok = EVP_DigestVerifyInit(ctx, nullptr, nullptr, nullptr, key_.get()) == 1 &&
            EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(signature.data()),
                             signature.size(),
                             reinterpret_cast<const unsigned char*>(message.data()),
                             message.size()) == 1;
  EVP_MD_CTX_free(ctx);
  ERR_clear_error();
  return ok;
}

std::string VerifyKey::pem() const {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, key_.get());
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  std::string out(data, size_t(n));
  BIO_free(bio);
  return out;
}

Result<SigningKey> SigningKey::fromPkey(EVP_PKEY* owned) {
  if (EVP_PKEY_get_id(owned) != EVP_PKEY_ED25519) {
    EVP_PKEY_free(owned);
    return Error{"private key is not Ed25519"};
  }
  SigningKey s;
  s.key_.reset(owned, PkeyFree{});
  s.public_.key_ = s.key_;  // an EVP_PKEY with a private part verifies as well
  s.public_.keyId_ = computeKeyId(owned);
  return s;
}

Result<SigningKey> SigningKey::generate() {
  EVP_PKEY* k = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  if (k == nullptr) return Error{sslError("Ed25519 key generation failed")};
  return fromPkey(k);
}

Result<SigningKey> SigningKey::fromSeed(std::string_view seed32) {
  if (seed32.size() != 32) return Error{"Ed25519 seed must be 32 bytes"};
  EVP_PKEY* k = EVP_PKEY_new_raw_private_key(
      EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(seed32.data()), 32);
  if (k == nullptr) return Error{sslError("bad Ed25519 seed")};
  return fromPkey(k);
}

Result<SigningKey> SigningKey::loadPem(const std::string& path) {
  auto text = readFile(path);
  if (!text) return text.error();
  BIO* bio = BIO_new_mem_buf(text->data(), int(text->size()));
  EVP_PKEY* k = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (k == nullptr) return Error{sslError("not a PEM private key"), path};
  return fromPkey(k);
}

Result<SigningKey> SigningKey::loadOrCreate(const std::string& path) {
  if (::access(path.c_str(), F_OK) == 0) return loadPem(path);
  auto k = generate();
  if (!k) return k;
  auto w = k->writePem(path);
  if (!w) return w.error();
  return k;
}

Result<Ok> SigningKey::writePem(const std::string& path) const {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, key_.get(), nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  std::string priv(data, size_t(n));
  BIO_free(bio);
  auto w = writeExclusive(path, priv, 0600);
  if (!w) return w;
  std::string pub = public_.pem();
  std::string pubPath = path + ".pub";
  ::unlink(pubPath.c_str());  // the public half is derived; a stale one must not survive
  return writeExclusive(pubPath, pub, 0644);
}

std::string SigningKey::sign(std::string_view message) const {
  std::string sig(64, '\0');
  size_t len = sig.size();
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok = EVP_DigestSignInit(ctx, nullptr, nullptr, nullptr, key_.get()) == 1 &&
            EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                           reinterpret_cast<const unsigned char*>(message.data()),
                           message.size()) == 1;
  EVP_MD_CTX_free(ctx);
  if (!ok || len != 64) return {};  // cannot happen with a valid key; callers check size
  return sig;
}

}  // namespace lbg::telemetry::logfmt
