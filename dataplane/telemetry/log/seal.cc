#include "dataplane/telemetry/log/seal.h"

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
  std::string text = signedText();
  signature = key.sign(text);
  return text + "signature=" + toHex(reinterpret_cast<const uint8_t*>(signature.data()),
                                     signature.size()) + "\n";
}

bool Seal::verify(const VerifyKey& key) const {
  // The bytes as read, not a re-rendering: what was signed is what is checked.
  return key.verify(signedRaw.empty() ? signedText() : signedRaw, signature);
}

Result<Seal> Seal::parse(std::string_view text) {
  Seal s;
  static constexpr std::string_view kKeys[] = {
      "format", "appliance", "segment", "first_seq", "last_seq", "records", "bytes", "chain_prev",
      "chain_last", "min_time", "max_time", "index_sha256", "key_id", "sealed_at", "signature"};
  std::vector<std::string_view> values;
  size_t pos = 0;
  for (std::string_view key : kKeys) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos)
      return Error{"seal: line " + std::to_string(values.size() + 1) + " (" + std::string(key) +
                   ") missing", "", int(values.size() + 1)};
    std::string_view line = text.substr(pos, nl - pos);
    if (line.size() <= key.size() || line.substr(0, key.size()) != key || line[key.size()] != '=')
      return Error{"seal: expected '" + std::string(key) + "='", "", int(values.size() + 1)};
    values.push_back(line.substr(key.size() + 1));
    if (key == "signature") s.signedRaw.assign(text.substr(0, pos));
    pos = nl + 1;
  }
  if (pos != text.size()) return Error{"seal: data after the signature", "", int(values.size() + 1)};
  auto bad = [](int line, const std::string& what) {
    return Error{"seal: " + what, "", line};
  };
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
  if (values[14].size() != 128) return bad(15, "bad signature length");
  s.signature.resize(64);
  for (size_t i = 0; i < 64; ++i) {
    auto hexv = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      return -1;
    };
    int hi = hexv(values[14][2 * i]), lo = hexv(values[14][2 * i + 1]);
    if (hi < 0 || lo < 0) return bad(15, "bad signature hex");
    s.signature[i] = char(hi << 4 | lo);
  }
  if (s.records == 0 || s.lastSeq < s.firstSeq || s.lastSeq - s.firstSeq + 1 != s.records)
    return bad(6, "records and sequence range disagree");
  return s;
}

}  // namespace lbg::telemetry::logfmt
