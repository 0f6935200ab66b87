#include "control/appliance_ca.h"

#include <grp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <gtest/gtest.h>

#include "dataplane/proxy/ca_files.h"
#include "dataplane/proxy/leaf_minter.h"
#include "dataplane/proxy/test_certs.h"

namespace lbg::control {
namespace {

namespace fs = std::filesystem;

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

int modeOf(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return int(st.st_mode & 07777);
}

proxy::X509Ptr loadCert(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "r");
  if (!f) return nullptr;
  proxy::X509Ptr c(PEM_read_X509(f, nullptr, nullptr, nullptr));
  std::fclose(f);
  return c;
}

proxy::PkeyPtr loadKey(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "r");
  if (!f) return nullptr;
  proxy::PkeyPtr k(PEM_read_PrivateKey(f, nullptr, nullptr, nullptr));
  std::fclose(f);
  return k;
}

// Verifies `leaf` against `root` as the only trust anchor, as a PC with the CA imported would.
int verify(X509* root, X509* leaf, int purpose = X509_PURPOSE_SSL_SERVER) {
  X509_STORE* store = X509_STORE_new();
  X509_STORE_add_cert(store, root);
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  X509_STORE_CTX_init(ctx, store, leaf, nullptr);
  X509_STORE_CTX_set_purpose(ctx, purpose);
  const int ok = X509_verify_cert(ctx);
  const int e = X509_STORE_CTX_get_error(ctx);
  X509_STORE_CTX_free(ctx);
  X509_STORE_free(store);
  return ok == 1 ? X509_V_OK : (e == X509_V_OK ? -1 : e);
}

class ApplianceCaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/lbg-appliance-ca-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    opt_.dir = dir_ + "/ca";  // created by init
    opt_.organization = "千代田区";
    opt_.validDays = 365;
    opt_.keyGroup = "lbg-no-such-group-for-tests";
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string dir_;
  CaOptions opt_;
};

TEST_F(ApplianceCaTest, InitWritesACaCertificateAndAPrivateKey) {
  auto r = caInit(opt_);
  ASSERT_TRUE(r.ok()) << r.error().toString();
  EXPECT_EQ(r->cert.path, opt_.dir + "/ca.pem");
  EXPECT_EQ(r->keyPath, opt_.dir + "/ca.key");
  // No lbg-proxy group here: the key is for the owner only, and the answer says so.
  EXPECT_EQ(modeOf(r->keyPath), 0600);
  EXPECT_EQ(r->keyMode, 0600);
  EXPECT_TRUE(r->keyGroup.empty());
  EXPECT_EQ(modeOf(r->cert.path), 0644);
  EXPECT_EQ(r->cert.subject, "CN=千代田区 lbg appliance CA,O=千代田区");
  EXPECT_EQ(r->cert.sha256.size(), 32u * 3 - 1);
  EXPECT_FALSE(r->previous);
  // One generation, `current` naming it, the two names readers use as links into it; no
  // temporary files left behind.
  std::set<std::string> names;
  std::string gen;
  for (const auto& e : fs::directory_iterator(opt_.dir)) {
    names.insert(e.path().filename().string());
    if (e.path().filename().string().rfind("g-", 0) == 0) gen = e.path().filename().string();
  }
  EXPECT_EQ(names, (std::set<std::string>{"ca.key", "ca.pem", "current", gen})) << gen;
  EXPECT_EQ(fs::read_symlink(opt_.dir + "/current").string(), gen);
  EXPECT_EQ(fs::read_symlink(opt_.dir + "/ca.key").string(), "current/ca.key");
  EXPECT_EQ(fs::read_symlink(opt_.dir + "/ca.pem").string(), "current/ca.pem");
  EXPECT_EQ(modeOf(opt_.dir + "/" + gen), 0755);

  auto cert = loadCert(r->cert.path);
  auto key = loadKey(r->keyPath);
  ASSERT_TRUE(cert && key);
  EXPECT_EQ(X509_check_private_key(cert.get(), key.get()), 1);
  EXPECT_EQ(EVP_PKEY_get_base_id(key.get()), EVP_PKEY_EC);
  EXPECT_EQ(EVP_PKEY_get_bits(key.get()), 256);
  // A CA by OpenSSL's own judgement, self-signed, constraints critical, pathlen 0.
  EXPECT_EQ(X509_check_ca(cert.get()), 1);
  EXPECT_EQ(verify(cert.get(), cert.get(), X509_PURPOSE_ANY), X509_V_OK);
  const int bcIdx = X509_get_ext_by_NID(cert.get(), NID_basic_constraints, -1);
  ASSERT_GE(bcIdx, 0);
  EXPECT_EQ(X509_EXTENSION_get_critical(X509_get_ext(cert.get(), bcIdx)), 1);
  EXPECT_EQ(X509_get_pathlen(cert.get()), 0);
  const int kuIdx = X509_get_ext_by_NID(cert.get(), NID_key_usage, -1);
  ASSERT_GE(kuIdx, 0);
  EXPECT_EQ(X509_EXTENSION_get_critical(X509_get_ext(cert.get(), kuIdx)), 1);
  EXPECT_EQ(X509_get_key_usage(cert.get()), uint32_t(KU_KEY_CERT_SIGN | KU_CRL_SIGN));
  // Validity as asked (an hour of slack before now).
  const ASN1_TIME* na = X509_get0_notAfter(cert.get());
  int days = 0, secs = 0;
  ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(cert.get()), na);
  EXPECT_EQ(days, 365);
  EXPECT_EQ(secs, 3600);
}

