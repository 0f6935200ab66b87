#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "policy/base/ip_addr.h"

// The compiled form of one Suricata rule (the subset lbg reads: policy/ids/README.md).
// Built once by the parser, never changed afterwards; the engine (dataplane/ids/) reads it.
namespace lbg::ids {

enum class Action : uint8_t { Alert, Drop, Reject, Pass };

// Bit set: a rule or a buffer applies to one direction or both.
enum Direction : uint8_t { kToServer = 1, kToClient = 2, kBothDirections = 3 };

// Where content is looked for: the payload (stream or datagram) or one sticky buffer.
enum class Buffer : uint8_t {
  Payload,
  TlsSni,
  TlsCertSubject,
  TlsCertIssuer,
  HttpHost,
  HttpUri,
  HttpMethod,
  HttpUserAgent,
  HttpHeader,
  HttpHeaderNames,
  HttpCookie,
  HttpContentType,
  HttpReferer,
  HttpRequestLine,
  HttpRequestBody,
  HttpStatCode,
  HttpResponseBody,
  FileData,
  DnsQuery,
  HttpUriRaw,  // the later ones last, so the earlier values (fuzz seeds, tests) keep their meaning
  TlsCerts,    // each certificate of the server's chain (DER), one at a time: a multi-buffer
  HttpStart,
  HttpHeaderRaw,
  HttpProtocol,
  HttpAccept,
  HttpAcceptEnc,
  HttpConnection,
  HttpContentLen,
  HttpLocation,
  HttpServer,
  HttpResponseLine,
  HttpStatMsg,
  Count
};
inline constexpr int kBufferCount = int(Buffer::Count);

struct BufferInfo {
  const char* name;  // Suricata 7 sticky-buffer keyword
  // The Suricata 5 sticky name ET still uses (content modifiers like http_uri: rule_parser.cc).
  const char* legacyName;
  uint8_t directions;  // Direction bits the buffer exists in
};
const BufferInfo& bufferInfo(Buffer b);

// A numeric comparison (dsize, bsize): `N`, `<N`, `>N`, `<=N`, `>=N`, `!N`, `A<>B`.
struct Range {
  enum class Op : uint8_t { Eq, Ne, Lt, Gt, Le, Ge, Between } op = Op::Eq;
  uint64_t lo = 0;
  uint64_t hi = 0;
  bool matches(uint64_t v) const {
    switch (op) {
      case Op::Eq:
        return v == lo;
      case Op::Ne:
        return v != lo;
      case Op::Lt:
        return v < lo;
      case Op::Gt:
        return v > lo;
      case Op::Le:
        return v <= lo;
      case Op::Ge:
        return v >= lo;
      case Op::Between:
        return v > lo && v < hi;
    }
    return false;
  }
};

struct Content {
  std::string bytes;
  bool nocase = false;
  bool negated = false;
  bool fastPattern = false;
  bool startsWith = false;
  bool endsWith = false;
  std::optional<int32_t> offset, depth, distance, within;
  // fast_pattern:<offset>,<length> (chop): the literal the prefilter uses is this slice.
  uint16_t fpOffset = 0;
  uint16_t fpLength = 0;  // 0: the whole content
  bool relative() const { return distance || within; }
};

struct Pcre {
  std::string pattern;   // without the slashes
  uint32_t options = 0;  // PCRE2_* compile options
  bool relative = false;
  bool negated = false;
};

enum class NumBase : uint8_t { Raw, Dec, Hex, Oct };

struct ByteTest {
  uint8_t nbytes = 1;
  char op = '=';  // < > = & ^ and 'l' (<=), 'g' (>=)
  bool negated = false;
  uint64_t value = 0;
  int32_t offset = 0;
  bool relative = false;
  bool littleEndian = false;
  NumBase base = NumBase::Raw;
  uint64_t bitmask = 0;  // 0: none
};

struct ByteJump {
  uint8_t nbytes = 1;
  int32_t offset = 0;
  bool relative = false;
  bool littleEndian = false;
  NumBase base = NumBase::Raw;
  uint32_t multiplier = 1;
  bool align = false;
  bool fromBeginning = false;
  bool fromEnd = false;
  int32_t postOffset = 0;
  uint64_t bitmask = 0;
};

struct IsDataAt {
  int32_t offset = 0;
  bool relative = false;
  bool negated = false;
};

using Match = std::variant<Content, Pcre, ByteTest, ByteJump, IsDataAt>;

// The inspections of one buffer, in rule order (relative options chain within a buffer).
struct BufferMatches {
  Buffer buffer = Buffer::Payload;
  bool dotPrefix = false;  // transform `dotprefix`: a '.' is put in front of the buffer
  std::optional<Range> bsize;
  std::vector<Match> items;
};

struct Cidr {
  IpAddr addr;
  uint8_t prefix = 128;  // over the IPv4-mapped form for IPv4
  bool contains(const IpAddr& a) const;
};

struct AddressSet {
  std::vector<Cidr> include;  // empty: any
  std::vector<Cidr> exclude;
  bool matches(const IpAddr& a) const;
};

struct PortSet {
  std::vector<std::pair<uint16_t, uint16_t>> include;  // empty: any
  std::vector<std::pair<uint16_t, uint16_t>> exclude;
  bool matches(uint16_t p) const;
};

// `ip` matches everything; app protocols imply TCP or UDP and need the flow's application.
enum class Protocol : uint8_t { Ip, Tcp, Udp, Icmp, Http, Tls, Dns };

struct Header {
  Protocol protocol = Protocol::Ip;
  AddressSet src, dst;
  PortSet srcPorts, dstPorts;
  bool bidirectional = false;  // `<>`
};

struct FlowOption {
  uint8_t directions = kBothDirections;
  bool established = false;
  bool notEstablished = false;
  bool stateless = false;
};

struct Flowbit {
  enum class Op : uint8_t { Set, Unset, Toggle, IsSet, IsNotSet } op = Op::Set;
  bool any = false;  // names joined by `|`: one suffices; `&` (default): all
  std::vector<std::string> names;
  std::vector<uint16_t> ids;  // assigned by the rule set, one per name
};

struct Threshold {
  enum class Type : uint8_t { Limit, Threshold, Both, DetectionFilter } type = Type::Limit;
  enum class Track : uint8_t { BySrc, ByDst, ByRule, ByBoth } track = Track::BySrc;
  uint32_t count = 1;
  uint32_t seconds = 1;
};

struct Rule {
  Action action = Action::Alert;
  Header header;
  std::string msg;
  uint32_t sid = 0;
  uint32_t rev = 1;
  uint32_t gid = 1;
  std::string classtype;
  int priority = 0;  // 0: from the classtype (3 if it has none)
  std::vector<std::pair<std::string, std::string>> metadata;
  std::vector<std::string> references;
  FlowOption flow;
  std::vector<Flowbit> flowbits;
  bool noalert = false;
  std::optional<Range> dsize;
  std::optional<Threshold> threshold;
  std::optional<Threshold> detectionFilter;
  std::vector<BufferMatches> buffers;
  // The content the prefilter looks for: buffers[fpBuffer].items[fpItem]; fpBuffer < 0: none
  // (the rule is tried on every scan of the buffers it inspects).
  int fpBuffer = -1;
  int fpItem = -1;
  // Where the rule was read (set by the RuleSetBuilder), for reports.
  std::string file;
  int line = 0;

  // Directions the rule can match in: the flow option's, narrowed by the buffers it uses.
  uint8_t directions() const;
};

}  // namespace lbg::ids
