#include "policy/model.h"

#include <charconv>

namespace lbg::policy {

namespace {

// True if a and b agree in their first `length` bits.
bool equalUnderMask(const IpAddr& a, const IpAddr& b, uint8_t length) {
  const int full = length / 8;
  for (int i = 0; i < full; ++i) {
    if (a.bytes[i] != b.bytes[i]) return false;
  }
  const int rest = length % 8;
  if (rest == 0) return true;
  const uint8_t mask = uint8_t(0xff << (8 - rest));
  return (a.bytes[full] & mask) == (b.bytes[full] & mask);
}

}  // namespace

std::string Prefix::toString() const {
  if (isV4()) return addr.toString() + "/" + std::to_string(length - 96);
  // A v6 prefix whose address happens to be v4-mapped would print as dotted quad through
  // IpAddr::toString(); print it in v6 form so parse(toString()) keeps the length space.
  if (addr.isV4()) return "::ffff:" + addr.toString() + "/" + std::to_string(length);
  return addr.toString() + "/" + std::to_string(length);
}

std::optional<Prefix> Prefix::parse(std::string_view text) {
  const size_t slash = text.find('/');
  if (slash == std::string_view::npos || slash == 0) return std::nullopt;
  const std::string_view addrText = text.substr(0, slash);
  const std::string_view lenText = text.substr(slash + 1);
  if (lenText.empty() || lenText.size() > 3) return std::nullopt;
  if (lenText.size() > 1 && lenText[0] == '0') return std::nullopt;
  unsigned len = 0;
  const auto [end, ec] = std::from_chars(lenText.data(), lenText.data() + lenText.size(), len);
  if (ec != std::errc() || end != lenText.data() + lenText.size()) return std::nullopt;
  // IpAddr::parse tries dotted quad first; ":" tells us which family the writer meant, so that
  // "::ffff:10.0.0.0/104" stays a v6-written prefix and "10.0.0.0/8" a v4 one.
  const bool v6Written = addrText.find(':') != std::string_view::npos;
  const auto addr = IpAddr::parse(addrText);
  if (!addr) return std::nullopt;
  Prefix p;
  p.addr = *addr;
  if (v6Written) {
    if (len > 128) return std::nullopt;
    p.length = uint8_t(len);
  } else {
    if (len > 32) return std::nullopt;
    p.length = uint8_t(96 + len);
  }
  return p;
}

bool Prefix::contains(const IpAddr& a) const {
  return equalUnderMask(a, addr, length);
}

bool Prefix::hostBitsClear() const {
  for (int bit = length; bit < 128; ++bit) {
    if (addr.bytes[bit / 8] & (0x80 >> (bit % 8))) return false;
  }
  return true;
}

bool ServiceSpec::operator==(const ServiceSpec& o) const {
  return name == o.name && kind == o.kind && ismap == o.ismap && fqdns == o.fqdns &&
         cidrs == o.cidrs && ports == o.ports && apps == o.apps && intercept == o.intercept &&
         sanitize == o.sanitize &&
         tenant == o.tenant && pins == o.pins && certCheck == o.certCheck && ocsp == o.ocsp &&
         description == o.description;
}

const char* toString(CertCheck v) {
  switch (v) {
    case CertCheck::Enforce:
      return "enforce";
    case CertCheck::Log:
      return "log";
    case CertCheck::Off:
      return "off";
  }
  return "enforce";
}

const char* toString(OcspCheck v) {
  switch (v) {
    case OcspCheck::Off:
      return "off";
    case OcspCheck::Prefer:
      return "prefer";
    case OcspCheck::Require:
      return "require";
  }
  return "prefer";
}

const char* toString(DenyAction v) {
  return v == DenyAction::Reset ? "reset" : "drop";
}
const char* toString(QuicMode v) {
  return v == QuicMode::Allow ? "allow" : "block";
}
const char* toString(EchMode v) {
  return v == EchMode::Allow ? "allow" : "block";
}

const char* toString(DnsQueries v) {
  return v == DnsQueries::Any ? "any" : "services";
}

const char* toString(SniDnsMode v) {
  switch (v) {
    case SniDnsMode::Off:
      return "off";
    case SniDnsMode::Log:
      return "log";
    case SniDnsMode::Enforce:
      return "enforce";
  }
  return "?";
}

const char* toString(ReloadMode v) {
  return v == ReloadMode::Keep ? "keep" : "recheck";
}

const char* toString(IdsMode v) {
  return v == IdsMode::Ids ? "ids" : "ips";
}

const char* toString(IdsFault v) {
  return v == IdsFault::Pass ? "pass" : "drop";
}

const char* toString(ServiceKind v) {
  switch (v) {
    case ServiceKind::Cloud:
      return "cloud";
    case ServiceKind::LgwanAsp:
      return "lgwan-asp";
    case ServiceKind::SecurityUpdate:
      return "security-update";
    case ServiceKind::Infrastructure:
      return "infrastructure";
  }
  return "?";
}

const char* toString(L4 v) {
  return v == L4::Udp ? "udp" : "tcp";
}

std::string_view toString(PortProtocol p) {
  switch (p) {
    case PortProtocol::Unset:
      return "";
    case PortProtocol::Any:
      return "any";
    case PortProtocol::Tls:
      return "tls";
    case PortProtocol::Http:
      return "http";
  }
  return "";
}

std::string toString(const PortRange& r) {
  std::string out = std::string(toString(r.proto)) + "/" + std::to_string(r.lo);
  if (r.hi != r.lo) out += "-" + std::to_string(r.hi);
  if (r.protocol != PortProtocol::Unset) out += "/" + std::string(toString(r.protocol));
  return out;
}

}  // namespace lbg::policy
