#include "policy/parser.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "policy/fqdn.h"

namespace lbg::policy {

namespace {

// yaml-cpp reports problems by throwing, so the validator does too, internally: the first problem
// ends the parse and is converted to an Error at the API boundary. Nothing throws out of this file.
struct SchemaError {
  std::string message;
  int line;
  int column;
};

SourcePos posOf(const YAML::Node& node, const SourcePos& fallback) {
  const YAML::Mark m = node.Mark();
  // yaml-cpp gives null nodes created for an empty value no position; use the parent's.
  if (m.line < 0 || m.column < 0) return fallback;
  return {m.line + 1, m.column + 1};
}

[[noreturn]] void fail(const SourcePos& pos, const std::string& path, const std::string& what) {
  throw SchemaError{path.empty() ? what : path + ": " + what, pos.line, pos.column};
}

// A mapping node checked for strictness: every key is a plain scalar, appears once and is one
// the schema knows. Values are fetched by name afterwards.
class Map {
 public:
  Map(const YAML::Node& node, std::string path, SourcePos pos,
      std::initializer_list<const char*> allowed)
      : node_(node), path_(std::move(path)), pos_(pos) {
    if (!node.IsMap()) fail(pos_, path_, "expected a mapping, got " + kindName(node));
    std::set<std::string> seen;
    for (const auto& kv : node) {
      const SourcePos keyPos = posOf(kv.first, pos_);
      if (!kv.first.IsScalar()) fail(keyPos, path_, "keys must be plain names");
      const std::string key = kv.first.Scalar();
      bool known = false;
      for (const char* a : allowed) known = known || key == a;
      if (!known) fail(keyPos, join(key), "unknown key (a typo here must not be ignored)");
      if (!seen.insert(key).second) fail(keyPos, join(key), "duplicate key");
      entries_.push_back({key, kv.second, keyPos});
    }
  }

  // The value under `key`, or an undefined node. `valuePos` gets the value's position (or the
  // key's, for an empty value).
  YAML::Node get(const std::string& key, SourcePos* valuePos) const {
    for (const auto& e : entries_) {
      if (e.key == key) {
        // An empty value ("inside:") is best shown at its key; yaml-cpp would point past it.
        if (valuePos) *valuePos = e.value.IsNull() ? e.keyPos : posOf(e.value, e.keyPos);
        return e.value;
      }
    }
    if (valuePos) *valuePos = pos_;
    return YAML::Node(YAML::NodeType::Undefined);
  }
  bool has(const std::string& key) const { return get(key, nullptr).IsDefined(); }
  void require(const std::string& key) const {
    if (!has(key)) fail(pos_, path_, "missing required key '" + key + "'");
  }

  std::string join(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }
  const SourcePos& pos() const { return pos_; }
  const std::string& path() const { return path_; }

  static std::string kindName(const YAML::Node& n) {
    switch (n.Type()) {
      case YAML::NodeType::Null:
        return "nothing";
      case YAML::NodeType::Scalar:
        return "a scalar";
      case YAML::NodeType::Sequence:
        return "a sequence";
      case YAML::NodeType::Map:
        return "a mapping";
      default:
        return "nothing";
    }
  }