TEST_F(ApplianceCaTest, KeyIsGroupReadableWhenTheProxyGroupExists) {
  // The test's own primary group stands in for lbg-proxy.
  const group* g = ::getgrgid(::getegid());
  ASSERT_NE(g, nullptr);
  opt_.keyGroup = g->gr_name;
  auto r = caInit(opt_);
  ASSERT_TRUE(r.ok()) << r.error().toString();
  EXPECT_EQ(modeOf(r->keyPath), 0640);
  EXPECT_EQ(r->keyGroup, opt_.keyGroup);
  struct stat st {};
  ASSERT_EQ(::stat(r->keyPath.c_str(), &st), 0);
  EXPECT_EQ(st.st_gid, ::getegid());
}

TEST_F(ApplianceCaTest, InitRefusesToOverwriteAnExistingCa) {
  ASSERT_TRUE(caInit(opt_).ok());
  const std::string cert = slurp(opt_.dir + "/ca.pem");
  const std::string key = slurp(opt_.dir + "/ca.key");
  bool exists = false;
  auto again = caInit(opt_, &exists);
  EXPECT_FALSE(again.ok());
  EXPECT_TRUE(exists);
  EXPECT_EQ(slurp(opt_.dir + "/ca.pem"), cert);
  EXPECT_EQ(slurp(opt_.dir + "/ca.key"), key);
  // A key alone (interrupted first init) is refused too: never overwritten silently.
  fs::remove(opt_.dir + "/ca.pem");
  exists = false;
  EXPECT_FALSE(caInit(opt_, &exists).ok());
  EXPECT_TRUE(exists);
}

TEST_F(ApplianceCaTest, ShowIsStableAndMatchesTheFile) {
  bool missing = false;
  EXPECT_FALSE(caShow(opt_.dir, &missing).ok());
  EXPECT_TRUE(missing);
  auto made = caInit(opt_);
  ASSERT_TRUE(made.ok());
  auto a = caShow(opt_.dir);
  auto b = caShow(opt_.dir);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->cert.sha256, made->cert.sha256);
  EXPECT_EQ(a->cert.sha256, b->cert.sha256);
  EXPECT_EQ(a->cert.subject, made->cert.subject);
  EXPECT_EQ(a->cert.notAfter, made->cert.notAfter);
  EXPECT_EQ(a->cert.pem, slurp(opt_.dir + "/ca.pem"));
  EXPECT_TRUE(a->keyMatches);
  EXPECT_EQ(a->keyMode, 0600);
  // The fingerprint is the SHA-256 of the DER that --der exports.
  auto der = certPemToDer(a->cert.pem);
  ASSERT_TRUE(der.ok());
  unsigned char md[32];
  unsigned int n = 0;
  EVP_Digest(der->data(), der->size(), md, &n, EVP_sha256(), nullptr);
  char hex[4];
  std::snprintf(hex, sizeof hex, "%02X:", md[0]);
  EXPECT_EQ(a->cert.sha256.substr(0, 3), hex);
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der->data());
  proxy::X509Ptr parsed(d2i_X509(nullptr, &p, long(der->size())));
  ASSERT_TRUE(parsed);
  EXPECT_EQ(X509_cmp(parsed.get(), loadCert(opt_.dir + "/ca.pem").get()), 0);
  EXPECT_FALSE(certPemToDer("not a certificate").ok());
}

