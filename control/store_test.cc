#include "control/store.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "control/atomic_file.h"
#include "control/sha256.h"

namespace lbg::control {
namespace {

namespace fs = std::filesystem;

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/lbg-store-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<PolicyStore> openStore() {
    auto s = PolicyStore::open(dir_);
    EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().toString());
    return s.ok() ? std::move(*s) : nullptr;
  }
  // Commits without approval and activates, as the server does once publish succeeded.
  uint64_t commitLive(PolicyStore& s, const std::string& yaml, const std::string& who) {
    auto m = s.add(yaml, who, "msg", false);
    EXPECT_TRUE(m.ok());
    auto a = s.activate(m->version);
    EXPECT_TRUE(a.ok());
    return m->version;
  }
  std::string versionFile(uint64_t v, const char* ext) {
    char buf[32];
    snprintf(buf, sizeof(buf), "%06llu%s", static_cast<unsigned long long>(v), ext);
    return dir_ + "/current/versions/" + buf;
  }

  std::string dir_;
};

TEST_F(StoreTest, FreshStoreHasNoRunningVersion) {
  auto s = openStore();
  EXPECT_FALSE(s->running().has_value());
  EXPECT_TRUE(s->history().empty());
  EXPECT_TRUE(s->problems().empty());
}

TEST_F(StoreTest, CommitActivateAndReopen) {
  {
    auto s = openStore();
    EXPECT_EQ(commitLive(*s, "a: 1\n", "alice"), 1u);
    EXPECT_EQ(commitLive(*s, "a: 2\n", "alice"), 2u);
    ASSERT_TRUE(s->running());
    EXPECT_EQ(s->running()->meta.version, 2u);
  }
  auto s = openStore();
  ASSERT_TRUE(s->running());
  EXPECT_EQ(s->running()->yaml, "a: 2\n");
  EXPECT_EQ(s->running()->meta.sha256, sha256Hex("a: 2\n"));
  EXPECT_EQ(s->running()->meta.author, "alice");
  EXPECT_EQ(s->history().size(), 2u);
}

TEST_F(StoreTest, SecondProcessCannotOpenTheSameStore) {
  auto s = openStore();
  // flock() locks are per open file description, so a second open in this process conflicts too.
  auto again = PolicyStore::open(dir_);
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.error().message.find("in use"), std::string::npos);
}

TEST_F(StoreTest, ApprovalNeedsADifferentUser) {
  auto s = openStore();
  commitLive(*s, "a: 1\n", "alice");
  auto m = s->add("a: 2\n", "alice", "needs approval", true);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->state, VersionState::Pending);
  EXPECT_EQ(s->running()->meta.version, 1u) << "a pending version must not run";
  auto self = s->approve(m->version, "alice");
  ASSERT_FALSE(self.ok());
  EXPECT_NE(self.error().message.find("different user"), std::string::npos);
  auto ok = s->approve(m->version, "bob");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->state, VersionState::Staged);
  EXPECT_EQ(ok->approver, "bob");
  ASSERT_TRUE(s->activate(m->version).ok());
  EXPECT_EQ(s->running()->meta.version, 2u);
  EXPECT_FALSE(s->approve(m->version, "bob").ok()) << "approving twice";
}

TEST_F(StoreTest, RejectKeepsRunning) {
  auto s = openStore();
  commitLive(*s, "a: 1\n", "alice");
  auto m = s->add("a: 2\n", "alice", "x", true);
  auto r = s->reject(m->version, "bob", "too broad");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->state, VersionState::Rejected);
  EXPECT_EQ(r->note, "too broad");
  EXPECT_EQ(s->running()->meta.version, 1u);
  EXPECT_FALSE(s->approve(m->version, "bob").ok());
}

TEST_F(StoreTest, LateApprovalBecomesRunningEvenIfOlderNumber) {
  auto s = openStore();
  auto pending = s->add("a: 1\n", "alice", "x", true);
  commitLive(*s, "a: 2\n", "alice");
  ASSERT_TRUE(s->approve(pending->version, "bob").ok());
  ASSERT_TRUE(s->activate(pending->version).ok());
  EXPECT_EQ(s->running()->meta.version, pending->version)
      << "the most recently activated version runs";
}

