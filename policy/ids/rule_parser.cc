#include "policy/ids/rule_parser.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>  // for the option bits only; compiling is the engine's

#include <algorithm>
#include <cctype>
#include <charconv>

namespace lbg::ids {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(uint8_t(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(uint8_t(s.back()))) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> splitComma(std::string_view s) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i)
    if (i == s.size() || s[i] == ',') {
      out.push_back(trim(s.substr(start, i - start)));
      start = i + 1;
    }
  return out;
}

bool parseInt(std::string_view s, int64_t lo, int64_t hi, int64_t& out) {
  s = trim(s);
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size() && out >= lo && out <= hi;
}

bool parseU64(std::string_view s, uint64_t& out) {
  s = trim(s);
  int base = 10;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) s.remove_prefix(2), base = 16;
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out, base);
  return ec == std::errc() && p == s.data() + s.size();
}

// `N`, `<N`, `>N`, `<=N`, `>=N`, `!N`, `A<>B`, `A-B`.
bool parseRange(std::string_view s, Range& r) {
  s = trim(s);
  if (auto p = s.find("<>"); p != std::string_view::npos) {
    r.op = Range::Op::Between;
    return parseU64(s.substr(0, p), r.lo) && parseU64(s.substr(p + 2), r.hi) && r.lo < r.hi;
  }
  if (auto p = s.find('-'); p != std::string_view::npos && p > 0) {
    r.op = Range::Op::Between;
    return parseU64(s.substr(0, p), r.lo) && parseU64(s.substr(p + 1), r.hi) && r.lo < r.hi;
  }
  r.op = Range::Op::Eq;
  if (s.starts_with("<="))
    r.op = Range::Op::Le, s.remove_prefix(2);
  else if (s.starts_with(">="))
    r.op = Range::Op::Ge, s.remove_prefix(2);
  else if (s.starts_with("<"))
    r.op = Range::Op::Lt, s.remove_prefix(1);
  else if (s.starts_with(">"))
    r.op = Range::Op::Gt, s.remove_prefix(1);
  else if (s.starts_with("!"))
    r.op = Range::Op::Ne, s.remove_prefix(1);
  else if (s.starts_with("="))
    s.remove_prefix(1);
  return parseU64(s, r.lo);
}

// A quoted value with Suricata's escapes (\" \; \\ \:) removed; `hex` also decodes |xx xx|.
bool unquote(std::string_view v, bool hex, std::string& out, std::string& error) {
  v = trim(v);
  if (v.size() < 2 || v.front() != '"' || v.back() != '"')
    return error = "value must be quoted", false;
  v = v.substr(1, v.size() - 2);
  out.clear();
  bool inHex = false;
  int nibbles = 0;
  uint8_t acc = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    char c = v[i];
    if (hex && c == '|') {
      if (inHex && nibbles == 1) return error = "odd number of hex digits", false;
      inHex = !inHex;
      nibbles = 0;
      continue;
    }
    if (inHex) {
      if (c == ' ') {
        if (nibbles == 1) return error = "odd number of hex digits", false;
        continue;
      }
      if (!std::isxdigit(uint8_t(c)))
        return error = std::string("bad hex digit '") + c + "'", false;
      uint8_t d = uint8_t(std::isdigit(uint8_t(c)) ? c - '0' : (std::tolower(c) - 'a' + 10));
      acc = uint8_t(acc << 4 | d);
      if (++nibbles == 2) out.push_back(char(acc)), nibbles = 0, acc = 0;
      continue;
    }
    if (c == '\\') {
      if (++i == v.size()) return error = "dangling escape", false;
      out.push_back(v[i]);
      continue;
    }
    if (c == '"' || (hex && c == ';'))
      return error = "unescaped '" + std::string(1, c) + "'", false;
    out.push_back(c);
  }
  if (inHex) return error = "unterminated hex block", false;
  return true;
}

struct Option {
  std::string_view name;
  std::string_view value;
  bool hasValue = false;
  int column = 0;
};

class Parser {
 public:
  Parser(const Variables& vars, const Classifications* classes) : vars_(vars), classes_(classes) {}

  ParsedRule run(std::string_view text) {
    ParsedRule out;
    if (!parse(text)) {
      out.error = error_;
      return out;
    }
    out.rule = std::move(rule_);
    return out;
  }

