#include "dataplane/proxy/ca_files.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

namespace lbg::proxy {

namespace {

constexpr long kMaxPem = 64 * 1024;

struct BioFree {
  void operator()(BIO* p) const { BIO_free(p); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;

// The file's bytes in a memory BIO, or an error naming it.
Result<BioPtr> readBounded(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return Error{std::string("cannot open: ") + std::strerror(errno), path};
  if (!S_ISREG(st.st_mode)) return Error{"not a regular file", path};
  if (st.st_size > kMaxPem) return Error{"larger than 64 KiB", path};
  BioPtr f(BIO_new_file(path.c_str(), "r"));
  if (!f) return Error{std::string("cannot open: ") + std::strerror(errno), path};
  BioPtr mem(BIO_new(BIO_s_mem()));
  char buf[4096];
  long total = 0;
  int n = 0;
  while ((n = BIO_read(f.get(), buf, sizeof buf)) > 0) {
    total += n;
    if (total > kMaxPem) return Error{"larger than 64 KiB", path};
    BIO_write(mem.get(), buf, n);
  }
  OPENSSL_cleanse(buf, sizeof buf);
  return mem;
}

Result<CaPair> loadOnce(const std::string& certPath, const std::string& keyPath) {
  auto cb = readBounded(certPath);
  if (!cb) return cb.error();
  CaPair p;
  p.cert.reset(PEM_read_bio_X509(cb->get(), nullptr, nullptr, nullptr));
  if (!p.cert) return Error{"not a PEM certificate", certPath};
  auto kb = readBounded(keyPath);
  if (!kb) return kb.error();
  p.key.reset(PEM_read_bio_PrivateKey(kb->get(), nullptr, nullptr, nullptr));
  if (!p.key) return Error{"not a PEM private key (or one with a passphrase)", keyPath};
  if (X509_check_private_key(p.cert.get(), p.key.get()) != 1) {
    return Error{"the appliance CA certificate and key do not match", keyPath};
  }
  return p;
}

}  // namespace

Result<CaPair> loadCaPair(const std::string& certPath, const std::string& keyPath) {
  Result<CaPair> r = loadOnce(certPath, keyPath);
  for (int attempt = 1; attempt < 3 && !r.ok(); ++attempt) r = loadOnce(certPath, keyPath);
  ERR_clear_error();
  return r;
}

std::string caFilesIdentity(const std::string& certPath, const std::string& keyPath) {
  std::string out;
  for (const std::string* p : {&certPath, &keyPath}) {
    struct stat st {};
    if (::stat(p->c_str(), &st) != 0) {
      out += "missing;";
      continue;
    }
    out += std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino) + ":" +
           std::to_string(st.st_size) + ":" + std::to_string(st.st_mtim.tv_sec) + "." +
           std::to_string(st.st_mtim.tv_nsec) + ";";
  }
  return out;
}

}  // namespace lbg::proxy