TEST_F(StoreTest, CorruptRunningVersionIsDetectedAndLastGoodKept) {
  {
    auto s = openStore();
    commitLive(*s, "a: 1\n", "alice");
    commitLive(*s, "a: 2\n", "alice");
  }
  {
    std::ofstream f(versionFile(2, ".yaml"), std::ios::trunc);
    f << "a: 3\n";  // bit rot or a hand edit
  }
  auto s = openStore();
  ASSERT_TRUE(s->running());
  EXPECT_EQ(s->running()->meta.version, 1u);
  ASSERT_GE(s->problems().size(), 2u);
  EXPECT_NE(s->problems()[0].message.find("hash mismatch"), std::string::npos);
  EXPECT_NE(s->problems()[0].file.find("000002.yaml"), std::string::npos);
  EXPECT_NE(s->problems().back().message.find("version 1 (last good) stays in force"),
            std::string::npos);
  EXPECT_FALSE(s->show(2).ok());
  // Numbers are never reused, even of corrupt versions.
  auto m = s->add("a: 4\n", "alice", "x", false);
  EXPECT_EQ(m->version, 3u);
}

TEST_F(StoreTest, CorruptMetadataIsDetected) {
  {
    auto s = openStore();
    commitLive(*s, "a: 1\n", "alice");
    commitLive(*s, "a: 2\n", "alice");
  }
  {
    std::ofstream f(versionFile(2, ".json"), std::ios::trunc);
    f << "{\"version\": 2, \"sha";
  }
  auto s = openStore();
  EXPECT_EQ(s->running()->meta.version, 1u);
  ASSERT_FALSE(s->problems().empty());
  EXPECT_NE(s->problems()[0].message.find("corrupt version metadata"), std::string::npos);
}

// A real crash in the one window that matters: the new file is durable under its temporary name
// but not yet renamed. The child process dies there; the parent reopens the store.
TEST_F(StoreTest, CrashBetweenTempWriteAndRenameLeavesOldState) {
  {
    auto s = openStore();
    commitLive(*s, "a: 1\n", "alice");
  }
  for (int crashAt = 0; crashAt < 3; ++crashAt) {
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      auto s = PolicyStore::open(dir_);
      if (!s.ok()) _exit(1);
      // crashAt selects which atomic write dies: 0 = the YAML, 1 = the meta, 2 = the activation.
      static int countdown;
      countdown = crashAt;
      testing::setCrashHook([](const std::string&) {
        if (countdown-- == 0) _exit(42);
      });
      auto m = (*s)->add("a: 2\n", "alice", "crash", false);
      if (m.ok()) (void)(*s)->activate(m->version);
      _exit(0);
    }
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 42) << "crash point " << crashAt << " not reached";
    auto s = openStore();
    ASSERT_TRUE(s->running()) << "crash point " << crashAt;
    EXPECT_EQ(s->running()->yaml, "a: 1\n") << "crash point " << crashAt;
    EXPECT_TRUE(s->problems().empty()) << s->problems()[0].toString();
    // A version recorded but never published is marked failed, not silently live.
    for (const auto& h : s->history()) {
      if (h.version != 1) {
        EXPECT_EQ(h.state, VersionState::Failed);
      }
    }
  }
}

TEST_F(StoreTest, CandidateRoundTrip) {
  auto s = openStore();
  EXPECT_FALSE(s->candidate());
  ASSERT_TRUE(s->setCandidate("c: 1\n").ok());
  EXPECT_EQ(*s->candidate(), "c: 1\n");
  ASSERT_TRUE(s->discardCandidate().ok());
  EXPECT_FALSE(s->candidate());
}

// A commit of exactly the candidate text links the candidate file (already durable) instead of
// writing the bytes again; the version survives the candidate's removal and a reopen.
TEST_F(StoreTest, CommitOfTheCandidateLinksItsFile) {
  auto s = openStore();
  const std::string text = "p: 1\n";
  ASSERT_TRUE(s->setCandidate(text).ok());
  struct stat cand {};
  ASSERT_EQ(::stat((dir_ + "/current/candidate.yaml").c_str(), &cand), 0);
  auto m = s->add(text, "alice", "msg", false);
  ASSERT_TRUE(m.ok());
  const std::string vfile = dir_ + "/current/versions/" + std::string(6 - std::to_string(m->version).size(), '0') +
                            std::to_string(m->version) + ".yaml";
  struct stat ver {};
  ASSERT_EQ(::stat(vfile.c_str(), &ver), 0);
  EXPECT_EQ(ver.st_ino, cand.st_ino);
  ASSERT_TRUE(s->activate(m->version).ok());
  ASSERT_TRUE(s->discardCandidate().ok());
  s.reset();
  auto again = openStore();
  EXPECT_TRUE(again->problems().empty());
  ASSERT_TRUE(again->running());
  EXPECT_EQ(again->running()->yaml, text);
}