 private:
  struct Entry {
    std::string key;
    YAML::Node value;
    SourcePos keyPos;
  };
  YAML::Node node_;
  std::string path_;
  SourcePos pos_;
  std::vector<Entry> entries_;
};

std::string scalar(const YAML::Node& n, const SourcePos& pos, const std::string& path) {
  if (!n.IsScalar()) fail(pos, path, "expected a string, got " + Map::kindName(n));
  return n.Scalar();
}

// Booleans and integers must be plain (unquoted) scalars: `intercept: "false"` is a string, and
// reading it as false would hide a mistake.
std::string plainScalar(const YAML::Node& n, const SourcePos& pos, const std::string& path,
                        const char* expected) {
  if (!n.IsScalar() || n.Tag() != "?") {
    fail(pos, path, std::string("expected ") + expected + " (unquoted)");
  }
  return n.Scalar();
}

bool boolean(const YAML::Node& n, const SourcePos& pos, const std::string& path) {
  const std::string s = plainScalar(n, pos, path, "true or false");
  if (s == "true") return true;
  if (s == "false") return false;
  fail(pos, path, "expected true or false, got '" + s + "'");
}

template <class E, size_t N>
E enumValue(const YAML::Node& n, const SourcePos& pos, const std::string& path,
            const std::pair<const char*, E> (&choices)[N]) {
  const std::string s = scalar(n, pos, path);
  std::string list;
  for (const auto& [text, value] : choices) {
    if (s == text) return value;
    list += list.empty() ? "" : " | ";
    list += text;
  }
  fail(pos, path, "expected " + list + ", got '" + s + "'");
}

// Calls fn(item, itemPos, itemPath) for each element of a sequence.
template <class Fn>
void forEach(const YAML::Node& n, const SourcePos& pos, const std::string& path, Fn&& fn) {
  if (!n.IsSequence()) fail(pos, path, "expected a sequence, got " + Map::kindName(n));
  size_t i = 0;
  for (const auto& item : n) {
    fn(item, posOf(item, pos), path + "[" + std::to_string(i) + "]");
    ++i;
  }
}

std::optional<unsigned> decimal(std::string_view s, unsigned max) {
  if (s.empty() || s.size() > 5 || (s.size() > 1 && s[0] == '0')) return std::nullopt;
  unsigned v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v > max) return std::nullopt;
  return v;
}

std::optional<PortRange> parsePort(std::string_view text) {
  const size_t slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  const std::string_view proto = text.substr(0, slash);
  std::string_view range = text.substr(slash + 1);
  PortRange r{};
  // The optional protocol that must run on the port: tcp/443/tls, tcp/80/http, udp/443/tls.
  if (const size_t second = range.find('/'); second != std::string_view::npos) {
    const std::string_view what = range.substr(second + 1);
    range = range.substr(0, second);
    if (what == "tls") {
      r.protocol = PortProtocol::Tls;
    } else if (what == "http" && proto == "tcp") {
      r.protocol = PortProtocol::Http;
    } else if (what == "any") {
      r.protocol = PortProtocol::Any;
    } else {
      return std::nullopt;
    }
  }
  if (proto == "tcp") {
    r.proto = L4::Tcp;
  } else if (proto == "udp") {
    r.proto = L4::Udp;
  } else {
    return std::nullopt;
  }
  const size_t dash = range.find('-');
  const auto lo = decimal(range.substr(0, dash), 65535);
  const auto hi = dash == std::string_view::npos ? lo : decimal(range.substr(dash + 1), 65535);
  if (!lo || !hi) return std::nullopt;
  r.lo = uint16_t(*lo);
  r.hi = uint16_t(*hi);
  return r;
}

// Strict YYYY-MM-DD that names a real calendar day.
std::optional<std::chrono::sys_days> parseDate(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
  }
  const int y = std::stoi(std::string(s.substr(0, 4)));
  const unsigned m = unsigned(std::stoi(std::string(s.substr(5, 2))));
  const unsigned d = unsigned(std::stoi(std::string(s.substr(8, 2))));
  const std::chrono::year_month_day ymd{std::chrono::year{y}, std::chrono::month{m},
                                        std::chrono::day{d}};
  if (!ymd.ok()) return std::nullopt;
  return std::chrono::sys_days{ymd};
}