 private:
  bool fail(std::string_view keyword, std::string message, int column) {
    error_ = {std::string(keyword), std::move(message), column};
    return false;
  }

  bool parse(std::string_view text) {
    size_t open = text.find('(');
    if (open == std::string_view::npos) return fail("header", "no option list '('", 1);
    std::string_view t = trim(text);
    if (t.empty() || t.back() != ')')
      return fail("header", "rule does not end with ')'", int(text.size()));
    if (!parseHeader(text.substr(0, open))) return false;
    size_t close = text.rfind(')');
    return parseOptions(text, open + 1, close) && finish();
  }

  // Tokens of the header split at spaces outside brackets.
  bool parseHeader(std::string_view h) {
    std::vector<std::pair<std::string_view, int>> tok;
    int nest = 0;
    size_t start = std::string_view::npos;
    for (size_t i = 0; i <= h.size(); ++i) {
      bool end = i == h.size() || (nest == 0 && std::isspace(uint8_t(h[i])));
      if (i < h.size() && h[i] == '[') ++nest;
      if (i < h.size() && h[i] == ']') --nest;
      if (end) {
        if (start != std::string_view::npos)
          tok.emplace_back(h.substr(start, i - start), int(start) + 1);
        start = std::string_view::npos;
      } else if (start == std::string_view::npos) {
        start = i;
      }
    }
    if (tok.size() != 7)
      return fail("header", "expected 7 header fields, got " + std::to_string(tok.size()), 1);
    auto& [act, actCol] = tok[0];
    if (act == "alert")
      rule_.action = Action::Alert;
    else if (act == "drop")
      rule_.action = Action::Drop;
    else if (act == "reject" || act == "rejectsrc" || act == "rejectdst" || act == "rejectboth")
      rule_.action = Action::Reject;
    else if (act == "pass")
      rule_.action = Action::Pass;
    else
      return fail("action", "unknown action '" + std::string(act) + "'", actCol);
    if (!parseProtocol(tok[1].first, rule_.header.protocol))
      return fail("protocol " + std::string(tok[1].first), "unsupported protocol", tok[1].second);
    std::string why;
    if (!parseAddressSet(tok[2].first, vars_, rule_.header.src, why))
      return fail("header", why, tok[2].second);
    if (!parsePortSet(tok[3].first, vars_, rule_.header.srcPorts, why))
      return fail("header", why, tok[3].second);
    if (tok[4].first == "<>")
      rule_.header.bidirectional = true;
    else if (tok[4].first != "->")
      return fail("header", "direction must be -> or <>", tok[4].second);
    if (!parseAddressSet(tok[5].first, vars_, rule_.header.dst, why))
      return fail("header", why, tok[5].second);
    if (!parsePortSet(tok[6].first, vars_, rule_.header.dstPorts, why))
      return fail("header", why, tok[6].second);
    return true;
  }

  bool parseOptions(std::string_view text, size_t i, size_t end) {
    while (true) {
      while (i < end && std::isspace(uint8_t(text[i]))) ++i;
      if (i >= end) return true;
      Option o;
      o.column = int(i) + 1;
      size_t nameStart = i;
      while (i < end && text[i] != ':' && text[i] != ';') ++i;
      o.name = trim(text.substr(nameStart, i - nameStart));
      if (o.name.empty()) return fail("option", "option without a name", o.column);
      if (i >= end) return fail(o.name, "option not terminated by ';'", o.column);
      if (text[i] == ':') {
        size_t vs = ++i;
        bool quoted = false;
        for (; i < end; ++i) {
          if (text[i] == '\\') {
            ++i;
            continue;
          }
          if (text[i] == '"') quoted = !quoted;
          if (text[i] == ';' && !quoted) break;
        }
        if (i >= end) return fail(o.name, "option not terminated by ';'", o.column);
        o.value = trim(text.substr(vs, i - vs));
        o.hasValue = true;
      }
      ++i;  // ';'
      if (!option(o)) return false;
    }
  }

  BufferMatches& buffer() {
    if (current_ < 0) current_ = selectBuffer(Buffer::Payload);
    return rule_.buffers[current_];
  }
  int selectBuffer(Buffer b) {
    for (size_t k = 0; k < rule_.buffers.size(); ++k)
      if (rule_.buffers[k].buffer == b) return int(k);
    rule_.buffers.push_back({});
    rule_.buffers.back().buffer = b;
    return int(rule_.buffers.size() - 1);
  }

