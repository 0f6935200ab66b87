#include "dataplane/telemetry/log/checkpoint.h"

#include <charconv>
#include <vector>

#include "dataplane/telemetry/log/time_format.h"

namespace lbg::telemetry::logfmt {

namespace {

bool parseU64(std::string_view s, uint64_t& out) {
  if (s.empty() || (s.size() > 1 && s[0] == '0')) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

}  // namespace

std::string checkpointPath(const std::string& dir) { return dir + "/" + std::string(kCheckpointFile); }

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
  std::string text = signedText();
  signature = key.sign(text);
  return text + "signature=" +
         toHex(reinterpret_cast<const uint8_t*>(signature.data()), signature.size()) + "\n";
}

bool Checkpoint::verify(const VerifyKey& key) const {
  return key.verify(signedRaw.empty() ? signedText() : signedRaw, signature);
}

Result<Checkpoint> Checkpoint::parse(std::string_view text) {
  Checkpoint c;
  static constexpr std::string_view kKeys[] = {"format",        "appliance", "segment",
                                               "last_seq",      "chain_last", "segment_bytes",
                                               "key_id",        "written_at", "signature"};
  std::vector<std::string_view> v;
  size_t pos = 0;
  for (std::string_view key : kKeys) {
    size_t nl = text.find('\n', pos);
    const int lineNo = int(v.size() + 1);
    if (nl == std::string_view::npos)
      return Error{"checkpoint: line " + std::to_string(lineNo) + " (" + std::string(key) + ") missing",
                   "", lineNo};
    std::string_view line = text.substr(pos, nl - pos);
    if (line.size() < key.size() + 1 || line.substr(0, key.size()) != key || line[key.size()] != '=')
      return Error{"checkpoint: expected '" + std::string(key) + "='", "", lineNo};
    v.push_back(line.substr(key.size() + 1));
    if (key == "signature") c.signedRaw.assign(text.substr(0, pos));
    pos = nl + 1;
  }
  if (pos != text.size()) return Error{"checkpoint: data after the signature", "", int(v.size() + 1)};
  auto bad = [](int line, const std::string& what) { return Error{"checkpoint: " + what, "", line}; };
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
  if (v[8].size() != 128) return bad(9, "bad signature length");
  c.signature.resize(64);
  for (size_t i = 0; i < 64; ++i) {
    int hi = hexValue(v[8][2 * i]), lo = hexValue(v[8][2 * i + 1]);
    if (hi < 0 || lo < 0) return bad(9, "bad signature hex");
    c.signature[i] = char(hi << 4 | lo);
  }
  if ((c.lastSeq == 0) != (c.segment == 0) || (c.segment != 0 && c.segmentBytes == 0))
    return bad(3, "segment, last_seq and segment_bytes disagree");
  return c;
}

}  // namespace lbg::telemetry::logfmt