bool validServiceName(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

bool validIsmapId(std::string_view s) {
  if (s.empty() || s.size() > 32) return false;
  for (char c : s) {
    const bool ok =
        (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    if (!ok) return false;
  }
  return true;
}

// "sha256//" and the standard base64 of exactly 32 bytes (44 characters, one '=' of padding).
bool validPin(std::string_view s) {
  constexpr std::string_view kPrefix = "sha256//";
  if (s.substr(0, kPrefix.size()) != kPrefix) return false;
  s.remove_prefix(kPrefix.size());
  if (s.size() != 44 || s[43] != '=') return false;
  for (size_t i = 0; i < 43; ++i) {
    const char c = s[i];
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/')) return false;
  }
  // The last character before the padding carries 2 unused bits that must be zero.
  static constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  return (kAlphabet.find(s[42]) & 3) == 0;
}

class DocParser {
 public:
  DocParser(std::chrono::sys_days today, std::string_view fileName)
      : today_(today), fileName_(fileName) {}

  PolicyDoc parse(const YAML::Node& root) {
    const SourcePos rootPos = posOf(root, {1, 1});
    if (!root.IsDefined() || root.IsNull()) fail(rootPos, "policy", "the document is empty");
    Map top(root, "", rootPos, {"version", "approval", "segment", "defaults", "dns", "services", "ids"});
    for (const char* k : {"version", "segment", "defaults", "services"}) top.require(k);

    PolicyDoc doc;
    SourcePos p;
    YAML::Node v = top.get("version", &p);
    const std::string version = plainScalar(v, p, "version", "an integer");
    if (version != "1") {
      fail(p, "version", "unsupported schema version '" + version + "' (this build reads 1)");
    }
    doc.schemaVersion = 1;

    if (top.has("approval")) {
      v = top.get("approval", &p);
      static constexpr std::pair<const char*, bool> kApproval[] = {{"required", true},
                                                                   {"none", false}};
      doc.approvalRequired = enumValue(v, p, "approval", kApproval);
    }

    v = top.get("segment", &p);
    Map segment(v, "segment", p, {"inside"});
    segment.require("inside");
    v = segment.get("inside", &p);
    doc.inside = prefixList(v, p, "segment.inside");
    if (doc.inside.empty()) fail(p, "segment.inside", "at least one prefix is required");

    v = top.get("defaults", &p);
    parseDefaults(Map(v, "defaults", p, {"deny", "quic", "ech", "sni_dns", "reload", "guard"}),
                  doc);

    v = top.get("services", &p);
    std::set<std::string> names;
    forEach(v, p, "services", [&](const YAML::Node& item, SourcePos ip, const std::string& path) {
      ServiceSpec s = parseService(item, ip, path);
      if (!names.insert(s.name).second) {
        fail(s.pos, path + ".name", "duplicate service name '" + s.name + "'");
      }
      doc.services.push_back(std::move(s));
    });

    if (top.has("dns")) {
      v = top.get("dns", &p);
      const SourcePos dnsPos = p;
      Map dns(v, "dns", p, {"resolvers", "queries"});
      if (!dns.has("resolvers") && !dns.has("queries")) {
        fail(dnsPos, "dns", "give resolvers, queries or both (or omit the block)");
      }
      if (dns.has("resolvers")) {
        v = dns.get("resolvers", &p);
        doc.dnsResolvers = prefixList(v, p, "dns.resolvers");
        if (doc.dnsResolvers->empty()) fail(p, "dns.resolvers", "at least one prefix is required");
        // A resolver that no service lets the segment reach would never answer: surely a typo.
        size_t i = 0;
        forEach(v, p, "dns.resolvers", [&](const YAML::Node&, SourcePos ip, const std::string& ipath) {
          const Prefix& r = (*doc.dnsResolvers)[i++];
          if (!resolverReachable(doc, r)) {
            fail(ip, ipath, "'" + r.toString() +
                                "' is not inside the cidr of any service that lists udp/53 or tcp/53");
          }
        });
      }
      if (dns.has("queries")) {
        v = dns.get("queries", &p);
        const std::string q = scalar(v, p, "dns.queries");
        if (q == "services") {
          doc.dnsQueries = DnsQueries::Services;
        } else if (q == "any") {
          doc.dnsQueries = DnsQueries::Any;
        } else {
          fail(p, "dns.queries", "'" + q + "' is not services or any");
        }
      }
    }
    if (top.has("ids")) {
      v = top.get("ids", &p);
      doc.ids = parseIds(Map(v, "ids", p, {"rules", "mode", "on_fault"}));
    }
    return doc;
  }

 private:
  // Rule files: relative paths are resolved against the policy file's directory (the label
  // given to parsePolicyText), so the stored document names absolute files. Each must be a
  // readable regular file now; the rules themselves are read when the snapshot is compiled.
  IdsSpec parseIds(const Map& m) {
    IdsSpec ids;
    m.require("rules");
    SourcePos p;
    YAML::Node v = m.get("rules", &p);
    const std::filesystem::path base = std::filesystem::path(fileName_).parent_path();
    std::set<std::string> seen;
    forEach(v, p, "ids.rules", [&](const YAML::Node& item, SourcePos ip, const std::string& ipath) {
      const std::string text = scalar(item, ip, ipath);
      if (text.empty()) fail(ip, ipath, "empty path");
      std::filesystem::path path(text);
      if (path.is_relative()) path = base / path;
      std::error_code ec;
      path = std::filesystem::absolute(path, ec).lexically_normal();
      if (ec || !std::filesystem::is_regular_file(path, ec)) {
        fail(ip, ipath, "'" + path.string() + "' is not a readable rule file");
      }
      if (!seen.insert(path.string()).second) fail(ip, ipath, "duplicate rule file '" + text + "'");
      ids.rules.push_back(path.string());
    });
    if (ids.rules.empty()) fail(p, "ids.rules", "at least one rule file is required");
    if (m.has("mode")) {
      v = m.get("mode", &p);
      static constexpr std::pair<const char*, IdsMode> kMode[] = {{"ips", IdsMode::Ips},
                                                                  {"ids", IdsMode::Ids}};
      ids.mode = enumValue(v, p, "ids.mode", kMode);
    }
    if (m.has("on_fault")) {
      v = m.get("on_fault", &p);
      static constexpr std::pair<const char*, IdsFault> kFault[] = {{"drop", IdsFault::Drop},
                                                                    {"pass", IdsFault::Pass}};
      ids.onFault = enumValue(v, p, "ids.on_fault", kFault);
    }
    return ids;
  }

  static bool resolverReachable(const PolicyDoc& doc, const Prefix& r) {
    for (const auto& s : doc.services) {
      bool port53 = false;
      for (const auto& pr : s.ports) {
        port53 = port53 || pr.contains(L4::Udp, 53) || pr.contains(L4::Tcp, 53);
      }
      if (!port53) continue;
      for (const auto& c : s.cidrs) {
        if (c.length <= r.length && c.contains(r.addr)) return true;
      }
    }
    return false;
  }

  void parseDefaults(const Map& m, PolicyDoc& doc) {
    m.require("deny");
    SourcePos p;
    YAML::Node v = m.get("deny", &p);
    static constexpr std::pair<const char*, DenyAction> kDeny[] = {{"drop", DenyAction::Drop},
                                                                   {"reset", DenyAction::Reset}};
    doc.denyAction = enumValue(v, p, "defaults.deny", kDeny);
    if (m.has("quic")) {
      v = m.get("quic", &p);
      static constexpr std::pair<const char*, QuicMode> kQuic[] = {{"block", QuicMode::Block},
                                                                   {"allow", QuicMode::Allow}};
      doc.quic = enumValue(v, p, "defaults.quic", kQuic);
    }
    if (m.has("ech")) {
      v = m.get("ech", &p);
      static constexpr std::pair<const char*, EchMode> kEch[] = {{"block", EchMode::Block},
                                                                 {"allow", EchMode::Allow}};
      doc.ech = enumValue(v, p, "defaults.ech", kEch);
    }
    if (m.has("sni_dns")) {
      v = m.get("sni_dns", &p);
      static constexpr std::pair<const char*, SniDnsMode> kSniDns[] = {
          {"enforce", SniDnsMode::Enforce}, {"log", SniDnsMode::Log}, {"off", SniDnsMode::Off}};
      doc.sniDns = enumValue(v, p, "defaults.sni_dns", kSniDns);
    }
    if (m.has("reload")) {
      v = m.get("reload", &p);
      static constexpr std::pair<const char*, ReloadMode> kReload[] = {
          {"keep", ReloadMode::Keep}, {"recheck", ReloadMode::Recheck}};
      doc.reload = enumValue(v, p, "defaults.reload", kReload);
    }
    if (m.has("guard")) {
      v = m.get("guard", &p);
      Map g(v, "defaults.guard", p,
            {"new_flows_per_sec", "new_flow_burst", "max_flows_per_source", "udp_per_dest_pps",
             "udp_per_dest_burst", "icmp_per_dest_pps", "icmp_per_dest_burst",
             "fragments_per_dest_pps", "fragments_per_dest_burst"});
      const auto count = [&](const char* key, uint32_t& out) {
        if (!g.has(key)) return;
        SourcePos kp;
        const YAML::Node n = g.get(key, &kp);
        const std::string path = std::string("defaults.guard.") + key;
        const std::string s = plainScalar(n, kp, path, "a whole number");
        if (s.empty() || s.size() > 9 || s.find_first_not_of("0123456789") != std::string::npos) {
          fail(kp, path, "expected a whole number 0..999999999, got '" + s + "'");
        }
        out = uint32_t(std::stoul(s));
      };
      count("new_flows_per_sec", doc.guard.newFlowsPerSec);
      count("new_flow_burst", doc.guard.newFlowBurst);
      count("max_flows_per_source", doc.guard.maxFlowsPerSource);
      if (doc.guard.newFlowsPerSec != 0 && doc.guard.newFlowBurst == 0) {
        fail(p, "defaults.guard.new_flow_burst",
             "must be at least 1 while new_flows_per_sec is set (0 would refuse every flow)");
      }
      // Per-destination flood limits: a burst of 0 with a rate would drop every packet.
      const auto flood = [&](const char* rateKey, uint32_t& rate, const char* burstKey,
                             uint32_t& burst) {
        count(rateKey, rate);
        count(burstKey, burst);
        if (rate != 0 && burst == 0) {
          SourcePos bp = p;
          if (g.has(burstKey)) g.get(burstKey, &bp);
          fail(bp, std::string("defaults.guard.") + burstKey,
               std::string("must be at least 1 while ") + rateKey +
                   " is set (0 would drop every packet)");
        }
      };
      flood("udp_per_dest_pps", doc.guard.udpPerDestPps, "udp_per_dest_burst",
            doc.guard.udpPerDestBurst);
      flood("icmp_per_dest_pps", doc.guard.icmpPerDestPps, "icmp_per_dest_burst",
            doc.guard.icmpPerDestBurst);
      flood("fragments_per_dest_pps", doc.guard.fragmentsPerDestPps, "fragments_per_dest_burst",
            doc.guard.fragmentsPerDestBurst);
    }
  }

  std::vector<Prefix> prefixList(const YAML::Node& n, const SourcePos& pos,
                                 const std::string& path) {
    std::vector<Prefix> out;
    std::set<std::pair<std::array<uint8_t, 16>, uint8_t>> seen;
    forEach(n, pos, path, [&](const YAML::Node& item, SourcePos ip, const std::string& ipath) {
      const std::string text = scalar(item, ip, ipath);
      const auto prefix = Prefix::parse(text);
      if (!prefix) fail(ip, ipath, "'" + text + "' is not an address prefix (a.b.c.d/n or v6/n)");
      if (!prefix->hostBitsClear()) {
        fail(ip, ipath, "'" + text + "' has bits set beyond its length (typo?)");
      }
      // An allow-all or inside-everything prefix would defeat default deny.
      if (prefix->length == 0 || (prefix->isV4() && prefix->length == 96)) {
        fail(ip, ipath, "'" + text + "' covers every address; list real prefixes");
      }
      // IPv4 lives at ::ffff:0:0/96, so a short v6 prefix such as ::/8 would silently cover
      // every IPv4 address too.
      static const IpAddr kV4Zero = IpAddr::fromV4(uint32_t(0));
      if (prefix->length < 96 && prefix->contains(kV4Zero)) {
        fail(ip, ipath, "'" + text + "' covers every IPv4 address (IPv4 is held as ::ffff:0:0/96)");
      }
      // A set, not a scan: a list of 100k entries must not cost 10^10 comparisons.
      if (!seen.emplace(prefix->addr.bytes, prefix->length).second) {
        fail(ip, ipath, "duplicate prefix '" + text + "'");
      }
      out.push_back(*prefix);
    });
    return out;
  }

  ServiceSpec parseService(const YAML::Node& n, const SourcePos& pos, const std::string& path) {
    Map m(n, path, pos,
          {"name", "kind", "ismap", "fqdn", "cidr", "ports", "apps", "intercept", "tenant",
           "sanitize", "pins", "certificate", "description"});
    // `ports` is required too, but checked where it is read: an error in an earlier field that
    // is present is the more useful first report.
    for (const char* k : {"name", "kind"}) m.require(k);
    ServiceSpec s;
    SourcePos p;
    YAML::Node v = m.get("name", &p);
    s.pos = p;
    s.name = scalar(v, p, path + ".name");
    if (!validServiceName(s.name)) {
      fail(p, path + ".name", "'" + s.name + "' is not a valid name ([a-z0-9._-], 1..64)");
    }

    v = m.get("kind", &p);
    static constexpr std::pair<const char*, ServiceKind> kKinds[] = {
        {"cloud", ServiceKind::Cloud},
        {"lgwan-asp", ServiceKind::LgwanAsp},
        {"security-update", ServiceKind::SecurityUpdate},
        {"infrastructure", ServiceKind::Infrastructure}};
    s.kind = enumValue(v, p, path + ".kind", kKinds);

    if (m.has("ismap")) {
      v = m.get("ismap", &p);
      s.ismap = parseIsmap(Map(v, path + ".ismap", p, {"id", "expires"}));
    } else if (s.kind == ServiceKind::Cloud) {
      fail(m.pos(), path, "a service of kind cloud needs an ismap registration");
    }

    if (m.has("fqdn")) {
      std::set<std::string> seenNames;
      v = m.get("fqdn", &p);
      forEach(v, p, path + ".fqdn",
              [&](const YAML::Node& item, SourcePos ip, const std::string& ipath) {
                const std::string text = scalar(item, ip, ipath);
                auto name = normalizeFqdnPattern(text);
                if (!name) {
                  fail(ip, ipath,
                       "'" + text +
                           "' is not a valid name or wildcard (\"*.\" only as the whole first "
                           "label, and not directly above a top-level domain)");
                }
                if (!seenNames.insert(*name).second) {
                  fail(ip, ipath, "duplicate name '" + text + "'");
                }
                s.fqdns.push_back(std::move(*name));
              });
    }
    if (m.has("cidr")) {
      v = m.get("cidr", &p);
      s.cidrs = prefixList(v, p, path + ".cidr");
    }
    if (s.fqdns.empty() && s.cidrs.empty()) {
      fail(m.pos(), path, "a service needs at least one fqdn or cidr entry");
    }

    m.require("ports");
    v = m.get("ports", &p);
    forEach(v, p, path + ".ports",
            [&](const YAML::Node& item, SourcePos ip, const std::string& ipath) {
              const std::string text = scalar(item, ip, ipath);
              const auto r = parsePort(text);
              if (!r)
                fail(ip, ipath,
                     std::count(text.begin(), text.end(), '/') == 2
                         ? "'" + text + "': the protocol after the port is tls, any or (tcp) http"
                         : "'" + text + "' is not tcp/N, udp/N or tcp/LO-HI with 1..65535");
              if (r->lo == 0 || r->hi == 0) fail(ip, ipath, "'" + text + "': port 0 is not a port");
              if (r->lo > r->hi) fail(ip, ipath, "'" + text + "': range runs backwards");
              s.ports.push_back(*r);
            });
    if (s.ports.empty()) fail(p, path + ".ports", "at least one port is required");

    if (m.has("apps")) {
      std::set<std::string> seenApps;
      v = m.get("apps", &p);
      forEach(v, p, path + ".apps",
              [&](const YAML::Node& item, SourcePos ip, const std::string& ipath) {
                std::string text = scalar(item, ip, ipath);
                bool ok = !text.empty() && text.size() <= 32;
                for (char& c : text) {
                  c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
                  ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' ||
                              c == '-');
                }
                if (!ok)
                  fail(ip, ipath, "'" + text + "' is not an application name (nDPI's, e.g. tls)");
                if (!seenApps.insert(text).second)
                  fail(ip, ipath, "duplicate application '" + text + "'");
                s.apps.push_back(std::move(text));
              });
      if (s.apps.empty())
        fail(p, path + ".apps", "an empty list would allow nothing: omit the key");
    }
    if (m.has("intercept")) {
      v = m.get("intercept", &p);
      s.intercept = boolean(v, p, path + ".intercept");
    }
    if (m.has("sanitize")) {
      v = m.get("sanitize", &p);
      s.sanitize = boolean(v, p, path + ".sanitize");
      // Without interception the proxy never sees a body: the flag would be a silent no-op that
      // an approver would read as protection (like a tenant block without interception).
      if (s.sanitize && !s.intercept) {
        fail(p, path + ".sanitize", "sanitize: true needs intercept: true on the service");
      }
    }
    if (m.has("tenant")) {
      v = m.get("tenant", &p);
      s.tenant = parseTenant(Map(v, path + ".tenant", p, {"profile", "headers"}), s);
    }
    auto parsePins = [&](const YAML::Node& pv, SourcePos pp, const std::string& ppath) {
      std::set<std::string> seenPins;
      forEach(pv, pp, ppath, [&](const YAML::Node& item, SourcePos ip, const std::string& ipath) {
        const std::string text = scalar(item, ip, ipath);
        if (!validPin(text)) fail(ip, ipath, "'" + text + "' is not sha256//<base64 of 32 bytes>");
        if (!seenPins.insert(text).second) fail(ip, ipath, "duplicate pin");
        s.pins.push_back(text);
      });
      if (s.pins.empty()) fail(pp, ppath, "an empty list would pin nothing: omit the key");
    };
    if (m.has("pins")) {
      v = m.get("pins", &p);
      parsePins(v, p, path + ".pins");
    }
    if (m.has("certificate")) {
      v = m.get("certificate", &p);
      const std::string cpath = path + ".certificate";
      Map c(v, cpath, p, {"check", "pins", "ocsp"});
      SourcePos cp;
      if (c.has("check")) {
        const YAML::Node cv = c.get("check", &cp);
        const std::string mode = scalar(cv, cp, cpath + ".check");
        if (mode == "enforce") {
          s.certCheck = CertCheck::Enforce;
        } else if (mode == "log") {
          s.certCheck = CertCheck::Log;
        } else if (mode == "off") {
          s.certCheck = CertCheck::Off;
        } else {
          fail(cp, cpath + ".check", "'" + mode + "' is not enforce, log or off");
        }
      }
      if (c.has("pins")) {
        const YAML::Node cv = c.get("pins", &cp);
        if (!s.pins.empty()) fail(cp, cpath + ".pins", "pins are given twice (also `pins:`)");
        parsePins(cv, cp, cpath + ".pins");
      }
      if (c.has("ocsp")) {
        const YAML::Node cv = c.get("ocsp", &cp);
        const std::string mode = scalar(cv, cp, cpath + ".ocsp");
        if (mode == "off") {
          s.ocsp = OcspCheck::Off;
        } else if (mode == "prefer") {
          s.ocsp = OcspCheck::Prefer;
        } else if (mode == "require") {
          s.ocsp = OcspCheck::Require;
        } else {
          fail(cp, cpath + ".ocsp", "'" + mode + "' is not off, prefer or require");
        }
      }
      if (s.certCheck == CertCheck::Off && !s.pins.empty()) {
        fail(p, cpath, "pins need the check: 'check: off' would ignore them");
      }
      if (s.certCheck == CertCheck::Off && s.ocsp == OcspCheck::Require) {
        fail(p, cpath, "'ocsp: require' needs the check: 'check: off' would ignore it");
      }
    }
    if (m.has("description")) {
      v = m.get("description", &p);
      s.description = scalar(v, p, path + ".description");
      for (unsigned char c : s.description) {
        if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f) {
          fail(p, path + ".description", "control characters are not allowed");
        }
      }
    }
    return s;
  }

  // `tenant: {profile: entra-v1, headers: {Restrict-Access-To-Tenants: "...", ...}}`. Header
  // names are matched case-insensitively and stored in the profile's spelling.
  TenantSpec parseTenant(const Map& m, const ServiceSpec& s) {
    m.require("profile");
    m.require("headers");
    TenantSpec out;
    SourcePos profilePos;
    YAML::Node v = m.get("profile", &profilePos);
    out.profile = scalar(v, profilePos, m.join("profile"));
    const TenantProfile* profile = findTenantProfile(out.profile);
    if (!profile) {
      std::string list;
      for (const auto& tp : tenantProfiles()) list += std::string(list.empty() ? "" : " | ") + tp.name;
      fail(profilePos, m.join("profile"), "expected " + list + ", got '" + out.profile + "'");
    }
    // Interception is what makes the header reach the vendor; without it the block would be
    // a silent no-op that an approver would read as protection.
    if (!s.intercept) {
      fail(m.pos(), m.path(), "a tenant profile needs intercept: true on the service");
    }
    for (const char* host : profile->hosts) {
      bool listed = false;
      for (const auto& f : s.fqdns) listed = listed || f == host;
      if (!listed) {
        fail(profilePos, m.join("profile"),
             "profile " + out.profile + " needs host '" + host +
                 "', which this service's fqdn list does not contain");
      }
    }
    SourcePos hp;
    v = m.get("headers", &hp);
    const std::string hpath = m.join("headers");
    if (!v.IsMap()) fail(hp, hpath, "expected a mapping, got " + Map::kindName(v));
    std::vector<std::string> values(profile->headers.size());
    std::vector<bool> seen(profile->headers.size(), false);
    for (const auto& kv : v) {
      const SourcePos keyPos = posOf(kv.first, hp);
      if (!kv.first.IsScalar()) fail(keyPos, hpath, "keys must be plain names");
      const std::string key = kv.first.Scalar();
      size_t idx = profile->headers.size();
      for (size_t i = 0; i < profile->headers.size(); ++i) {
        if (equalsIgnoreCase(key, profile->headers[i])) idx = i;
      }
      if (idx == profile->headers.size()) {
        fail(keyPos, hpath + "." + key, "not a header of profile " + out.profile);
      }
      if (seen[idx]) fail(keyPos, hpath + "." + key, "duplicate header");
      seen[idx] = true;
      const SourcePos valuePos = kv.second.IsNull() ? keyPos : posOf(kv.second, keyPos);
      values[idx] = scalar(kv.second, valuePos, hpath + "." + key);
      if (!validTenantHeaderValue(values[idx])) {
        fail(valuePos, hpath + "." + key,
             "not a header value (1..4096 visible ASCII characters, inner spaces; no line breaks)");
      }
    }
    for (size_t i = 0; i < profile->headers.size(); ++i) {
      if (!seen[i]) {
        fail(hp, hpath,
             std::string("missing header '") + profile->headers[i] + "' of profile " + out.profile);
      }
      out.headers.emplace_back(profile->headers[i], values[i]);
    }
    return out;
  }

  static bool equalsIgnoreCase(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
      if (std::tolower(static_cast<unsigned char>(a[i])) !=
          std::tolower(static_cast<unsigned char>(b[i])))
        return false;
    }
    return true;
  }

  Ismap parseIsmap(const Map& m) {
    m.require("id");
    m.require("expires");
    Ismap out;
    SourcePos p;
    YAML::Node v = m.get("id", &p);
    out.id = scalar(v, p, m.join("id"));
    if (!validIsmapId(out.id)) {
      fail(p, m.join("id"), "'" + out.id + "' is not a registration number ([A-Za-z0-9-])");
    }
    v = m.get("expires", &p);
    out.expires = scalar(v, p, m.join("expires"));
    const auto date = parseDate(out.expires);
    if (!date) fail(p, m.join("expires"), "'" + out.expires + "' is not a date (YYYY-MM-DD)");
    // `expires` is the last valid day: the service is still allowed on that day.
    if (*date < today_) {
      fail(p, m.join("expires"), "ISMAP registration " + out.id + " expired on " + out.expires);
    }
    return out;
  }

  std::chrono::sys_days today_;
  std::string fileName_;
};