  Content* lastContent(const Option& o) {
    if (lastContentBuffer_ < 0) {
      fail(o.name, "needs a preceding content", o.column);
      return nullptr;
    }
    return &std::get<Content>(rule_.buffers[lastContentBuffer_].items[lastContentItem_]);
  }

  bool needValue(const Option& o) { return o.hasValue || fail(o.name, "needs a value", o.column); }

  // urilen:RANGE[,raw|norm] is Suricata's `http.uri; bsize:RANGE` (norm, the default) or
  // `http.uri.raw; bsize:RANGE` (raw) without changing the buffer later contents go to
  // (detect-urilen.c: raw_buffer selects the raw URI list).
  bool urilen(const Option& o) {
    if (!needValue(o)) return false;
    std::string_view v = o.value;
    Buffer uri = Buffer::HttpUri;
    if (const size_t comma = v.find(','); comma != std::string_view::npos) {
      const std::string_view mod = trim(v.substr(comma + 1));
      if (mod != "raw" && mod != "norm")
        return fail("urilen", "unsupported option '" + std::string(mod) + "'", o.column);
      if (mod == "raw") uri = Buffer::HttpUriRaw;
      v = v.substr(0, comma);
    }
    Range r;
    if (!parseRange(v, r)) return fail("urilen", "bad range", o.column);
    const int saved = current_;
    const int k = selectBuffer(uri);
    current_ = saved;
    if (rule_.buffers[k].bsize)
      return fail("urilen", std::string(bufferInfo(uri).name) + " already has a bsize", o.column);
    rule_.buffers[k].bsize = r;
    return true;
  }

  bool number(const Option& o, int64_t lo, int64_t hi, int64_t& v) {
    if (!needValue(o)) return false;
    if (!parseInt(o.value, lo, hi, v))
      return fail(o.name, "bad number '" + std::string(o.value) + "'", o.column);
    return true;
  }

  bool option(const Option& o) {
    const std::string_view n = o.name;
    for (int b = 0; b < kBufferCount; ++b) {
      const auto& info = bufferInfo(Buffer(b));
      if (n == info.name || (info.legacyName && n == info.legacyName)) {
        if (o.hasValue) return fail(n, "takes no value", o.column);
        current_ = selectBuffer(Buffer(b));
        return true;
      }
    }
    if (n == "msg") {
      std::string why;
      if (!needValue(o)) return false;
      if (!unquote(o.value, false, rule_.msg, why)) return fail(n, why, o.column);
      return true;
    }
    int64_t v;
    if (n == "sid") return number(o, 1, UINT32_MAX, v) && (rule_.sid = uint32_t(v), true);
    if (n == "rev") return number(o, 0, UINT32_MAX, v) && (rule_.rev = uint32_t(v), true);
    if (n == "gid") return number(o, 0, UINT32_MAX, v) && (rule_.gid = uint32_t(v), true);
    if (n == "priority") return number(o, 1, 255, v) && (rule_.priority = int(v), true);
    if (n == "classtype")
      return needValue(o) &&
             (rule_.classtype = std::string(o.value), classtypeColumn_ = o.column, true);
    if (n == "reference") return needValue(o) && (rule_.references.emplace_back(o.value), true);
    if (n == "metadata") {
      if (!needValue(o)) return false;
      for (auto item : splitComma(o.value)) {
        auto sp = item.find(' ');
        rule_.metadata.emplace_back(
            std::string(item.substr(0, sp)),
            sp == std::string_view::npos ? "" : std::string(trim(item.substr(sp))));
      }
      return true;
    }
    if (n == "target" || n == "rawbytes") return true;  // no effect on matching
    if (n == "noalert")
      return !o.hasValue ? (rule_.noalert = true) : fail(n, "takes no value", o.column);
    if (n == "pkt_data") return current_ = selectBuffer(Buffer::Payload), true;
    if (n == "flow") return flow(o);
    if (n == "flowbits") return flowbits(o);
    if (n == "dsize") {
      Range r;
      if (!needValue(o) || !parseRange(o.value, r)) return fail(n, "bad range", o.column);
      return rule_.dsize = r, true;
    }
    if (n == "bsize") {
      Range r;
      if (!needValue(o) || !parseRange(o.value, r)) return fail(n, "bad range", o.column);
      return buffer().bsize = r, true;
    }
    if (n == "urilen") return urilen(o);
    if (n == "dotprefix") {
      if (current_ < 0 || rule_.buffers[current_].buffer == Buffer::Payload ||
          !buffer().items.empty())
        return fail(n, "only directly after a sticky buffer", o.column);
      return buffer().dotPrefix = true, true;
    }
    if (n == "threshold" || n == "detection_filter") return threshold(o);
    if (n == "content") return content(o);
    for (const auto& [name, buffer] : kContentModifiers)
      if (n == name) return contentModifier(o, buffer);
    if (n == "nocase" || n == "fast_pattern" || n == "startswith" || n == "endswith")
      return flagModifier(o);
    if (n == "offset" || n == "depth" || n == "distance" || n == "within") return numberModifier(o);
    if (n == "pcre") return pcre(o);
    if (n == "byte_test") return byteTest(o);
    if (n == "byte_jump") return byteJump(o);
    if (n == "isdataat") return isDataAt(o);
    return fail(n, "unsupported keyword", o.column);
  }