// A different text, or a candidate file changed behind the store's back, is written afresh.
TEST_F(StoreTest, CommitOfOtherTextOrChangedCandidateWritesTheFile) {
  auto s = openStore();
  ASSERT_TRUE(s->setCandidate("p: 1\n").ok());
  auto other = s->add("p: 2\n", "alice", "msg", false);
  ASSERT_TRUE(other.ok());
  ASSERT_TRUE(s->activate(other->version).ok());
  // Same length, new content written by someone else: must not be linked under p: 1's hash.
  { std::ofstream(dir_ + "/current/candidate.yaml") << "p: 3\n"; }
  auto m = s->add("p: 1\n", "alice", "msg", false);
  ASSERT_TRUE(m.ok());
  ASSERT_TRUE(s->activate(m->version).ok());
  s.reset();
  auto again = openStore();
  EXPECT_TRUE(again->problems().empty()) << again->problems()[0].toString();
  EXPECT_EQ(again->running()->yaml, "p: 1\n");
}

TEST_F(StoreTest, BackupRestoreVerifiedByHash) {
  std::string backup;
  {
    auto s = openStore();
    commitLive(*s, "a: 1\n", "alice");
    commitLive(*s, "a: 2\n", "alice");
    s->add("a: 3\n", "alice", "pending", true);
    s->setCandidate("cand\n");
    backup = s->backup();
  }
  // Restore into the same store after more commits: it replaces everything.
  auto s = openStore();
  auto verified = s->verifyBackup(backup);
  ASSERT_TRUE(verified.ok()) << verified.error().toString();
  EXPECT_EQ((*verified)->meta.version, 2u);
  commitLive(*s, "other\n", "carol");
  commitLive(*s, "other2\n", "carol");
  commitLive(*s, "other3\n", "carol");
  ASSERT_TRUE(s->restore(backup).ok());
  EXPECT_EQ(s->running()->yaml, "a: 2\n");
  EXPECT_EQ(s->history().size(), 3u);
  EXPECT_EQ(*s->candidate(), "cand\n");
  s.reset();
  auto again = openStore();
  EXPECT_EQ(again->running()->yaml, "a: 2\n");
}

// IDS rule files (`ids load`) are stored once under their content's hash, reported when edited,
// and carried by backups: a restore brings back the text its versions name.
TEST_F(StoreTest, RuleFilesArePinnedAndBackedUp) {
  const std::string text = "alert udp any any -> any any (msg:\"x\"; content:\"y\"; sid:1;)\n";
  std::string backup, path;
  {
    auto s = openStore();
    auto p = s->putRules("local.rules", text);
    ASSERT_TRUE(p.ok()) << p.error().toString();
    path = *p;
    EXPECT_EQ(path, dir_ + "/rules/" + sha256Hex(text) + "-local.rules");
    EXPECT_EQ(*s->putRules("local.rules", text), path);  // the same text: the same file
    EXPECT_FALSE(s->putRules("../x", text).ok());
    EXPECT_FALSE(s->putRules(".hidden", text).ok());
    commitLive(*s, "ids: " + path + "\n", "alice");
    backup = s->backup();
  }
  EXPECT_NE(backup.find("-local.rules"), std::string::npos);
  fs::remove(path);
  auto s = openStore();
  auto n = s->restoreRules(backup);
  ASSERT_TRUE(n.ok()) << n.error().toString();
  EXPECT_EQ(*n, 1u);
  std::ifstream in(path);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), text);
  EXPECT_TRUE(s->problems().empty());
  // Edited behind the store's back: reported at the next open.
  fs::permissions(path, fs::perms::owner_write, fs::perm_options::add);
  { std::ofstream(path, std::ios::app) << "# edited\n"; }
  s.reset();
  auto again = openStore();
  ASSERT_EQ(again->problems().size(), 1u);
  EXPECT_EQ(again->problems()[0].file, path);
}

