#include "dataplane/inspect/tls/x509_name.h"

#include <cstdio>
#include <cstring>
#include <string_view>

namespace lbg::inspect {

namespace {

constexpr uint8_t kSequence = 0x30, kSet = 0x31, kOid = 0x06, kInteger = 0x02,
                  kVersionTag = 0xa0;

// One DER TLV: tag (single-byte tags only: X.509 uses no others here) and content.
struct Tlv {
  uint8_t tag = 0;
  std::span<const uint8_t> content;
};

bool readTlv(std::span<const uint8_t>& in, Tlv& out) {
  if (in.size() < 2) return false;
  out.tag = in[0];
  if ((out.tag & 0x1f) == 0x1f) return false;  // multi-byte tag
  size_t len = in[1], at = 2;
  if (len & 0x80) {
    const size_t n = len & 0x7f;
    if (n == 0 || n > 3 || in.size() < 2 + n) return false;  // certificates stay below 16 MiB
    len = 0;
    for (size_t i = 0; i < n; ++i) len = len << 8 | in[2 + i];
    at = 2 + n;
  }
  if (in.size() - at < len) return false;
  out.content = in.subspan(at, len);
  in = in.subspan(at + len);
  return true;
}

struct Writer {
  char* out;
  size_t cap;
  size_t len = 0;
  void put(std::string_view s) {
    const size_t n = s.size() < cap - len ? s.size() : cap - len;
    std::memcpy(out + len, s.data(), n);
    len += n;
  }
  void put(char c) {
    if (len < cap) out[len++] = c;
  }
};

struct Abbrev {
  std::string_view oid;  // DER content bytes
  std::string_view name;
};

// Distinguished-name attributes with their usual short names (RFC 4519, RFC 2985, RFC 4524).
constexpr Abbrev kAbbrevs[] = {
    {"\x55\x04\x03", "CN"},
    {"\x55\x04\x06", "C"},
    {"\x55\x04\x07", "L"},
    {"\x55\x04\x08", "ST"},
    {"\x55\x04\x0a", "O"},
    {"\x55\x04\x0b", "OU"},
    {"\x55\x04\x05", "serialNumber"},
    {"\x55\x04\x09", "street"},
    {"\x55\x04\x11", "postalCode"},
    {"\x55\x04\x04", "SN"},
    {"\x55\x04\x2a", "GN"},
    {"\x55\x04\x0c", "title"},
    {"\x55\x04\x0f", "businessCategory"},
    {"\x2a\x86\x48\x86\xf7\x0d\x01\x09\x01", "emailAddress"},
    {"\x09\x92\x26\x89\x93\xf2\x2c\x64\x01\x19", "DC"},
    {"\x09\x92\x26\x89\x93\xf2\x2c\x64\x01\x01", "UID"},
    {"\x2b\x06\x01\x04\x01\x82\x37\x3c\x02\x01\x03", "jurisdictionC"},
    {"\x2b\x06\x01\x04\x01\x82\x37\x3c\x02\x01\x02", "jurisdictionST"},
    {"\x2b\x06\x01\x04\x01\x82\x37\x3c\x02\x01\x01", "jurisdictionL"},
};

void putOid(Writer& w, std::span<const uint8_t> oid) {
  const std::string_view bytes(reinterpret_cast<const char*>(oid.data()), oid.size());
  for (const Abbrev& a : kAbbrevs) {
    if (a.oid == bytes) {
      w.put(a.name);
      return;
    }
  }
  // Dotted form: the first byte holds two arcs, the rest base-128 with continuation bits.
  uint64_t v = 0;
  bool first = true;
  char num[24];
  for (uint8_t b : oid) {
    if (v > (UINT64_MAX >> 7)) return;  // an arc beyond 64 bits: left as far as it went
    v = v << 7 | (b & 0x7f);
    if (b & 0x80) continue;
    if (first) {
      const uint64_t top = v < 40 ? 0 : v < 80 ? 1 : 2;
      const int n = std::snprintf(num, sizeof num, "%llu.%llu", (unsigned long long)top,
                                  (unsigned long long)(v - top * 40));
      w.put(std::string_view(num, size_t(n)));
      first = false;
    } else {
      const int n = std::snprintf(num, sizeof num, ".%llu", (unsigned long long)v);
      w.put(std::string_view(num, size_t(n)));
    }
    v = 0;
  }
}

void putValue(Writer& w, const Tlv& v) {
  switch (v.tag) {
    case 0x0c:  // UTF8String
    case 0x12:  // NumericString
    case 0x13:  // PrintableString
    case 0x14:  // T61String
    case 0x16:  // IA5String
    case 0x1a:  // VisibleString
      w.put(std::string_view(reinterpret_cast<const char*>(v.content.data()), v.content.size()));
      return;
    case 0x1e:  // BMPString: UCS-2 big-endian, written as UTF-8
      for (size_t i = 0; i + 1 < v.content.size(); i += 2) {
        const unsigned c = unsigned(v.content[i]) << 8 | v.content[i + 1];
        if (c < 0x80) {
          w.put(char(c));
        } else if (c < 0x800) {
          w.put(char(0xc0 | c >> 6));
          w.put(char(0x80 | (c & 0x3f)));
        } else {
          w.put(char(0xe0 | c >> 12));
          w.put(char(0x80 | (c >> 6 & 0x3f)));
          w.put(char(0x80 | (c & 0x3f)));
        }
      }
      return;
    default: {
      static constexpr char kHex[] = "0123456789abcdef";
      w.put('#');
      for (uint8_t b : v.content) {
        w.put(kHex[b >> 4]);
        w.put(kHex[b & 15]);
      }
    }
  }
}

}  // namespace

size_t x509NameText(std::span<const uint8_t> cert, X509NameField which, char* out, size_t cap) {
  Tlv t;
  std::span<const uint8_t> in = cert;
  if (!readTlv(in, t) || t.tag != kSequence) return 0;  // Certificate
  in = t.content;
  if (!readTlv(in, t) || t.tag != kSequence) return 0;  // TBSCertificate
  in = t.content;
  if (!readTlv(in, t)) return 0;
  if (t.tag == kVersionTag && !readTlv(in, t)) return 0;  // [0] version, then serialNumber
  if (t.tag != kInteger) return 0;
  if (!readTlv(in, t) || t.tag != kSequence) return 0;  // signature AlgorithmIdentifier
  if (!readTlv(in, t) || t.tag != kSequence) return 0;  // issuer
  if (which == X509NameField::Subject) {
    if (!readTlv(in, t) || t.tag != kSequence) return 0;  // validity
    if (!readTlv(in, t) || t.tag != kSequence) return 0;  // subject
  }
  Writer w{out, cap};
  std::span<const uint8_t> rdns = t.content;
  for (bool firstRdn = true; !rdns.empty(); firstRdn = false) {
    Tlv rdn;
    if (!readTlv(rdns, rdn) || rdn.tag != kSet) return 0;
    if (!firstRdn) w.put(", ");
    std::span<const uint8_t> attrs = rdn.content;
    for (bool firstAttr = true; !attrs.empty(); firstAttr = false) {
      Tlv attr, oid, value;
      if (!readTlv(attrs, attr) || attr.tag != kSequence) return 0;
      std::span<const uint8_t> av = attr.content;
      if (!readTlv(av, oid) || oid.tag != kOid || oid.content.empty() || !readTlv(av, value)) {
        return 0;
      }
      if (!firstAttr) w.put(" + ");
      putOid(w, oid.content);
      w.put('=');
      putValue(w, value);
    }
  }
  return w.len;
}

}  // namespace lbg::inspect