  bool flow(const Option& o) {
    if (!needValue(o)) return false;
    uint8_t dirs = kBothDirections;
    for (auto f : splitComma(o.value)) {
      if (f == "established")
        rule_.flow.established = true;
      else if (f == "not_established")
        rule_.flow.notEstablished = true;
      else if (f == "stateless")
        rule_.flow.stateless = true;
      else if (f == "to_server" || f == "from_client")
        dirs &= kToServer;
      else if (f == "to_client" || f == "from_server")
        dirs &= kToClient;
      else if (f == "only_stream" || f == "no_stream")
        continue;  // lbg scans what it forwards
      else
        return fail("flow", "unsupported flow option '" + std::string(f) + "'", o.column);
    }
    if (dirs == 0) return fail("flow", "both to_server and to_client", o.column);
    rule_.flow.directions = dirs;
    return true;
  }

  bool flowbits(const Option& o) {
    if (!needValue(o)) return false;
    auto comma = o.value.find(',');
    std::string_view cmd = trim(o.value.substr(0, comma));
    if (cmd == "noalert")
      return comma == std::string_view::npos ? (rule_.noalert = true)
                                             : fail("flowbits", "noalert takes no name", o.column);
    Flowbit fb;
    if (cmd == "set")
      fb.op = Flowbit::Op::Set;
    else if (cmd == "unset")
      fb.op = Flowbit::Op::Unset;
    else if (cmd == "toggle")
      fb.op = Flowbit::Op::Toggle;
    else if (cmd == "isset")
      fb.op = Flowbit::Op::IsSet;
    else if (cmd == "isnotset")
      fb.op = Flowbit::Op::IsNotSet;
    else
      return fail("flowbits", "unknown command '" + std::string(cmd) + "'", o.column);
    if (comma == std::string_view::npos) return fail("flowbits", "needs a name", o.column);
    std::string_view names = trim(o.value.substr(comma + 1));
    bool hasOr = names.find('|') != std::string_view::npos,
         hasAnd = names.find('&') != std::string_view::npos;
    if (hasOr && hasAnd) return fail("flowbits", "mixes '|' and '&'", o.column);
    if (hasOr && fb.op != Flowbit::Op::IsSet && fb.op != Flowbit::Op::IsNotSet)
      return fail("flowbits", "'|' only with isset/isnotset", o.column);
    fb.any = hasOr;
    size_t start = 0;
    for (size_t i = 0; i <= names.size(); ++i)
      if (i == names.size() || names[i] == '|' || names[i] == '&') {
        auto name = trim(names.substr(start, i - start));
        if (name.empty() || name.find_first_of(" ,") != std::string_view::npos)
          return fail("flowbits", "bad name '" + std::string(name) + "'", o.column);
        fb.names.emplace_back(name);
        start = i + 1;
      }
    rule_.flowbits.push_back(std::move(fb));
    return true;
  }

