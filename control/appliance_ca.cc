#include "control/appliance_ca.h"

#include <fcntl.h>
#include <grp.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <memory>

#include "control/atomic_file.h"

namespace lbg::control {

namespace {

struct X509Free {
  void operator()(X509* p) const { X509_free(p); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct BioFree {
  void operator()(BIO* p) const { BIO_free(p); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using BioPtr = std::unique_ptr<BIO, BioFree>;

constexpr size_t kMaxPem = 64 * 1024;

Error sslError(const std::string& what, const std::string& path = "") {
  return Error{what, path};
}

std::string bioText(BIO* b) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(b, &data);
  return n > 0 ? std::string(data, size_t(n)) : std::string();
}

std::string toPem(X509* c) {
  BioPtr b(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(b.get(), c);
  return bioText(b.get());
}

X509Ptr fromPem(const std::string& pem) {
  BioPtr b(BIO_new_mem_buf(pem.data(), int(pem.size())));
  return X509Ptr(PEM_read_bio_X509(b.get(), nullptr, nullptr, nullptr));
}

std::string rfc3339(const ASN1_TIME* t) {
  struct tm tm {};
  if (ASN1_TIME_to_tm(t, &tm) != 1) return "";
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

CaCertInfo describe(X509* c, const std::string& path, const std::string& pem) {
  CaCertInfo i;
  i.path = path;
  i.pem = pem;
  BioPtr b(BIO_new(BIO_s_mem()));
  // UTF-8 kept as is: municipality names are Japanese.
  X509_NAME_print_ex(b.get(), X509_get_subject_name(c), 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
  i.subject = bioText(b.get());
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  X509_digest(c, EVP_sha256(), md, &n);
  static const char* kHex = "0123456789ABCDEF";
  for (unsigned int k = 0; k < n; ++k) {
    if (k) i.sha256 += ':';
    i.sha256 += kHex[md[k] >> 4];
    i.sha256 += kHex[md[k] & 15];
  }
  i.notBefore = rfc3339(X509_get0_notBefore(c));
  i.notAfter = rfc3339(X509_get0_notAfter(c));
  return i;
}

bool addExt(X509* cert, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (!ext) return false;
  const bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

bool addName(X509_NAME* n, const char* field, const std::string& value) {
  return X509_NAME_add_entry_by_txt(n, field, MBSTRING_UTF8,
                                    reinterpret_cast<const unsigned char*>(value.c_str()), -1, -1,
                                    0) == 1;
}

struct NewCa {
  PkeyPtr key;
  X509Ptr cert;
};

Result<NewCa> generate(const CaOptions& o) {
  if (o.organization.empty() || o.organization.size() > 64) {
    return Error{"the organisation (subject) must be 1 to 64 bytes"};
  }
  if (o.validDays == 0 || o.validDays > 20 * 365) {
    return Error{"validity must be 1 to 7300 days"};
  }
  NewCa ca{PkeyPtr(EVP_EC_gen("P-256")), X509Ptr(X509_new())};
  if (!ca.key || !ca.cert) return sslError("cannot generate the CA key");
  X509* c = ca.cert.get();
  X509_set_version(c, 2);
  // 16 random bytes, top bit clear: a positive serial that a re-initialised CA never repeats.
  unsigned char serial[16];
  if (RAND_bytes(serial, sizeof serial) != 1) return sslError("no randomness for the serial");
  serial[0] &= 0x7f;
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(c));
  BN_free(bn);
  X509_NAME* name = X509_get_subject_name(c);
  if (!addName(name, "O", o.organization) ||
      !addName(name, "CN", o.organization + " lbg appliance CA")) {
    return Error{"the organisation is not a valid subject name (UTF-8 expected)"};
  }
  X509_set_issuer_name(c, name);
  const time_t now = std::chrono::system_clock::to_time_t(o.now);
  // An hour back: PCs with a slightly late clock accept the CA at once.
  ASN1_TIME_adj(X509_getm_notBefore(c), now, 0, -3600);
  ASN1_TIME_adj(X509_getm_notAfter(c), now, int(o.validDays), 0);
  X509_set_pubkey(c, ca.key.get());
  if (!addExt(c, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") ||
      !addExt(c, NID_key_usage, "critical,keyCertSign,cRLSign") ||
      !addExt(c, NID_subject_key_identifier, "hash") ||
      !addExt(c, NID_authority_key_identifier, "keyid:always")) {
    return sslError("cannot add the CA extensions");
  }
  if (X509_sign(c, ca.key.get(), EVP_sha256()) <= 0) return sslError("cannot sign the CA");
  return ca;
}

// Temp file + owner/mode + fsync + rename + directory fsync. The mode is set with fchmod so the
// umask cannot widen or narrow it, and the group before any byte of the key is written.
Result<Ok> writeOwned(const std::string& path, const std::string& content, int mode, int gid) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return Error{std::string("cannot create: ") + std::strerror(errno), tmp};
  auto fail = [&](const char* what) {
    Error e{std::string(what) + ": " + std::strerror(errno), tmp};
    ::close(fd);
    ::unlink(tmp.c_str());
    return e;
  };
  if (gid >= 0 && ::fchown(fd, uid_t(-1), gid_t(gid)) != 0) return fail("cannot set the group");
  if (::fchmod(fd, mode_t(mode)) != 0) return fail("cannot set the mode");
  size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail("cannot write");
    }
    done += size_t(n);
  }
  if (::fsync(fd) != 0) return fail("cannot sync");
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    Error e{std::string("cannot rename into place: ") + std::strerror(errno), path};
    ::unlink(tmp.c_str());
    return e;
  }
  return syncDirectory(std::filesystem::path(path).parent_path().string());
}

bool exists(const std::string& p) {
  struct stat st {};
  return ::lstat(p.c_str(), &st) == 0;
}

bool isSymlink(const std::string& p) {
  struct stat st {};
  return ::lstat(p.c_str(), &st) == 0 && S_ISLNK(st.st_mode);
}

void step(const CaOptions& o, const char* what) {
  if (o.afterStep) o.afterStep(what);
}

// `link` → `target` replaced in one rename(2) (a symlink made under a temporary name first).
Result<Ok> switchLink(const std::string& link, const std::string& target) {
  const std::string tmp = link + ".tmp." + std::to_string(::getpid());
  ::unlink(tmp.c_str());
  if (::symlink(target.c_str(), tmp.c_str()) != 0) {
    return Error{std::string("cannot create a link: ") + std::strerror(errno), tmp};
  }
  if (::rename(tmp.c_str(), link.c_str()) != 0) {
    Error e{std::string("cannot rename the link into place: ") + std::strerror(errno), link};
    ::unlink(tmp.c_str());
    return e;
  }
  return syncDirectory(std::filesystem::path(link).parent_path().string());
}

// The generation `current` names, or "" (no CA, or the layout before generations).
std::string currentGeneration(const std::string& dir) {
  char buf[256];
  const ssize_t n = ::readlink((dir + "/current").c_str(), buf, sizeof buf - 1);
  if (n <= 0) return "";
  const std::string g(buf, size_t(n));
  // Only a name of ours, never a path that leads elsewhere.
  if (g.rfind("g-", 0) != 0 || g.find('/') != std::string::npos) return "";
  return g;
}

// The top-level names (what lbg-proxy and the PCs' distribution read) as links into `current`,
// made once. Each is replaced by one rename; before and after, both names resolve to one pair.
Result<Ok> linkTopLevel(const std::string& dir, bool withPrev) {
  for (const char* name : {"ca.key", "ca.pem", "ca.prev.pem"}) {
    if (std::string(name) == "ca.prev.pem" && !withPrev) continue;
    const std::string path = dir + "/" + name;
    if (isSymlink(path)) continue;
    if (auto r = switchLink(path, std::string("current/") + name); !r) return r;
  }
  return Ok{};
}

// Removes every generation but `keep` (and a crashed write's leftovers): the old key is gone once
// the switch is durable, as before generations. A reader that resolved an old generation just
// before fails to open it and reads again (dataplane/proxy/ca_files.h).
void prune(const std::string& dir, const std::string& keep) {
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("g-", 0) == 0 && name != keep) std::filesystem::remove_all(e.path(), ec);
  }
}

// Writes a complete generation (key, certificate, previous certificate) into a directory of its
// own, then switches `current` to it: the one rename that replaces the pair. A crash before it
// leaves the old pair in use (and a stray generation, pruned next time); after it, the new one.
Result<CaInfo> store(const CaOptions& o, NewCa ca, const std::string& prevPem) {
  std::error_code ec;
  std::filesystem::create_directories(o.dir, ec);
  if (ec) return Error{"cannot create the CA directory: " + ec.message(), o.dir};
  int gid = -1;
  int keyMode = 0600;
  std::string groupName;
  if (!o.keyGroup.empty()) {
    if (const group* g = ::getgrnam(o.keyGroup.c_str())) {
      gid = int(g->gr_gid);
      keyMode = 0640;
      groupName = o.keyGroup;
    }
  }
  BioPtr kb(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_PrivateKey(kb.get(), ca.key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return sslError("cannot encode the CA key");
  }
  std::string keyPem = bioText(kb.get());
  const std::string certPem = toPem(ca.cert.get());
  const CaCertInfo described = describe(ca.cert.get(), caCertPath(o.dir), certPem);
  // Named by the certificate's fingerprint: unique per CA, and readable in `ls`.
  std::string gen = "g-";
  for (char c : described.sha256.substr(0, 23)) {
    if (c != ':') gen += char(std::tolower(static_cast<unsigned char>(c)));
  }
  const std::string genDir = o.dir + "/" + gen;
  std::filesystem::remove_all(genDir, ec);
  // 0755: the certificates are public; the key inside keeps its own mode and group.
  if (::mkdir(genDir.c_str(), 0755) != 0 || ::chmod(genDir.c_str(), 0755) != 0) {
    return Error{std::string("cannot create the generation: ") + std::strerror(errno), genDir};
  }
  auto k = writeOwned(genDir + "/ca.key", keyPem, keyMode, gid);
  OPENSSL_cleanse(keyPem.data(), keyPem.size());
  if (!k) return k.error();
  step(o, "key written");
  if (auto c = writeOwned(genDir + "/ca.pem", certPem, 0644, -1); !c) return c.error();
  step(o, "certificate written");
  if (!prevPem.empty()) {
    if (auto p = writeOwned(genDir + "/ca.prev.pem", prevPem, 0644, -1); !p) return p.error();
    step(o, "previous written");
  }
  if (auto sd = syncDirectory(o.dir); !sd) return sd.error();
  if (auto sw = switchLink(o.dir + "/current", gen); !sw) return sw.error();
  step(o, "switched");
  if (auto l = linkTopLevel(o.dir, !prevPem.empty()); !l) return l.error();
  step(o, "linked");
  prune(o.dir, gen);
  CaInfo info;
  info.cert = described;
  info.keyPath = caKeyPath(o.dir);
  info.keyMode = keyMode;
  info.keyGroup = groupName;
  return info;
}

Result<X509Ptr> readCert(const std::string& path) {
  auto text = readFileLimited(path, kMaxPem);
  if (!text) return text.error();
  X509Ptr c = fromPem(*text);
  if (!c) return Error{"not a PEM certificate", path};
  return c;
}

// A CA directory from before generations (plain ca.pem, ca.key, ca.prev.pem): its pair becomes
// generation one, then each top-level name becomes a link, one rename at a time; every name
// resolves to the same pair at every step, so even this conversion is never half done.
Result<Ok> adoptLegacy(const CaOptions& o) {
  if (!currentGeneration(o.dir).empty() || isSymlink(caCertPath(o.dir))) return Ok{};
  auto cert = readFileLimited(caCertPath(o.dir), kMaxPem);
  if (!cert) return cert.error();
  auto key = readFileLimited(caKeyPath(o.dir), kMaxPem);
  if (!key) return key.error();
  auto prev = readFileLimited(caPrevCertPath(o.dir), kMaxPem);
  X509Ptr c = fromPem(*cert);
  if (!c) return Error{"not a PEM certificate", caCertPath(o.dir)};
  struct stat st {};
  if (::stat(caKeyPath(o.dir).c_str(), &st) != 0) return Error{"cannot stat the key", caKeyPath(o.dir)};
  const std::string gen = "g-legacy";
  const std::string genDir = o.dir + "/" + gen;
  std::error_code ec;
  std::filesystem::remove_all(genDir, ec);
  if (::mkdir(genDir.c_str(), 0755) != 0 || ::chmod(genDir.c_str(), 0755) != 0) {
    return Error{std::string("cannot create the generation: ") + std::strerror(errno), genDir};
  }
  auto k = writeOwned(genDir + "/ca.key", *key, int(st.st_mode & 0777), int(st.st_gid));
  OPENSSL_cleanse(key->data(), key->size());
  if (!k) return k.error();
  if (auto w = writeOwned(genDir + "/ca.pem", *cert, 0644, -1); !w) return w.error();
  if (prev) {
    if (auto w = writeOwned(genDir + "/ca.prev.pem", *prev, 0644, -1); !w) return w.error();
  }
  if (auto sd = syncDirectory(o.dir); !sd) return sd.error();
  if (auto sw = switchLink(o.dir + "/current", gen); !sw) return sw.error();
  return linkTopLevel(o.dir, prev.ok());
}

}  // namespace

std::string caCertPath(const std::string& dir) {
  return dir + "/ca.pem";
}
std::string caKeyPath(const std::string& dir) {
  return dir + "/ca.key";
}
std::string caPrevCertPath(const std::string& dir) {
  return dir + "/ca.prev.pem";
}

Result<CaInfo> caInit(const CaOptions& o, bool* existsOut) {
  if (exists(caCertPath(o.dir)) || exists(caKeyPath(o.dir)) ||
      !currentGeneration(o.dir).empty()) {
    if (existsOut) *existsOut = true;
    return Error{"an appliance CA exists already; `lbgctl ca rotate` replaces it", o.dir};
  }
  auto ca = generate(o);
  if (!ca) return ca.error();
  return store(o, std::move(*ca), "");
}

Result<CaInfo> caRotate(const CaOptions& o, bool* missing) {
  // A CA is there if `current` names one (its top-level links may be missing after a crash in
  // the first init: this rotation makes them) or, before generations, ca.pem is.
  if (currentGeneration(o.dir).empty() && !exists(caCertPath(o.dir))) {
    if (missing) *missing = true;
    return Error{"no appliance CA yet; `lbgctl ca init` creates it", o.dir};
  }
  if (auto a = adoptLegacy(o); !a) return a.error();
  const std::string gen = currentGeneration(o.dir);
  auto old = readCert(gen.empty() ? caCertPath(o.dir) : o.dir + "/" + gen + "/ca.pem");
  if (!old) return old.error();
  auto ca = generate(o);
  if (!ca) return ca.error();
  const std::string oldPem = toPem(old->get());
  auto info = store(o, std::move(*ca), oldPem);
  if (!info) return info;
  info->previous = describe(old->get(), caPrevCertPath(o.dir), oldPem);
  return info;
}

Result<CaInfo> caShow(const std::string& dir, bool* missing) {
  // All three files from the one generation `current` names (read once), so a rotation running
  // meanwhile cannot mix them; the paths shown are the stable top-level names.
  const std::string gen = currentGeneration(dir);
  const std::string base = gen.empty() ? dir : dir + "/" + gen;
  if (!exists(base + "/ca.pem")) {
    if (missing) *missing = true;
    return Error{"no appliance CA yet; `lbgctl ca init` creates it", dir};
  }
  auto cert = readCert(base + "/ca.pem");
  if (!cert) return cert.error();
  CaInfo info;
  info.cert = describe(cert->get(), caCertPath(dir), toPem(cert->get()));
  info.keyPath = caKeyPath(dir);
  struct stat st {};
  if (::stat((base + "/ca.key").c_str(), &st) == 0) {
    info.keyMode = int(st.st_mode & 07777);
    if (const group* g = ::getgrgid(st.st_gid)) info.keyGroup = g->gr_name;
  }
  {
    auto keyPem = readFileLimited(base + "/ca.key", kMaxPem);
    PkeyPtr key;
    if (keyPem) {
      BioPtr b(BIO_new_mem_buf(keyPem->data(), int(keyPem->size())));
      key.reset(PEM_read_bio_PrivateKey(b.get(), nullptr, nullptr, nullptr));
      OPENSSL_cleanse(keyPem->data(), keyPem->size());
    }
    info.keyMatches = key && X509_check_private_key(cert->get(), key.get()) == 1;
  }
  if (exists(base + "/ca.prev.pem")) {
    auto prev = readCert(base + "/ca.prev.pem");
    if (!prev) return prev.error();
    info.previous = describe(prev->get(), caPrevCertPath(dir), toPem(prev->get()));
  }
  return info;
}

Result<std::string> certPemToDer(const std::string& pem) {
  X509Ptr c = fromPem(pem);
  if (!c) return Error{"not a PEM certificate"};
  unsigned char* der = nullptr;
  const int n = i2d_X509(c.get(), &der);
  if (n <= 0) return Error{"cannot encode the certificate"};
  std::string out(reinterpret_cast<char*>(der), size_t(n));
  OPENSSL_free(der);
  return out;
}

}  // namespace lbg::control