TEST_F(ApplianceCaTest, RotateKeepsThePreviousCertificate) {
  bool missing = false;
  EXPECT_FALSE(caRotate(opt_, &missing).ok());
  EXPECT_TRUE(missing);
  auto first = caInit(opt_);
  ASSERT_TRUE(first.ok());
  auto second = caRotate(opt_);
  ASSERT_TRUE(second.ok()) << second.error().toString();
  EXPECT_NE(second->cert.sha256, first->cert.sha256);
  ASSERT_TRUE(second->previous);
  EXPECT_EQ(second->previous->sha256, first->cert.sha256);
  EXPECT_EQ(slurp(opt_.dir + "/ca.prev.pem"), first->cert.pem);
  EXPECT_EQ(modeOf(opt_.dir + "/ca.prev.pem"), 0644);
  EXPECT_EQ(modeOf(opt_.dir + "/ca.key"), 0600);
  auto shown = caShow(opt_.dir);
  ASSERT_TRUE(shown.ok());
  EXPECT_EQ(shown->cert.sha256, second->cert.sha256);
  ASSERT_TRUE(shown->previous);
  EXPECT_EQ(shown->previous->sha256, first->cert.sha256);
  EXPECT_TRUE(shown->keyMatches);
  // A second rotation keeps only the one before.
  auto third = caRotate(opt_);
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(third->previous->sha256, second->cert.sha256);
}

TEST_F(ApplianceCaTest, ShowReportsAKeyThatDoesNotMatch) {
  ASSERT_TRUE(caInit(opt_).ok());
  CaOptions other = opt_;
  other.dir = dir_ + "/other";
  ASSERT_TRUE(caInit(other).ok());
  std::ofstream(opt_.dir + "/ca.key", std::ios::trunc) << slurp(other.dir + "/ca.key");
  auto shown = caShow(opt_.dir);
  ASSERT_TRUE(shown.ok());
  EXPECT_FALSE(shown->keyMatches);
  // lbg-proxy's reader refuses such a pair (at start and on reload, where it keeps the CA in use).
  auto pair = proxy::loadCaPair(opt_.dir + "/ca.pem", opt_.dir + "/ca.key");
  ASSERT_FALSE(pair.ok());
  EXPECT_NE(pair.error().message.find("do not match"), std::string::npos) << pair.error().message;
  ASSERT_TRUE(proxy::loadCaPair(other.dir + "/ca.pem", other.dir + "/ca.key").ok());
  EXPECT_FALSE(proxy::loadCaPair(opt_.dir + "/ca.pem", opt_.dir + "/nothing").ok());
}

// The pair is replaced atomically: a rotation stopped dead (a forked child that _exit()s) after
// any of its durable steps leaves, under the names lbg-proxy reads, a key that is the
// certificate's: the old pair before `current` is switched, the new one from then on.
TEST_F(ApplianceCaTest, RotationCrashedAfterAnyStepLeavesAMatchingPair) {
  ASSERT_TRUE(caInit(opt_).ok());
  const char* kSteps[] = {"key written", "certificate written", "previous written", "switched",
                          "linked"};
  for (int crashAt = 0;; ++crashAt) {
    auto before = caShow(opt_.dir);
    ASSERT_TRUE(before.ok());
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      CaOptions o = opt_;
      int n = 0;
      o.afterStep = [&](const char* step) {
        if (std::string(step) != kSteps[n]) _exit(4);  // the steps this test knows, in order
        if (n++ == crashAt) _exit(3);
      };
      _exit(caRotate(o).ok() ? 0 : 1);
    }
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status));
    const int code = WEXITSTATUS(status);
    ASSERT_TRUE(code == 3 || code == 0) << "crash at " << crashAt << ": exit " << code;
    // Raw reads through the names, no retry: what any reader gets.
    auto cert = loadCert(opt_.dir + "/ca.pem");
    auto key = loadKey(opt_.dir + "/ca.key");
    ASSERT_TRUE(cert && key) << "crash at " << crashAt;
    EXPECT_EQ(X509_check_private_key(cert.get(), key.get()), 1) << "crash at " << crashAt;
    ASSERT_TRUE(proxy::loadCaPair(opt_.dir + "/ca.pem", opt_.dir + "/ca.key").ok());
    auto after = caShow(opt_.dir);
    ASSERT_TRUE(after.ok());
    EXPECT_TRUE(after->keyMatches);
    const bool switched = code == 0 || crashAt >= 3;
    EXPECT_EQ(after->cert.sha256 != before->cert.sha256, switched) << "crash at " << crashAt;
    if (switched) {
      ASSERT_TRUE(after->previous) << "crash at " << crashAt;
      EXPECT_EQ(after->previous->sha256, before->cert.sha256);
    }
    if (code == 0) {
      EXPECT_EQ(crashAt, 5);
      break;
    }
  }
  // The crashed rotations' generations and the replaced keys are gone: one generation remains.
  size_t gens = 0;
  for (const auto& e : fs::directory_iterator(opt_.dir)) {
    gens += e.path().filename().string().rfind("g-", 0) == 0;
  }
  EXPECT_EQ(gens, 1u);
}