  bool threshold(const Option& o) {
    if (!needValue(o)) return false;
    Threshold t;
    bool detection = o.name == "detection_filter";
    if (detection) t.type = Threshold::Type::DetectionFilter;
    bool haveType = detection, haveTrack = false, haveCount = false, haveSeconds = false;
    for (auto part : splitComma(o.value)) {
      auto sp = part.find(' ');
      if (sp == std::string_view::npos)
        return fail(o.name, "bad item '" + std::string(part) + "'", o.column);
      auto k = part.substr(0, sp), val = trim(part.substr(sp));
      int64_t num;
      if (k == "type" && !detection) {
        haveType = true;
        if (val == "limit")
          t.type = Threshold::Type::Limit;
        else if (val == "threshold")
          t.type = Threshold::Type::Threshold;
        else if (val == "both")
          t.type = Threshold::Type::Both;
        else
          return fail(o.name, "bad type", o.column);
      } else if (k == "track") {
        haveTrack = true;
        if (val == "by_src")
          t.track = Threshold::Track::BySrc;
        else if (val == "by_dst")
          t.track = Threshold::Track::ByDst;
        else if (val == "by_rule")
          t.track = Threshold::Track::ByRule;
        else if (val == "by_both")
          t.track = Threshold::Track::ByBoth;
        else
          return fail(o.name, "bad track", o.column);
      } else if (k == "count" && parseInt(val, 1, UINT32_MAX, num)) {
        haveCount = true, t.count = uint32_t(num);
      } else if (k == "seconds" && parseInt(val, 1, UINT32_MAX, num)) {
        haveSeconds = true, t.seconds = uint32_t(num);
      } else {
        return fail(o.name, "bad item '" + std::string(part) + "'", o.column);
      }
    }
    if (!haveType || !haveTrack || !haveCount || !haveSeconds)
      return fail(o.name, "needs type, track, count and seconds", o.column);
    (detection ? rule_.detectionFilter : rule_.threshold) = t;
    return true;
  }

  bool content(const Option& o) {
    if (!needValue(o)) return false;
    Content c;
    std::string_view v = o.value;
    if (v.starts_with("!")) c.negated = true, v = trim(v.substr(1));
    std::string why;
    if (!unquote(v, true, c.bytes, why)) return fail("content", why, o.column);
    if (c.bytes.empty()) return fail("content", "empty content", o.column);
    if (c.bytes.size() > 65535) return fail("content", "content too long", o.column);
    buffer().items.emplace_back(std::move(c));
    lastContentBuffer_ = current_;
    lastContentItem_ = int(buffer().items.size() - 1);
    return true;
  }

  // The Suricata 5 content modifiers (`content:"x"; http_raw_uri;`), which Suricata 7 still
  // reads: the preceding content, with its modifiers, goes to that buffer; the sticky buffer
  // later contents go to is unchanged. Only a payload content moves (Suricata rejects a modifier
  // on a sticky buffer's content), and only the last item (what follows a content is its own).
  static constexpr std::pair<std::string_view, Buffer> kContentModifiers[] = {
      {"http_uri", Buffer::HttpUri},
      {"http_raw_uri", Buffer::HttpUriRaw},
      {"http_method", Buffer::HttpMethod},
      {"http_header", Buffer::HttpHeader},
      {"http_cookie", Buffer::HttpCookie},
      {"http_user_agent", Buffer::HttpUserAgent},
      {"http_client_body", Buffer::HttpRequestBody},
      {"http_stat_code", Buffer::HttpStatCode},
      {"http_server_body", Buffer::HttpResponseBody},
  };

  bool contentModifier(const Option& o, Buffer to) {
    if (o.hasValue) return fail(o.name, "takes no value", o.column);
    if (lastContentBuffer_ < 0) return fail(o.name, "needs a preceding content", o.column);
    BufferMatches& from = rule_.buffers[lastContentBuffer_];
    if (from.buffer == to) return true;
    if (from.buffer != Buffer::Payload || size_t(lastContentItem_) + 1 != from.items.size())
      return fail(o.name, "only directly after a payload content", o.column);
    auto item = std::move(from.items.back());
    from.items.pop_back();
    const int source = lastContentBuffer_;
    int k = selectBuffer(to);  // may grow rule_.buffers: `from` is not used after this
    rule_.buffers[k].items.push_back(std::move(item));
    if (rule_.buffers[source].items.empty() && !rule_.buffers[source].bsize) {
      // Nothing left to look for in the payload: the rule is no payload rule.
      rule_.buffers.erase(rule_.buffers.begin() + source);
      if (k > source) --k;
      if (current_ == source) current_ = -1;
      else if (current_ > source) --current_;
    }
    lastContentBuffer_ = k;
    lastContentItem_ = int(rule_.buffers[k].items.size() - 1);
    return true;
  }

