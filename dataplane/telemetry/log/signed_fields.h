#pragma once

// The log's small signed files (segment seals, the head checkpoint): one `key=value` line per
// field in a fixed order, the last `signature=<128 hex digits>`, an Ed25519 signature over every
// byte before that line. One reader and one signer for both, so that they cannot drift apart.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dataplane/telemetry/log/ed25519_key.h"
#include "policy/base/result.h"

namespace lbg::telemetry::logfmt {

struct SignedFields {
  std::vector<std::string_view> values;  // one per key, signature excluded; views into the text
  std::string signedRaw;                 // the bytes the signature covers, as read
  std::string signature;                 // 64 raw bytes
};

// Reads `text` against `keys` (in order, the last must be "signature"). Errors name `what`
// ("seal", "checkpoint") and the 1-based line.
Result<SignedFields> parseSignedFields(std::string_view text,
                                       std::span<const std::string_view> keys,
                                       std::string_view what);

// Signs `text` (the key=value lines, each ending in '\n') and returns it with the signature line.
std::string appendSignature(const std::string& text, const SigningKey& key, std::string& signature);

// Unsigned decimal without sign or leading zeros.
bool parseU64(std::string_view s, uint64_t& out);

}  // namespace lbg::telemetry::logfmt
