#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "policy/base/result.h"

namespace lbg::control {

// Life of a version. A commit without approval goes Staged → Active as soon as the dataplane has
// taken it; with approval it waits as Pending until an approver approves (→ Staged → Active) or
// rejects it. A Staged version that could not be published (or whose process died before it
// was) becomes Failed. Nothing is ever deleted: the history is the audit trail.
enum class VersionState : uint8_t { Pending, Staged, Active, Rejected, Failed };
const char* toString(VersionState s);

struct VersionMeta {
  uint64_t version = 0;
  std::string sha256;  // of the YAML text
  std::string author;
  std::string createdAt;  // RFC 3339 UTC
  std::string message;
  std::string approver;  // empty unless approved / rejected
  std::string decidedAt;
  std::string note;  // reject reason or failure cause
  VersionState state = VersionState::Pending;
  uint64_t activation = 0;  // order in which versions went live; 0 = never
  uint64_t rollbackOf = 0;  // set when this version re-commits an older one
  uint64_t base = 0;        // the running version when it was committed (0: none)

  nlohmann::json toJson() const;
  static Result<VersionMeta> fromJson(const nlohmann::json& j);
};

struct StoredVersion {
  VersionMeta meta;
  std::string yaml;
};

// The versioned policy store, on disk:
//
//   DIR/lock                  flock()ed by the one process that owns the store
//   DIR/current -> gNNNNNN    symlink, swapped atomically by restore()
//   DIR/gNNNNNN/versions/000001.yaml, 000001.json (meta; written last: the commit point)
//   DIR/gNNNNNN/candidate.yaml
//   DIR/rules/<sha256>-<name>  IDS rule files staged by `ids load`, named by the SHA-256 of their
//                              content, written once and never changed (outside the generations,
//                              so a restore keeps the paths versions name; backups carry them);
//                              removed at a commit once no version or candidate names them
//                              (collectRules())
//
// Every write is crash-safe (temp file, fsync, rename, fsync dir). open() verifies every version
// against the hash in its meta; corrupt or unreadable versions are reported in problems(), never
// used, and the newest good version that went live stays the running one.
class PolicyStore {
 public:
  static Result<std::unique_ptr<PolicyStore>> open(const std::string& dir);
  ~PolicyStore();
  PolicyStore(const PolicyStore&) = delete;
  PolicyStore& operator=(const PolicyStore&) = delete;

  // Corruption found by open() (clear messages naming the file); empty when all is well.
  const std::vector<Error>& problems() const { return problems_; }

  std::optional<StoredVersion> running() const;
  std::vector<VersionMeta> history() const;  // oldest first, good versions only
  Result<StoredVersion> show(uint64_t version) const;

  // The number the next add() will give (numbers are never reused, not even a corrupt one's).
  uint64_t nextVersion() const { return highestNumber_ + 1; }
  // Records a new version: Pending if `needsApproval`, else Staged (the caller publishes it and
  // then calls activate() or fail()).
  Result<VersionMeta> add(const std::string& yaml, const std::string& author,
                          const std::string& message, bool needsApproval, uint64_t rollbackOf = 0);
  // Records a version the HA peer committed (policy sync), under the peer's number and with its
  // author, approver, times and message; Staged (the caller publishes it, then activate() or
  // fail()). Refused unless the number is above every number used here (numbers are never
  // reused: a store that is ahead of the peer's must be restored from the peer's backup) and the
  // text hashes to the meta's sha256. `note` says where it came from.
  Result<VersionMeta> adopt(const VersionMeta& peer, const std::string& yaml,
                            const std::string& note);
  // Pending → Staged. Refused if `approver` is the author (four-eyes principle).
  Result<VersionMeta> approve(uint64_t version, const std::string& approver);
  Result<VersionMeta> reject(uint64_t version, const std::string& approver,
                             const std::string& reason);
  Result<VersionMeta> activate(uint64_t version);
  Result<VersionMeta> fail(uint64_t version, const std::string& reason);

