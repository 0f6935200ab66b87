#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "dataplane/telemetry/log/chain.h"
#include "dataplane/telemetry/log/ed25519_key.h"
#include "policy/base/result.h"

// The signed checkpoint of the log's head (FORMAT.md "Checkpoint"): where the newest durable
// record is (segment, seq, hash, byte offset), rewritten by the writer about every second and at
// shutdown. Seals protect closed segments; the checkpoint makes deleting the newest segments or
// cutting the open one detectable from the files alone.
namespace lbg::telemetry::logfmt {

inline constexpr std::string_view kCheckpointFormat = "lbg-checkpoint/1";
inline constexpr std::string_view kCheckpointFile = "checkpoint";

struct Checkpoint {
  std::string appliance;
  uint64_t segment = 0;       // segment holding the last durable record (0: no record yet)
  uint64_t lastSeq = 0;       // its lbg_seq (0: no record yet)
  Hash chainLast{};           // its hash
  uint64_t segmentBytes = 0;  // size of that segment up to and including the record's '\n'
  std::string keyId;
  int64_t writtenNs = 0;
  std::string signature;  // 64 raw bytes
  std::string signedRaw;  // parse(): the exact bytes before the signature line

  std::string signedText() const;
  std::string serialize(const SigningKey& key);  // fills keyId and signature
  static Result<Checkpoint> parse(std::string_view text);
  bool verify(const VerifyKey& key) const;
};

std::string checkpointPath(const std::string& dir);

}  // namespace lbg::telemetry::logfmt