// A CA directory written before generations (plain files) is converted by the next rotation.
TEST_F(ApplianceCaTest, RotateConvertsTheLayoutWithoutGenerations) {
  CaOptions old = opt_;
  old.dir = dir_ + "/old";
  auto first = caInit(old);
  ASSERT_TRUE(first.ok());
  fs::create_directories(opt_.dir);
  std::ofstream(opt_.dir + "/ca.pem") << slurp(old.dir + "/ca.pem");
  std::ofstream(opt_.dir + "/ca.key") << slurp(old.dir + "/ca.key");
  ::chmod((opt_.dir + "/ca.key").c_str(), 0600);
  auto shown = caShow(opt_.dir);
  ASSERT_TRUE(shown.ok());
  EXPECT_EQ(shown->cert.sha256, first->cert.sha256);
  bool exists = false;
  EXPECT_FALSE(caInit(opt_, &exists).ok());
  EXPECT_TRUE(exists);
  auto rotated = caRotate(opt_);
  ASSERT_TRUE(rotated.ok()) << rotated.error().toString();
  ASSERT_TRUE(rotated->previous);
  EXPECT_EQ(rotated->previous->sha256, first->cert.sha256);
  EXPECT_TRUE(fs::is_symlink(opt_.dir + "/ca.pem"));
  EXPECT_TRUE(fs::is_symlink(opt_.dir + "/ca.key"));
  EXPECT_TRUE(fs::is_symlink(opt_.dir + "/ca.prev.pem"));
  EXPECT_EQ(slurp(opt_.dir + "/ca.prev.pem"), first->cert.pem);
  auto now = caShow(opt_.dir);
  ASSERT_TRUE(now.ok());
  EXPECT_EQ(now->cert.sha256, rotated->cert.sha256);
  EXPECT_TRUE(now->keyMatches);
  EXPECT_EQ(modeOf(opt_.dir + "/ca.key"), 0600);
}

TEST_F(ApplianceCaTest, RefusesBadOptions) {
  CaOptions o = opt_;
  o.validDays = 0;
  EXPECT_FALSE(caInit(o).ok());
  o = opt_;
  o.organization = "";
  EXPECT_FALSE(caInit(o).ok());
  EXPECT_FALSE(fs::exists(opt_.dir + "/ca.pem"));
}

// What lbg-proxy does with the files: its minter accepts the pair and the leaves it mints verify
// against the CA as a PC that imported ca.pem would check them; after a rotation, leaves of the
// new CA verify against the new certificate and not against ca.prev.pem.
TEST_F(ApplianceCaTest, LeavesMintedByTheProxyVerifyAgainstTheCa) {
  ASSERT_TRUE(caInit(opt_).ok());
  auto upstreamCa = proxy::test::makeCa("origin root");
  auto upstream = proxy::test::makeLeaf(upstreamCa, "login.microsoftonline.com",
                                        {"login.microsoftonline.com"});
  auto minter = proxy::LeafMinter::create(loadCert(opt_.dir + "/ca.pem"),
                                          loadKey(opt_.dir + "/ca.key"));
  ASSERT_NE(minter, nullptr);
  X509* leaf = minter->mint(upstream.cert.get(), "login.microsoftonline.com");
  ASSERT_NE(leaf, nullptr);
  auto root = loadCert(opt_.dir + "/ca.pem");
  EXPECT_EQ(verify(root.get(), leaf), X509_V_OK);
  EXPECT_EQ(X509_check_host(leaf, "login.microsoftonline.com", 0, 0, nullptr), 1);
  EXPECT_NE(verify(upstreamCa.cert.get(), leaf), X509_V_OK);

  ASSERT_TRUE(caRotate(opt_).ok());
  auto rotated = proxy::LeafMinter::create(loadCert(opt_.dir + "/ca.pem"),
                                           loadKey(opt_.dir + "/ca.key"));
  ASSERT_NE(rotated, nullptr);
  X509* fresh = rotated->mint(upstream.cert.get(), "login.microsoftonline.com");
  ASSERT_NE(fresh, nullptr);
  EXPECT_EQ(verify(loadCert(opt_.dir + "/ca.pem").get(), fresh), X509_V_OK);
  EXPECT_NE(verify(loadCert(opt_.dir + "/ca.prev.pem").get(), fresh), X509_V_OK);
  EXPECT_EQ(verify(loadCert(opt_.dir + "/ca.prev.pem").get(), leaf), X509_V_OK);
}

}  // namespace
}  // namespace lbg::control
