#include "dataplane/telemetry/log/signed_fields.h"

#include <charconv>

#include "dataplane/telemetry/log/chain.h"

namespace lbg::telemetry::logfmt {

namespace {

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

}  // namespace

bool parseU64(std::string_view s, uint64_t& out) {
  if (s.empty() || (s.size() > 1 && s[0] == '0')) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

Result<SignedFields> parseSignedFields(std::string_view text,
                                       std::span<const std::string_view> keys,
                                       std::string_view what) {
  SignedFields f;
  const std::string w(what);
  std::string_view signatureHex;
  size_t pos = 0;
  int lineNo = 0;
  for (std::string_view key : keys) {
    ++lineNo;
    const size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) {
      return Error{w + ": line " + std::to_string(lineNo) + " (" + std::string(key) + ") missing",
                   "", lineNo};
    }
    const std::string_view line = text.substr(pos, nl - pos);
    if (line.size() <= key.size() || line.substr(0, key.size()) != key || line[key.size()] != '=') {
      return Error{w + ": expected '" + std::string(key) + "='", "", lineNo};
    }
    const std::string_view value = line.substr(key.size() + 1);
    if (key == "signature") {
      f.signedRaw.assign(text.substr(0, pos));
      signatureHex = value;
    } else {
      f.values.push_back(value);
    }
    pos = nl + 1;
  }
  if (pos != text.size()) return Error{w + ": data after the signature", "", lineNo + 1};
  if (signatureHex.size() != 128) return Error{w + ": bad signature length", "", lineNo};
  f.signature.resize(64);
  for (size_t i = 0; i < 64; ++i) {
    const int hi = hexValue(signatureHex[2 * i]), lo = hexValue(signatureHex[2 * i + 1]);
    if (hi < 0 || lo < 0) return Error{w + ": bad signature hex", "", lineNo};
    f.signature[i] = char(hi << 4 | lo);
  }
  return f;
}

std::string appendSignature(const std::string& text, const SigningKey& key,
                            std::string& signature) {
  signature = key.sign(text);
  return text + "signature=" +
         toHex(reinterpret_cast<const uint8_t*>(signature.data()), signature.size()) + "\n";
}

}  // namespace lbg::telemetry::logfmt