// Counts document starts and nothing else.
class DocumentCounter : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark& mark) override {
    if (++count == 2) second = mark;
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}

  int count = 0;
  YAML::Mark second = YAML::Mark::null_mark();
};

// Where a second document starts, if there is one. Not YAML::LoadAll(): in yaml-cpp 0.7 it loops
// forever on a stray token at document level (input ","), because each round yields an empty
// document without consuming the token. Here the loop stops at the second document.
std::optional<SourcePos> secondDocumentStart(const std::string& text) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  DocumentCounter counter;
  while (counter.count < 2 && parser.HandleNextDocument(counter)) {
  }
  if (counter.count < 2) return std::nullopt;
  return SourcePos{counter.second.line + 1, counter.second.column + 1};
}

// YAML double-quoted scalar: escapes what YAML would otherwise read differently.
std::string quote(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          static constexpr char kHex[] = "0123456789abcdef";
          out += "\\x";
          out += kHex[c >> 4];
          out += kHex[c & 15];
        } else {
          out += char(c);
        }
    }
  }
  return out + "\"";
}

template <class T, class Fn>
std::string flowList(const std::vector<T>& items, Fn&& text) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += ", ";
    out += quote(text(items[i]));
  }
  return out + "]";
}

}  // namespace

Result<PolicyDoc> parsePolicyText(std::string_view yamlText, std::string_view fileName,
                                  std::chrono::sys_days today) {
  const std::string file(fileName);
  if (yamlText.size() > kMaxPolicyBytes) {
    return Error{"policy is larger than " + std::to_string(kMaxPolicyBytes) + " bytes", file};
  }
  try {
    const std::string text(yamlText);
    if (auto second = secondDocumentStart(text)) {
      return Error{"a policy file holds exactly one YAML document (or has a stray token)", file,
                   second->line, second->column};
    }
    return DocParser(today, fileName).parse(YAML::Load(text));
  } catch (const SchemaError& e) {
    return Error{e.message, file, e.line, e.column};
  } catch (const YAML::Exception& e) {
    // e.msg is the bare message; e.what() would repeat the position in yaml-cpp's own format.
    if (e.mark.is_null()) return Error{"YAML: " + e.msg, file};
    return Error{"YAML syntax: " + e.msg, file, e.mark.line + 1, e.mark.column + 1};
  } catch (const std::exception& e) {
    return Error{std::string("policy could not be read: ") + e.what(), file};
  }
}