TEST_F(StoreTest, RuleFilesNoTextNamesAreCollectedAtCommit) {
  auto rules = [](int sid) {
    return "alert udp any any -> any any (msg:\"x\"; content:\"y\"; sid:" + std::to_string(sid) +
           ";)\n";
  };
  std::string kept, dropped, staged, old;
  {
    auto s = openStore();
    const std::string empty = s->backup();
    old = *s->putRules("old.rules", rules(1));
    commitLive(*s, "ids: {rules: [\"" + old + "\"]}\n", "alice");
    // Back to the empty store: generation 2; generation 1, whose version names `old`, stays.
    auto restored = s->restore(empty);
    ASSERT_TRUE(restored.ok()) << restored.error().toString();
    kept = *s->putRules("kept.rules", rules(2));
    dropped = *s->putRules("dropped.rules", rules(3));  // loaded, then left out of the candidate
    staged = *s->putRules("staged.rules", rules(4));
    ASSERT_TRUE(s->setCandidate("ids: {rules: [\"" + staged + "\"]}\n").ok());
    commitLive(*s, "ids:\n  rules:\n    - " + kept + "\n", "alice");
    EXPECT_TRUE(fs::exists(kept));      // the running version names it
    EXPECT_TRUE(fs::exists(staged));    // the candidate does
    EXPECT_TRUE(fs::exists(old));       // a version of the replaced generation does
    EXPECT_FALSE(fs::exists(dropped));  // nothing does
    // Once the candidate is gone, so is the file only it named; the retained versions' stay.
    ASSERT_TRUE(s->discardCandidate().ok());
    commitLive(*s, "x: 1\n", "alice");
    EXPECT_FALSE(fs::exists(staged));
    EXPECT_TRUE(fs::exists(old));
    EXPECT_TRUE(fs::exists(kept));
    auto again = s->collectRules();
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(*again, 0u);
  }
  auto s = openStore();
  EXPECT_TRUE(s->problems().empty());
}

TEST_F(StoreTest, TamperedBackupIsRefusedAndNothingChanges) {
  std::string backup;
  {
    auto s = openStore();
    commitLive(*s, "a: 1\n", "alice");
    backup = s->backup();
    commitLive(*s, "a: 2\n", "alice");
  }
  std::string tampered = backup;
  const auto pos = tampered.find("a: 1");
  ASSERT_NE(pos, std::string::npos);
  tampered[pos + 3] = '9';
  auto s = openStore();
  auto r = s->restore(tampered);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("hash mismatch"), std::string::npos);
  EXPECT_EQ(s->running()->yaml, "a: 2\n");
  EXPECT_FALSE(s->verifyBackup("{}").ok());
  EXPECT_FALSE(s->verifyBackup("not json").ok());
  EXPECT_FALSE(s->restore(backup.substr(0, backup.size() / 2)).ok());
}

// Someone edits a backup to invent an approval and recomputes the SHA-256: the HMAC under the
// store's key still catches it.
TEST_F(StoreTest, ForgedBackupWithRecomputedHashIsRefused) {
  auto s = openStore();
  s->add("a: 1\n", "alice", "x", true);
  const std::string backup = s->backup();
  nlohmann::json j = nlohmann::json::parse(backup);
  j["versions"][0]["meta"]["state"] = "active";
  j["versions"][0]["meta"]["activation"] = 1;
  j["versions"][0]["meta"]["approver"] = "mallory";
  j.erase("sha256");
  const std::string seal = j["hmac"];
  j.erase("hmac");
  j["sha256"] = sha256Hex(j.dump());
  j["hmac"] = seal;
  auto r = s->restore(j.dump());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("HMAC"), std::string::npos) << r.error().message;
  EXPECT_FALSE(s->running());
  // Another store (another key) does not accept it either.
  char tmpl[] = "/tmp/lbg-store-test-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  {
    auto other = PolicyStore::open(tmpl);
    ASSERT_TRUE(other.ok());
    EXPECT_FALSE((*other)->restore(backup).ok());
  }
  fs::remove_all(tmpl);
  struct stat st {};
  ASSERT_EQ(::stat((dir_ + "/backup.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(StoreTest, AtomicWriteReplacesAndReadLimits) {
  const std::string p = dir_ + "/f";
  ASSERT_TRUE(writeFileAtomic(p, "one").ok());
  ASSERT_TRUE(writeFileAtomic(p, "two").ok());
  EXPECT_EQ(*readFileLimited(p, 100), "two");
  EXPECT_FALSE(readFileLimited(p, 2).ok());
  EXPECT_FALSE(readFileLimited(dir_ + "/missing", 100).ok());
  EXPECT_FALSE(readFileLimited(dir_, 100).ok()) << "a directory is not a file";
}

}  // namespace
}  // namespace lbg::control