  bool flagModifier(const Option& o) {
    Content* c = lastContent(o);
    if (!c) return false;
    const std::string_view n = o.name;
    if (n == "fast_pattern") {
      c->fastPattern = true;
      if (!o.hasValue || o.value == "only") return true;
      auto parts = splitComma(o.value);
      int64_t off, len;
      if (parts.size() != 2 || !parseInt(parts[0], 0, 65535, off) ||
          !parseInt(parts[1], 1, 65535, len) || size_t(off + len) > c->bytes.size())
        return fail(n, "bad chop '" + std::string(o.value) + "'", o.column);
      c->fpOffset = uint16_t(off), c->fpLength = uint16_t(len);
      return true;
    }
    if (o.hasValue) return fail(n, "takes no value", o.column);
    if (n == "nocase") return c->nocase = true, true;
    if (n == "endswith") return c->endsWith = true, true;
    if (c->offset || c->depth || c->distance)
      return fail(n, "cannot be combined with offset/depth/distance", o.column);
    return c->startsWith = true, true;
  }

  bool numberModifier(const Option& o) {
    Content* c = lastContent(o);
    if (!c) return false;
    const std::string_view n = o.name;
    bool relative = n == "distance" || n == "within";
    int64_t v;
    if (!number(o, relative && n == "distance" ? -65535 : 0, 65535, v)) return false;
    if (c->startsWith && n != "within")
      return fail(n, "cannot be combined with startswith", o.column);
    if (relative ? (c->offset || c->depth) : (c->distance || c->within))
      return fail(n, "mixes relative (distance/within) and absolute (offset/depth) positions",
                  o.column);
    if ((n == "depth" || n == "within") && v < int64_t(c->bytes.size()))
      return fail(n, "shorter than the content", o.column);
    std::optional<int32_t>& slot = n == "offset"     ? c->offset
                                   : n == "depth"    ? c->depth
                                   : n == "distance" ? c->distance
                                                     : c->within;
    if (slot) return fail(n, "given twice", o.column);
    slot = int32_t(v);
    return true;
  }

  bool pcre(const Option& o) {
    if (!needValue(o)) return false;
    Pcre p;
    std::string_view v = o.value;
    if (v.starts_with("!")) p.negated = true, v = trim(v.substr(1));
    if (v.size() < 2 || v.front() != '"' || v.back() != '"')
      return fail("pcre", "value must be quoted", o.column);
    v = v.substr(1, v.size() - 2);
    size_t last = v.rfind('/');
    if (v.empty() || v.front() != '/' || last == 0)
      return fail("pcre", "expected \"/regex/flags\"", o.column);
    p.pattern = std::string(v.substr(1, last - 1));
    int target = current_;
    for (char f : v.substr(last + 1)) {
      Buffer b = Buffer::Count;
      switch (f) {
        case 'i':
          p.options |= PCRE2_CASELESS;
          break;
        case 's':
          p.options |= PCRE2_DOTALL;
          break;
        case 'm':
          p.options |= PCRE2_MULTILINE;
          break;
        case 'x':
          p.options |= PCRE2_EXTENDED;
          break;
        case 'A':
          p.options |= PCRE2_ANCHORED;
          break;
        case 'E':
          p.options |= PCRE2_DOLLAR_ENDONLY;
          break;
        case 'G':
          p.options |= PCRE2_UNGREEDY;
          break;
        case 'R':
          p.relative = true;
          break;
        case 'B':
        case 'O':
          break;  // rawbytes; match-limit override (lbg keeps its own limit)
        case 'U':
          b = Buffer::HttpUri;
          break;
        case 'I':
          b = Buffer::HttpUriRaw;
          break;
        case 'H':
          b = Buffer::HttpHeader;
          break;
        case 'P':
          b = Buffer::HttpRequestBody;
          break;
        case 'M':
          b = Buffer::HttpMethod;
          break;
        case 'C':
          b = Buffer::HttpCookie;
          break;
        case 'V':
          b = Buffer::HttpUserAgent;
          break;
        case 'W':
          b = Buffer::HttpHost;
          break;
        case 'S':
          b = Buffer::HttpStatCode;
          break;
        case 'Q':
          b = Buffer::FileData;
          break;
        default:
          return fail(std::string("pcre/") + f, "unsupported pcre flag", o.column);
      }
      if (b != Buffer::Count) target = selectBuffer(b);
    }
    if (target < 0) target = selectBuffer(Buffer::Payload);
    rule_.buffers[target].items.emplace_back(std::move(p));
    return true;
  }

