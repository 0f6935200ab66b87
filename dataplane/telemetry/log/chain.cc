#include "dataplane/telemetry/log/chain.h"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <array>
#include <charconv>

namespace lbg::telemetry::logfmt {

Hash hashLine(std::string_view line) {
  // OpenSSL 3's one-shot SHA256() fetches the algorithm from the provider on every call, which
  // costs more than hashing a 400-byte record; fetch once and reuse a context per thread.
  static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  struct Ctx {
    EVP_MD_CTX* c = EVP_MD_CTX_new();
    ~Ctx() { EVP_MD_CTX_free(c); }
  };
  thread_local Ctx ctx;
  Hash h;
  unsigned int len = 0;
  if (md == nullptr || ctx.c == nullptr || EVP_DigestInit_ex2(ctx.c, md, nullptr) != 1 ||
      EVP_DigestUpdate(ctx.c, line.data(), line.size()) != 1 ||
      EVP_DigestFinal_ex(ctx.c, h.data(), &len) != 1) {
    // Cannot happen with a working libcrypto; fall back to the slow path rather than misreport.
    SHA256(reinterpret_cast<const unsigned char*>(line.data()), line.size(), h.data());
  }
  return h;
}

Hash genesisHash(std::string_view applianceId) {
  std::string seed = "lbg-log/1 genesis\n";
  seed += applianceId;
  return hashLine(seed);
}

std::string toHex(const uint8_t* p, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(n * 2, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kDigits[p[i] >> 4];
    out[2 * i + 1] = kDigits[p[i] & 15];
  }
  return out;
}

static constexpr int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;  // upper case is not canonical: a hash is written in one form only
}

// A table instead of branches: every record's lbg_prev goes through here (verify, query, report).
static constexpr std::array<int8_t, 256> kHexTable = [] {
  std::array<int8_t, 256> t{};
  for (auto& v : t) v = -1;
  for (int c = 0; c < 256; ++c) t[size_t(c)] = int8_t(hexValue(char(c)));
  return t;
}();

std::optional<Hash> hashFromHex(std::string_view hex) {
  if (hex.size() != 64) return std::nullopt;
  Hash h;
  int bad = 0;
  for (size_t i = 0; i < 32; ++i) {
    int hi = kHexTable[uint8_t(hex[2 * i])], lo = kHexTable[uint8_t(hex[2 * i + 1])];
    bad |= hi | lo;  // negative if any digit is not lower-case hex
    h[i] = uint8_t(hi << 4 | lo);
  }
  if (bad < 0) return std::nullopt;
  return h;
}

bool appendChained(std::string_view object, const ChainFields& chain, std::string& out) {
  if (object.size() < 2 || object.front() != '{' || object.back() != '}') return false;
  std::string_view body = object.substr(0, object.size() - 1);
  out.append(body);
  // An empty object "{}" (or "{ }") takes no separating comma.
  bool empty = body.find_first_not_of(" \t", 1) == std::string_view::npos;
  if (!empty) out.push_back(',');
  out.append(kSeqKey);
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), chain.seq);
  out.append(buf, end);
  out.push_back(',');
  out.append(kPrevKey);
  out.append(toHex(chain.prev));
  out.append("\"}\n");
  return true;
}

std::optional<ChainFields> parseChainFields(std::string_view line) {
  // Parsed from the end so that nothing the gateway put in the object can shadow the fields.
  if (line.size() < kPrevTailLen + kSeqKey.size() + 2) return std::nullopt;
  std::string_view tail = line.substr(line.size() - kPrevTailLen);
  if (tail[0] != ',' || tail.substr(1, kPrevKey.size()) != kPrevKey ||
      tail.substr(tail.size() - 2) != "\"}")
    return std::nullopt;
  auto prev = hashFromHex(tail.substr(1 + kPrevKey.size(), 64));
  if (!prev) return std::nullopt;
  std::string_view head = line.substr(0, line.size() - kPrevTailLen);
  size_t digitsStart = head.size();
  while (digitsStart > 0 && head[digitsStart - 1] >= '0' && head[digitsStart - 1] <= '9')
    --digitsStart;
  size_t nDigits = head.size() - digitsStart;
  if (nDigits == 0 || nDigits > 20 || digitsStart < kSeqKey.size() + 1) return std::nullopt;
  if (nDigits > 1 && head[digitsStart] == '0') return std::nullopt;  // one spelling per number
  if (head.substr(digitsStart - kSeqKey.size(), kSeqKey.size()) != kSeqKey) return std::nullopt;
  char before = head[digitsStart - kSeqKey.size() - 1];
  if (before != ',' && before != '{') return std::nullopt;
  ChainFields f;
  f.prev = *prev;
  auto [p, ec] = std::from_chars(head.data() + digitsStart, head.data() + head.size(), f.seq);
  if (ec != std::errc()) return std::nullopt;
  return f;
}

}  // namespace lbg::telemetry::logfmt