  // The shared candidate that admins edit; nullopt when none was saved (callers then start from
  // the running version).
  std::optional<std::string> candidate() const;
  Result<Ok> setCandidate(const std::string& yaml);
  Result<Ok> discardCandidate();

  // The whole store as one JSON document, with a SHA-256 over its canonical content (detects
  // damage) and an HMAC-SHA-256 under the store's key DIR/backup.key (detects forgery: a hash
  // alone could be recomputed by whoever edits the file, e.g. to invent an approval).
  std::string backup() const;
  // Checks a backup completely (format, hash, HMAC, every version's hash) without changing
  // anything; returns the version that would run after restore (nullopt: none went live).
  Result<std::optional<StoredVersion>> verifyBackup(const std::string& text) const;
  // Writes the stored IDS rule files a verified backup holds into DIR/rules (content-addressed:
  // harmless whether the restore follows or not), so its versions validate before the restore;
  // returns how many it holds. restore() does it too.
  Result<size_t> restoreRules(const std::string& text);
  // Verifies, writes the backup into a new generation and swaps it in atomically. The previous
  // generation is kept on disk.
  Result<Ok> restore(const std::string& text);

  // IDS rule files (`lbgctl ids load`): content-addressed, so a committed version that names one
  // pins its content. Stores `content` as DIR/rules/<sha256>-<name> (crash-safe, read-only) unless
  // it is there already, and returns the absolute path. `name` must be a plain file name
  // (storedRulesName()).
  Result<std::string> putRules(const std::string& name, const std::string& content);
  std::string rulesDir() const { return dir_ + "/rules"; }
  // Removes the stored rule files no text of the store names: not a version of any generation on
  // disk (good, corrupt or replaced by a restore), not a candidate. Runs after each add() (a
  // commit), so files staged by `ids load` and then dropped from the candidate do not pile up;
  // whatever a retained version or the candidate pins stays. Returns how many were removed.
  Result<size_t> collectRules();

  // Re-reads and re-verifies everything from disk, keeping the lock (used by `lbgctl reload`).
  Result<Ok> reload();

  const std::string& dir() const { return dir_; }

 private:
  PolicyStore() = default;
  Result<Ok> loadGeneration();
  Result<VersionMeta> writeMeta(const VersionMeta& m);
  // Hard-links the candidate file as `target` when it holds exactly the text hashing to
  // `sha256` (see candidateFile_); false: not possible, write the text instead.
  bool linkCandidate(const std::string& sha256, const std::string& target);
  Result<VersionMeta> transition(uint64_t version, VersionState from, VersionState to);
  std::string versionsDir() const;
  std::string genDir() const { return dir_ + "/" + generation_; }

  std::string dir_;
  std::string generation_;
  std::string backupKey_;
  int lockFd_ = -1;
  std::vector<StoredVersion> versions_;  // good ones, by number
  std::vector<Error> problems_;
  uint64_t highestNumber_ = 0;  // including corrupt ones: numbers are never reused
  // The candidate file setCandidate() last wrote and synced: a commit of exactly that text links
  // it into versions/ instead of writing and syncing the same bytes again (10,000 services:
  // 1.3 MB, tens of milliseconds on the commit path). Identified by hash and by inode, size and
  // modification time, so a file changed behind the store's back is written afresh instead.
  struct CandidateFile {
    std::string sha256;
    uint64_t dev = 0, ino = 0, size = 0;
    int64_t mtimeNs = 0;
  };
  std::optional<CandidateFile> candidateFile_;
  // The stored rule files the versions of every generation on disk name (collectRules()): read
  // once by pinRules() when a generation is loaded, then one new version at a time.
  void pinRules();
  std::set<std::string> pinnedRules_;
  bool pinnedComplete_ = false;  // false: a version could not be read, nothing is collected
};

}  // namespace lbg::control