  static bool numBase(std::string_view s, NumBase& b) {
    if (s == "dec") return b = NumBase::Dec, true;
    if (s == "hex") return b = NumBase::Hex, true;
    if (s == "oct") return b = NumBase::Oct, true;
    return false;
  }

  bool byteTest(const Option& o) {
    if (!needValue(o)) return false;
    auto parts = splitComma(o.value);
    ByteTest t;
    int64_t n, off;
    if (parts.size() < 4 || !parseInt(parts[0], 1, 10, n) ||
        !parseInt(parts[3], -65535, 65535, off))
      return fail("byte_test", "expected nbytes, operator, value, offset", o.column);
    t.nbytes = uint8_t(n), t.offset = int32_t(off);
    std::string_view op = parts[1];
    if (op.starts_with("!")) t.negated = true, op.remove_prefix(1);
    if (op == "<" || op == ">" || op == "=" || op == "&" || op == "^")
      t.op = op[0];
    else if (op == "<=")
      t.op = 'l';
    else if (op == ">=")
      t.op = 'g';
    else
      return fail("byte_test", "bad operator '" + std::string(op) + "'", o.column);
    if (!parseU64(parts[2], t.value))
      return fail("byte_test", "value is not a number (byte_extract is unsupported)", o.column);
    bool string = false;
    for (size_t k = 4; k < parts.size(); ++k) {
      auto p = parts[k];
      if (p == "relative")
        t.relative = true;
      else if (p == "big")
        t.littleEndian = false;
      else if (p == "little")
        t.littleEndian = true;
      else if (p == "string")
        string = true;
      else if (numBase(p, t.base))
        continue;
      else if (p.starts_with("bitmask") && parseU64(trim(p.substr(7)), t.bitmask))
        continue;
      else
        return fail("byte_test", "unsupported option '" + std::string(p) + "'", o.column);
    }
    if (string && t.base == NumBase::Raw) t.base = NumBase::Dec;
    if (!string && t.base != NumBase::Raw)
      return fail("byte_test", "dec/hex/oct need string", o.column);
    if (t.base == NumBase::Raw && t.nbytes > 8)
      return fail("byte_test", "at most 8 raw bytes", o.column);
    buffer().items.emplace_back(t);
    return true;
  }

  bool byteJump(const Option& o) {
    if (!needValue(o)) return false;
    auto parts = splitComma(o.value);
    ByteJump j;
    int64_t n, off;
    if (parts.size() < 2 || !parseInt(parts[0], 1, 10, n) ||
        !parseInt(parts[1], -65535, 65535, off))
      return fail("byte_jump", "expected nbytes, offset", o.column);
    j.nbytes = uint8_t(n), j.offset = int32_t(off);
    bool string = false;
    for (size_t k = 2; k < parts.size(); ++k) {
      auto p = parts[k];
      int64_t num;
      if (p == "relative")
        j.relative = true;
      else if (p == "big")
        j.littleEndian = false;
      else if (p == "little")
        j.littleEndian = true;
      else if (p == "string")
        string = true;
      else if (numBase(p, j.base))
        continue;
      else if (p == "align")
        j.align = true;
      else if (p == "from_beginning")
        j.fromBeginning = true;
      else if (p == "from_end")
        j.fromEnd = true;
      else if (p.starts_with("multiplier") && parseInt(p.substr(10), 1, 65535, num))
        j.multiplier = uint32_t(num);
      else if (p.starts_with("post_offset") && parseInt(p.substr(11), -65535, 65535, num))
        j.postOffset = int32_t(num);
      else if (p.starts_with("bitmask") && parseU64(trim(p.substr(7)), j.bitmask))
        continue;
      else
        return fail("byte_jump", "unsupported option '" + std::string(p) + "'", o.column);
    }
    if (string && j.base == NumBase::Raw) j.base = NumBase::Dec;
    if (!string && j.base != NumBase::Raw)
      return fail("byte_jump", "dec/hex/oct need string", o.column);
    if (j.base == NumBase::Raw && j.nbytes > 8)
      return fail("byte_jump", "at most 8 raw bytes", o.column);
    buffer().items.emplace_back(j);
    return true;
  }

