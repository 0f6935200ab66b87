#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "dataplane/telemetry/log/chain.h"
#include "dataplane/telemetry/log/ed25519_key.h"
#include "policy/base/result.h"

// The seal of a closed segment (FORMAT.md "Seal"): `key=value` lines in a fixed order, the last
// one `signature=<hex>`, an Ed25519 signature over every byte before that line.
namespace lbg::telemetry::logfmt {

struct Seal {
  std::string appliance;
  uint64_t segment = 0;
  uint64_t firstSeq = 0, lastSeq = 0, records = 0, bytes = 0;
  Hash chainPrev{};  // lbg_prev of the first record
  Hash chainLast{};  // hash of the last record
  int64_t minNs = 0, maxNs = 0;
  std::string indexSha256;  // hex; empty if no index was written
  std::string keyId;
  int64_t sealedNs = 0;
  std::string signature;  // 64 raw bytes
  std::string signedRaw;  // parse(): the exact bytes before the signature line

  std::string signedText() const;  // everything the signature covers
  std::string serialize(const SigningKey& key);  // fills keyId and signature
  static Result<Seal> parse(std::string_view text);
  bool verify(const VerifyKey& key) const;
};

}  // namespace lbg::telemetry::logfmt
