#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

// The record chain of the enforcement log (FORMAT.md "Records"). Defined once here; the writer
// and lbg-audit both use it, so the two can never disagree on what a record's hash is.
namespace lbg::telemetry::logfmt {

using Hash = std::array<uint8_t, 32>;

inline constexpr std::string_view kFormatName = "lbg-log/1";
inline constexpr std::string_view kSeqKey = "\"lbg_seq\":";
inline constexpr std::string_view kPrevKey = "\"lbg_prev\":\"";
// ,"lbg_prev":"<64 hex>"} : the fixed-length tail every record ends with.
inline constexpr size_t kPrevTailLen = 1 + kPrevKey.size() + 64 + 2;

// SHA-256 of the exact line bytes (without its '\n').
Hash hashLine(std::string_view line);
// The hash the very first record of an appliance's log points back to; binds the chain to it.
Hash genesisHash(std::string_view applianceId);

std::string toHex(const uint8_t* p, size_t n);
inline std::string toHex(const Hash& h) { return toHex(h.data(), h.size()); }
std::optional<Hash> hashFromHex(std::string_view hex);

struct ChainFields {
  uint64_t seq = 0;
  Hash prev{};
};

// Appends the record: `object` (a JSON object text, CR/LF already removed) with the chain fields
// inserted before its closing brace, then '\n'. Returns false if `object` is not `{...}`.
bool appendChained(std::string_view object, const ChainFields& chain, std::string& out);

// Reads the chain fields from a record line (no '\n'). nullopt if the line does not end in the
// exact chain tail (a record from something else, or a damaged one).
std::optional<ChainFields> parseChainFields(std::string_view line);

}  // namespace lbg::telemetry::logfmt
