#include "dataplane/telemetry/log/seal.h"

#include <vector>

#include "dataplane/telemetry/log/signed_fields.h"
#include "dataplane/telemetry/log/time_format.h"

namespace lbg::telemetry::logfmt {

namespace {

bool safeValue(std::string_view v) {
  for (char c : v)
    if (c == '\n' || c == '\r') return false;
  return true;
}

}  // namespace

std::string Seal::signedText() const {
  std::string s;
  s += "format=";
  s += kFormatName;
  s += "\nappliance=" + appliance;
  s += "\nsegment=" + std::to_string(segment);
  s += "\nfirst_seq=" + std::to_string(firstSeq);
  s += "\nlast_seq=" + std::to_string(lastSeq);
  s += "\nrecords=" + std::to_string(records);
  s += "\nbytes=" + std::to_string(bytes);
  s += "\nchain_prev=" + toHex(chainPrev);
  s += "\nchain_last=" + toHex(chainLast);
  s += "\nmin_time=" + formatRfc3339(minNs);
  s += "\nmax_time=" + formatRfc3339(maxNs);
  s += "\nindex_sha256=" + indexSha256;
  s += "\nkey_id=" + keyId;
  s += "\nsealed_at=" + formatRfc3339(sealedNs);
  s += "\n";
  return s;
}

std::string Seal::serialize(const SigningKey& key) {
  keyId = key.keyId();
  return appendSignature(signedText(), key, signature);
}

bool Seal::verify(const VerifyKey& key) const {
  // The bytes as read, not a re-rendering: what was signed is what is checked.
  return key.verify(signedRaw.empty() ? signedText() : signedRaw, signature);
}

Result<Seal> Seal::parse(std::string_view text) {
  Seal s;
  static constexpr std::string_view kKeys[] = {
      "format",   "appliance",    "segment",    "first_seq",  "last_seq",
      "records",  "bytes",        "chain_prev", "chain_last", "min_time",
      "max_time", "index_sha256", "key_id",     "sealed_at",  "signature"};
  auto fields = parseSignedFields(text, kKeys, "seal");
  if (!fields) return fields.error();
  const std::vector<std::string_view>& values = fields->values;
  s.signedRaw = std::move(fields->signedRaw);
  s.signature = std::move(fields->signature);
  auto bad = [](int line, const std::string& what) { return Error{"seal: " + what, "", line}; };
  if (values[0] != kFormatName) return bad(1, "unknown format '" + std::string(values[0]) + "'");
  if (!safeValue(values[1])) return bad(2, "bad appliance");
  s.appliance.assign(values[1]);
  if (!parseU64(values[2], s.segment)) return bad(3, "bad segment");
  if (!parseU64(values[3], s.firstSeq)) return bad(4, "bad first_seq");
  if (!parseU64(values[4], s.lastSeq)) return bad(5, "bad last_seq");
  if (!parseU64(values[5], s.records)) return bad(6, "bad records");
  if (!parseU64(values[6], s.bytes)) return bad(7, "bad bytes");
  auto prev = hashFromHex(values[7]);
  if (!prev) return bad(8, "bad chain_prev");
  s.chainPrev = *prev;
  auto last = hashFromHex(values[8]);
  if (!last) return bad(9, "bad chain_last");
  s.chainLast = *last;
  auto mn = parseRfc3339(values[9]), mx = parseRfc3339(values[10]);
  if (!mn) return bad(10, "bad min_time");
  if (!mx) return bad(11, "bad max_time");
  s.minNs = *mn;
  s.maxNs = *mx;
  if (!values[11].empty() && !hashFromHex(values[11])) return bad(12, "bad index_sha256");
  s.indexSha256.assign(values[11]);
  s.keyId.assign(values[12]);
  auto sealed = parseRfc3339(values[13]);
  if (!sealed) return bad(14, "bad sealed_at");
  s.sealedNs = *sealed;
  if (s.records == 0 || s.lastSeq < s.firstSeq || s.lastSeq - s.firstSeq + 1 != s.records)
    return bad(6, "records and sequence range disagree");
  return s;
}

}  // namespace lbg::telemetry::logfmt