Result<PolicyDoc> parsePolicyFile(const std::string& path, std::chrono::sys_days today) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{std::string("cannot open: ") + std::strerror(errno), path};
  std::string text;
  char buf[65536];
  while (in.read(buf, sizeof(buf)) || in.gcount() > 0) {
    text.append(buf, size_t(in.gcount()));
    if (text.size() > kMaxPolicyBytes) {
      return Error{"policy is larger than " + std::to_string(kMaxPolicyBytes) + " bytes", path};
    }
  }
  if (in.bad()) return Error{"read error", path};
  return parsePolicyText(text, path, today);
}

std::string toYaml(const PolicyDoc& doc) {
  std::ostringstream o;
  o << "version: " << doc.schemaVersion << "\n";
  o << "approval: " << (doc.approvalRequired ? "required" : "none") << "\n";
  o << "segment:\n  inside: " << flowList(doc.inside, [](const Prefix& p) { return p.toString(); })
    << "\n";
  o << "defaults:\n";
  o << "  deny: " << toString(doc.denyAction) << "\n";
  o << "  quic: " << toString(doc.quic) << "\n";
  o << "  ech: " << toString(doc.ech) << "\n";
  o << "  sni_dns: " << toString(doc.sniDns) << "\n";
  o << "  reload: " << toString(doc.reload) << "\n";
  o << "  guard: {new_flows_per_sec: " << doc.guard.newFlowsPerSec
    << ", new_flow_burst: " << doc.guard.newFlowBurst
    << ", max_flows_per_source: " << doc.guard.maxFlowsPerSource
    << ",\n          udp_per_dest_pps: " << doc.guard.udpPerDestPps
    << ", udp_per_dest_burst: " << doc.guard.udpPerDestBurst
    << ", icmp_per_dest_pps: " << doc.guard.icmpPerDestPps
    << ", icmp_per_dest_burst: " << doc.guard.icmpPerDestBurst
    << ",\n          fragments_per_dest_pps: " << doc.guard.fragmentsPerDestPps
    << ", fragments_per_dest_burst: " << doc.guard.fragmentsPerDestBurst << "}\n";
  if (doc.dnsResolvers || doc.dnsQueries != DnsQueries::Services) {
    o << "dns:\n";
    if (doc.dnsResolvers) {
      o << "  resolvers: "
        << flowList(*doc.dnsResolvers, [](const Prefix& p) { return p.toString(); }) << "\n";
    }
    if (doc.dnsQueries != DnsQueries::Services) o << "  queries: " << toString(doc.dnsQueries) << "\n";
  }
  if (doc.ids) {
    o << "ids:\n  rules: " << flowList(doc.ids->rules, [](const std::string& r) { return r; })
      << "\n  mode: " << toString(doc.ids->mode) << "\n  on_fault: " << toString(doc.ids->onFault)
      << "\n";
  }
  if (doc.services.empty()) {
    o << "services: []\n";
    return o.str();
  }
  o << "services:\n";
  for (const auto& s : doc.services) {
    o << "  - name: " << quote(s.name) << "\n";
    o << "    kind: " << toString(s.kind) << "\n";
    if (s.ismap) {
      o << "    ismap: {id: " << quote(s.ismap->id) << ", expires: " << quote(s.ismap->expires)
        << "}\n";
    }
    if (!s.fqdns.empty()) {
      o << "    fqdn: " << flowList(s.fqdns, [](const std::string& n) { return n; }) << "\n";
    }
    if (!s.cidrs.empty()) {
      o << "    cidr: " << flowList(s.cidrs, [](const Prefix& p) { return p.toString(); }) << "\n";
    }
    o << "    ports: " << flowList(s.ports, [](const PortRange& r) { return toString(r); }) << "\n";
    if (!s.apps.empty()) {
      o << "    apps: " << flowList(s.apps, [](const std::string& a) { return a; }) << "\n";
    }
    o << "    intercept: " << (s.intercept ? "true" : "false") << "\n";
    if (s.tenant) {
      o << "    tenant:\n      profile: " << quote(s.tenant->profile) << "\n      headers:\n";
      for (const auto& [name, value] : s.tenant->headers) {
        o << "        " << quote(name) << ": " << quote(value) << "\n";
      }
    }
    if (s.sanitize) o << "    sanitize: true\n";
    if (!s.pins.empty()) {
      o << "    pins: " << flowList(s.pins, [](const std::string& x) { return x; }) << "\n";
    }
    if (s.certCheck != CertCheck::Enforce || s.ocsp != OcspCheck::Prefer) {
      // "off" quoted: YAML 1.1 readers take a bare off for a boolean.
      o << "    certificate: {check: " << toString(s.certCheck) << ", ocsp: \""
        << toString(s.ocsp) << "\"}\n";
    }
    if (!s.description.empty()) o << "    description: " << quote(s.description) << "\n";
  }
  return o.str();
}

}  // namespace lbg::policy
