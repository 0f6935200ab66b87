#include "dataplane/telemetry/log/checkpoint.h"

#include <vector>

#include "dataplane/telemetry/log/signed_fields.h"
#include "dataplane/telemetry/log/time_format.h"

namespace lbg::telemetry::logfmt {

std::string checkpointPath(const std::string& dir) {
  return dir + "/" + std::string(kCheckpointFile);
}

std::string Checkpoint::signedText() const {
  std::string s;
  s += "format=";
  s += kCheckpointFormat;
  s += "\nappliance=" + appliance;
  s += "\nsegment=" + std::to_string(segment);
  s += "\nlast_seq=" + std::to_string(lastSeq);
  s += "\nchain_last=" + toHex(chainLast);
  s += "\nsegment_bytes=" + std::to_string(segmentBytes);
  s += "\nkey_id=" + keyId;
  s += "\nwritten_at=" + formatRfc3339(writtenNs);
  s += "\n";
  return s;
}

std::string Checkpoint::serialize(const SigningKey& key) {
  keyId = key.keyId();
  return appendSignature(signedText(), key, signature);
}

bool Checkpoint::verify(const VerifyKey& key) const {
  return key.verify(signedRaw.empty() ? signedText() : signedRaw, signature);
}

Result<Checkpoint> Checkpoint::parse(std::string_view text) {
  Checkpoint c;
  static constexpr std::string_view kKeys[] = {"format",   "appliance",  "segment",
                                               "last_seq", "chain_last", "segment_bytes",
                                               "key_id",   "written_at", "signature"};
  auto fields = parseSignedFields(text, kKeys, "checkpoint");
  if (!fields) return fields.error();
  const std::vector<std::string_view>& v = fields->values;
  c.signedRaw = std::move(fields->signedRaw);
  c.signature = std::move(fields->signature);
  auto bad = [](int line, const std::string& what) {
    return Error{"checkpoint: " + what, "", line};
  };
  if (v[0] != kCheckpointFormat) return bad(1, "unknown format '" + std::string(v[0]) + "'");
  if (v[1].empty() || v[1].find('\r') != std::string_view::npos) return bad(2, "bad appliance");
  c.appliance.assign(v[1]);
  if (!parseU64(v[2], c.segment)) return bad(3, "bad segment");
  if (!parseU64(v[3], c.lastSeq)) return bad(4, "bad last_seq");
  auto h = hashFromHex(v[4]);
  if (!h) return bad(5, "bad chain_last");
  c.chainLast = *h;
  if (!parseU64(v[5], c.segmentBytes)) return bad(6, "bad segment_bytes");
  c.keyId.assign(v[6]);
  auto t = parseRfc3339(v[7]);
  if (!t) return bad(8, "bad written_at");
  c.writtenNs = *t;
  if ((c.lastSeq == 0) != (c.segment == 0) || (c.segment != 0 && c.segmentBytes == 0))
    return bad(3, "segment, last_seq and segment_bytes disagree");
  return c;
}

}  // namespace lbg::telemetry::logfmt