  bool isDataAt(const Option& o) {
    if (!needValue(o)) return false;
    auto parts = splitComma(o.value);
    IsDataAt d;
    std::string_view first = parts[0];
    if (first.starts_with("!")) d.negated = true, first.remove_prefix(1);
    int64_t off;
    if (!parseInt(first, 0, 65535, off)) return fail("isdataat", "bad offset", o.column);
    d.offset = int32_t(off);
    for (size_t k = 1; k < parts.size(); ++k) {
      if (parts[k] == "relative")
        d.relative = true;
      else if (parts[k] != "rawbytes")
        return fail("isdataat", "unsupported option '" + std::string(parts[k]) + "'", o.column);
    }
    buffer().items.emplace_back(d);
    return true;
  }

  bool finish() {
    if (rule_.sid == 0) return fail("sid", "rule has no sid", 1);
    if (!rule_.classtype.empty() && classes_) {
      auto it = classes_->find(rule_.classtype);
      if (it == classes_->end())
        return fail("classtype", "unknown classtype '" + rule_.classtype + "'", classtypeColumn_);
      if (rule_.priority == 0) rule_.priority = it->second.priority;
    }
    if (rule_.priority == 0) rule_.priority = 3;
    // Relative options need something before them in their buffer.
    for (auto& b : rule_.buffers) {
      if (b.items.empty() && !b.bsize)
        return fail(bufferInfo(b.buffer).name, "sticky buffer without inspection", 1);
    }
    if (rule_.directions() == 0)
      return fail("flow", "direction excludes every buffer the rule inspects", 1);
    if (rule_.header.protocol == Protocol::Icmp) {
      for (auto& b : rule_.buffers)
        if (b.buffer != Buffer::Payload) return fail("protocol icmp", "sticky buffer on icmp", 1);
    }
    chooseFastPattern();
    return true;
  }

  // The flagged content, else the longest positive content (a sticky buffer wins a tie: it is
  // scanned less often than the payload).
  void chooseFastPattern() {
    size_t best = 0;
    for (size_t b = 0; b < rule_.buffers.size(); ++b)
      for (size_t k = 0; k < rule_.buffers[b].items.size(); ++k) {
        auto* c = std::get_if<Content>(&rule_.buffers[b].items[k]);
        if (!c || c->negated) continue;
        size_t score = (c->fpLength ? c->fpLength : c->bytes.size()) * 4 +
                       (rule_.buffers[b].buffer != Buffer::Payload ? 1 : 0) +
                       (c->fastPattern ? 1u << 24 : 0);
        if (score > best) best = score, rule_.fpBuffer = int(b), rule_.fpItem = int(k);
      }
  }

  const Variables& vars_;
  const Classifications* classes_;
  Rule rule_;
  RuleError error_;
  int current_ = -1;
  int lastContentBuffer_ = -1;
  int lastContentItem_ = -1;
  int classtypeColumn_ = 1;
};

}  // namespace

ParsedRule parseRule(std::string_view text, const Variables& vars, const Classifications* classes) {
  return Parser(vars, classes).run(text);
}

Classifications parseClassificationConfig(std::string_view text, std::vector<std::string>* errors) {
  Classifications out;
  int lineNo = 0;
  while (!text.empty()) {
    auto nl = text.find('\n');
    std::string_view line = trim(text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++lineNo;
    if (line.empty() || line.front() == '#') continue;
    constexpr std::string_view kPrefix = "config classification:";
    auto parts = line.starts_with(kPrefix) ? splitComma(line.substr(kPrefix.size()))
                                           : std::vector<std::string_view>{};
    int64_t prio;
    if (parts.size() != 3 || parts[0].empty() || !parseInt(parts[2], 1, 255, prio)) {
      if (errors)
        errors->push_back("line " + std::to_string(lineNo) +
                          ": expected 'config classification: name,description,priority'");
      continue;
    }
    out[std::string(parts[0])] = {std::string(parts[0]), std::string(parts[1]), int(prio)};
  }
  return out;
}

}  // namespace lbg::ids
