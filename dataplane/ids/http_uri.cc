#include "dataplane/ids/http_uri.h"

#include <algorithm>
#include <cstring>

namespace lbg::ids {

namespace {

constexpr uint8_t kReplacement = '?';  // libhtp's bestfit_replacement_byte default

struct BestFit {
  uint16_t codePoint;
  uint8_t byte;
};

// libhtp's default best-fit map (htp_config.c bestfit_1252, Windows' best fit of U+0100..U+FFFF
// to code page 1252), sorted by code point; U+FF01..U+FF5E (full-width ASCII) are computed
// instead (bestFit()). A code point not listed becomes `?`. The table is libhtp's (BSD-3-Clause,
// Copyright 2009-2010 OISF, 2010-2013 Qualys, Inc.; pkg/debian/copyright).
constexpr BestFit kBestFit[] = {
    {0x0100, 'A'}, {0x0101, 'a'}, {0x0102, 'A'}, {0x0103, 'a'}, {0x0104, 'A'}, {0x0105, 'a'},
    {0x0106, 'C'}, {0x0107, 'c'}, {0x0108, 'C'}, {0x0109, 'c'}, {0x010a, 'C'}, {0x010b, 'c'},
    {0x010c, 'C'}, {0x010d, 'c'}, {0x010e, 'D'}, {0x010f, 'd'}, {0x0111, 'd'}, {0x0112, 'E'},
    {0x0113, 'e'}, {0x0114, 'E'}, {0x0115, 'e'}, {0x0116, 'E'}, {0x0117, 'e'}, {0x0118, 'E'},
    {0x0119, 'e'}, {0x011a, 'E'}, {0x011b, 'e'}, {0x011c, 'G'}, {0x011d, 'g'}, {0x011e, 'G'},
    {0x011f, 'g'}, {0x0120, 'G'}, {0x0121, 'g'}, {0x0122, 'G'}, {0x0123, 'g'}, {0x0124, 'H'},
    {0x0125, 'h'}, {0x0126, 'H'}, {0x0127, 'h'}, {0x0128, 'I'}, {0x0129, 'i'}, {0x012a, 'I'},
    {0x012b, 'i'}, {0x012c, 'I'}, {0x012d, 'i'}, {0x012e, 'I'}, {0x012f, 'i'}, {0x0130, 'I'},
    {0x0131, 'i'}, {0x0134, 'J'}, {0x0135, 'j'}, {0x0136, 'K'}, {0x0137, 'k'}, {0x0139, 'L'},
    {0x013a, 'l'}, {0x013b, 'L'}, {0x013c, 'l'}, {0x013d, 'L'}, {0x013e, 'l'}, {0x0141, 'L'},
    {0x0142, 'l'}, {0x0143, 'N'}, {0x0144, 'n'}, {0x0145, 'N'}, {0x0146, 'n'}, {0x0147, 'N'},
    {0x0148, 'n'}, {0x014c, 'O'}, {0x014d, 'o'}, {0x014e, 'O'}, {0x014f, 'o'}, {0x0150, 'O'},
    {0x0151, 'o'}, {0x0154, 'R'}, {0x0155, 'r'}, {0x0156, 'R'}, {0x0157, 'r'}, {0x0158, 'R'},
    {0x0159, 'r'}, {0x015a, 'S'}, {0x015b, 's'}, {0x015c, 'S'}, {0x015d, 's'}, {0x015e, 'S'},
    {0x015f, 's'}, {0x0162, 'T'}, {0x0163, 't'}, {0x0164, 'T'}, {0x0165, 't'}, {0x0166, 'T'},
    {0x0167, 't'}, {0x0168, 'U'}, {0x0169, 'u'}, {0x016a, 'U'}, {0x016b, 'u'}, {0x016c, 'U'},
    {0x016d, 'u'}, {0x016e, 'U'}, {0x016f, 'u'}, {0x0170, 'U'}, {0x0171, 'u'}, {0x0172, 'U'},
    {0x0173, 'u'}, {0x0174, 'W'}, {0x0175, 'w'}, {0x0176, 'Y'}, {0x0177, 'y'}, {0x0179, 'Z'},
    {0x017b, 'Z'}, {0x017c, 'z'}, {0x0180, 'b'}, {0x0197, 'I'}, {0x019a, 'l'}, {0x019f, 'O'},
    {0x01a0, 'O'}, {0x01a1, 'o'}, {0x01ab, 't'}, {0x01ae, 'T'}, {0x01af, 'U'}, {0x01b0, 'u'},
    {0x01b6, 'z'}, {0x01c0, '|'}, {0x01c3, '!'}, {0x01cd, 'A'}, {0x01ce, 'a'}, {0x01cf, 'I'},
    {0x01d0, 'i'}, {0x01d1, 'O'}, {0x01d2, 'o'}, {0x01d3, 'U'}, {0x01d4, 'u'}, {0x01d5, 'U'},
    {0x01d6, 'u'}, {0x01d7, 'U'}, {0x01d8, 'u'}, {0x01d9, 'U'}, {0x01da, 'u'}, {0x01db, 'U'},
    {0x01dc, 'u'}, {0x01de, 'A'}, {0x01df, 'a'}, {0x01e4, 'G'}, {0x01e5, 'g'}, {0x01e6, 'G'},
    {0x01e7, 'g'}, {0x01e8, 'K'}, {0x01e9, 'k'}, {0x01ea, 'O'}, {0x01eb, 'o'}, {0x01ec, 'O'},
    {0x01ed, 'o'}, {0x01f0, 'j'}, {0x0261, 'g'}, {0x02b9, '\''}, {0x02ba, '"'}, {0x02bc, '\''},
    {0x02c4, '^'}, {0x02c8, '\''}, {0x02cb, '`'}, {0x02cd, '_'}, {0x0300, '`'}, {0x0302, '^'},
    {0x0303, '~'}, {0x030e, '"'}, {0x0331, '_'}, {0x0332, '_'}, {0x037e, ';'}, {0x0393, 'G'},
    {0x0398, 'T'}, {0x03a3, 'S'}, {0x03a6, 'F'}, {0x03a9, 'O'}, {0x03b1, 'a'}, {0x03b4, 'd'},
    {0x03b5, 'e'}, {0x03c0, 'p'}, {0x03c3, 's'}, {0x03c4, 't'}, {0x03c6, 'f'}, {0x04bb, 'h'},
    {0x0589, ':'}, {0x066a, '%'}, {0x2000, ' '}, {0x2001, ' '}, {0x2002, ' '}, {0x2003, ' '},
    {0x2004, ' '}, {0x2005, ' '}, {0x2006, ' '}, {0x2010, '-'}, {0x2011, '-'}, {0x2017, '='},
    {0x2032, '\''}, {0x2035, '`'}, {0x2044, '/'}, {0x2074, '4'}, {0x2075, '5'}, {0x2076, '6'},
    {0x2077, '7'}, {0x2078, '8'}, {0x207f, 'n'}, {0x2080, '0'}, {0x2081, '1'}, {0x2082, '2'},
    {0x2083, '3'}, {0x2084, '4'}, {0x2085, '5'}, {0x2086, '6'}, {0x2087, '7'}, {0x2088, '8'},
    {0x2089, '9'}, {0x20a7, 'P'}, {0x2102, 'C'}, {0x2107, 'E'}, {0x210a, 'g'}, {0x210b, 'H'},
    {0x210c, 'H'}, {0x210d, 'H'}, {0x210e, 'h'}, {0x2110, 'I'}, {0x2111, 'I'}, {0x2112, 'L'},
    {0x2113, 'l'}, {0x2115, 'N'}, {0x2118, 'P'}, {0x2119, 'P'}, {0x211a, 'Q'}, {0x211b, 'R'},
    {0x211c, 'R'}, {0x211d, 'R'}, {0x2124, 'Z'}, {0x2128, 'Z'}, {0x212a, 'K'}, {0x212c, 'B'},
    {0x212d, 'C'}, {0x212e, 'e'}, {0x212f, 'e'}, {0x2130, 'E'}, {0x2131, 'F'}, {0x2133, 'M'},
    {0x2134, 'o'}, {0x2212, '-'}, {0x2215, '/'}, {0x2216, '\\'}, {0x2217, '*'}, {0x221a, 'v'},
    {0x221e, '8'}, {0x2223, '|'}, {0x2229, 'n'}, {0x2236, ':'}, {0x223c, '~'}, {0x2261, '='},
    {0x2264, '='}, {0x2265, '='}, {0x2303, '^'}, {0x2320, '('}, {0x2321, ')'}, {0x2329, '<'},
    {0x232a, '>'}, {0x2500, '-'}, {0x250c, '+'}, {0x2510, '+'}, {0x2514, '+'}, {0x2518, '+'},
    {0x251c, '+'}, {0x252c, '-'}, {0x2534, '-'}, {0x253c, '+'}, {0x2550, '-'}, {0x2552, '+'},
    {0x2553, '+'}, {0x2554, '+'}, {0x2555, '+'}, {0x2556, '+'}, {0x2557, '+'}, {0x2558, '+'},
    {0x2559, '+'}, {0x255a, '+'}, {0x255b, '+'}, {0x255c, '+'}, {0x255d, '+'}, {0x2564, '-'},
    {0x2565, '-'}, {0x2566, '-'}, {0x2567, '-'}, {0x2568, '-'}, {0x2569, '-'}, {0x256a, '+'},
    {0x256b, '+'}, {0x256c, '+'}, {0x2584, '_'}, {0x2758, '|'}, {0x3000, ' '}, {0x3008, '<'},
    {0x3009, '>'}, {0x301a, '['}, {0x301b, ']'},
};

// libhtp's bestfit_codepoint(): one byte for a code point (also what a `%uHHHH` decodes to).
uint8_t bestFit(uint32_t cp) {
  if (cp < 0x100) return uint8_t(cp);
  // Full-width ASCII: U+FF01..U+FF5E map to 0x21..0x7e (U+FF1F is not in libhtp's map, but its
  // `?` is also the replacement).
  if (cp >= 0xff01 && cp <= 0xff5e) return uint8_t(cp - 0xfee0);
  if (cp > 0xffff) return kReplacement;
  const auto* end = kBestFit + sizeof kBestFit / sizeof kBestFit[0];
  const auto* it = std::lower_bound(kBestFit, end, cp,
                                    [](const BestFit& e, uint32_t c) { return e.codePoint < c; });
  return it != end && it->codePoint == cp ? it->byte : kReplacement;
}

int hexValue(uint8_t c) {
  if (c >= '0' && c <= '9') return c - '0';
  c |= 0x20;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

bool isHex(uint8_t c) { return hexValue(c) >= 0; }

uint8_t hexByte(const uint8_t* p) { return uint8_t(hexValue(p[0]) << 4 | hexValue(p[1])); }

// A `%uHHHH` at p[0] (the `%`), its four digits checked: libhtp's decode_u_encoding_path and
// decode_u_encoding_params (the same byte: a high byte of 0 gives the low byte, else best fit).
uint8_t decodeU(const uint8_t* p) { return bestFit(uint32_t(hexByte(p + 2)) << 8 | hexByte(p + 4)); }

bool isUEncoding(const uint8_t* d, size_t i, size_t len) {
  return i + 5 < len && isHex(d[i + 2]) && isHex(d[i + 3]) && isHex(d[i + 4]) && isHex(d[i + 5]);
}

// UTF-8 lead byte: how many continuation bytes follow and the bits it carries; 0 continuations:
// ASCII (bits = byte) or, for 0x80..0xbf and 0xf5..0xff, invalid (-1). Overlong forms are
// allowed (htp_utf8_decode_allow_overlong: c0, c1, e0 and f0 lead any continuation).
struct Lead {
  int follow;
  uint32_t bits;
};
Lead utf8Lead(uint8_t b) {
  if (b < 0x80) return {0, b};
  if (b < 0xc0) return {-1, 0};
  if (b < 0xe0) return {1, b & 0x1fu};
  if (b < 0xf0) return {2, b & 0x0fu};
  if (b < 0xf5) return {3, b & 0x07u};
  return {-1, 0};
}

// The continuation at `index` (1-based) after `lead`: 0x80..0xbf, narrower after ed (no
// surrogates: 80..9f) and f4 (not past U+10FFFF: 80..8f), as libhtp's DFA.
bool utf8Continues(uint8_t lead, int index, uint8_t b) {
  if (b < 0x80 || b > 0xbf) return false;
  if (index == 1 && lead == 0xed) return b <= 0x9f;
  if (index == 1 && lead == 0xf4) return b <= 0x8f;
  return true;
}

// The byte at d[r] decoded, r moved past what it took: `%HH`, `%uHHHH` when `uEncoding`, else the
// byte itself; a `%` that starts no valid encoding, or has fewer than two bytes after it, is kept
// and what follows it read as ordinary bytes (libhtp's PRESERVE_PERCENT; a bad `%u` is not
// retried as `%HH`). Never writes, so the callers decode in place (w <= r).
uint8_t nextDecoded(const uint8_t* d, size_t& r, size_t len, bool uEncoding) {
  const uint8_t c = d[r];
  if (c == '%' && r + 2 < len) {
    if (uEncoding && (d[r + 1] == 'u' || d[r + 1] == 'U')) {
      if (isUEncoding(d, r, len)) {
        r += 6;
        return decodeU(d + r - 6);
      }
    } else if (isHex(d[r + 1]) && isHex(d[r + 2])) {
      r += 3;
      return hexByte(d + r - 2);
    }
  }
  ++r;
  return c;
}

}  // namespace

size_t decodeUriPath(uint8_t* d, size_t len) {
  size_t r = 0, w = 0;
  bool previousSlash = false;
  while (r < len) {
    uint8_t c = nextDecoded(d, r, len, true);
    if (c == '\\') c = '/';
    if (c == '/') {
      if (!previousSlash) d[w++] = c;
      previousSlash = true;
    } else {
      d[w++] = c;
      previousSlash = false;
    }
  }
  return w;
}

size_t bestFitUtf8Path(uint8_t* d, size_t len) {
  size_t r = 0, w = 0;
  while (r < len) {
    const uint8_t lead = d[r];
    const Lead l = utf8Lead(lead);
    if (l.follow == 0) {
      d[w++] = lead;
      ++r;
      continue;
    }
    if (l.follow < 0) {  // invalid lead: replaced and consumed
      d[w++] = kReplacement;
      ++r;
      continue;
    }
    uint32_t cp = l.bits;
    int i = 1;
    for (; i <= l.follow; ++i) {
      if (r + size_t(i) >= len) return w;  // cut by the end: libhtp drops the partial bytes
      const uint8_t b = d[r + size_t(i)];
      if (!utf8Continues(lead, i, b)) break;
      cp = cp << 6 | (b & 0x3fu);
    }
    if (i <= l.follow) {
      // A bad continuation: `?` for the bytes so far, the bad byte read again as a lead.
      d[w++] = kReplacement;
      r += size_t(i);
      continue;
    }
    d[w++] = bestFit(cp);
    r += size_t(l.follow) + 1;
  }
  return w;
}

size_t removeDotSegments(uint8_t* d, size_t len) {
  size_t r = 0, w = 0;
  int c = -1;  // a byte taken from the input but not yet placed (libhtp's pending character)
  while (r < len) {
    if (c < 0) c = d[r++];
    // A. a leading "../" or "./" is removed.
    if (c == '.') {
      if (r + 1 < len && d[r] == '.' && d[r + 1] == '/') {
        c = -1;
        r += 2;
        continue;
      }
      if (r < len && d[r] == '/') {
        c = -1;
        r += 1;
        continue;
      }
    }
    if (c == '/') {
      // B. "/./" or a final "/." become "/".
      if (r + 1 < len && d[r] == '.' && d[r + 1] == '/') {
        r += 2;
        continue;
      }
      if (r + 1 == len && d[r] == '.') {
        r += 1;  // the pending `/` is then lost at the loop's end (libhtp's quirk)
        continue;
      }
      // C. "/../" or a final "/.." become "/" and drop the last output segment.
      const bool inner = r + 2 < len && d[r] == '.' && d[r + 1] == '.' && d[r + 2] == '/';
      const bool last = r + 2 == len && d[r] == '.' && d[r + 1] == '.';
      if (inner || last) {
        r += inner ? 3 : 2;
        while (w > 0 && d[w - 1] != '/') --w;
        if (w > 0) --w;
        continue;
      }
    }
    // D. the input is only "." or "..".
    if (c == '.' && r == len) {
      ++r;
      continue;
    }
    if (c == '.' && r + 1 == len && d[r] == '.') {
      r += 2;
      continue;
    }
    // E. the first segment, with its leading `/`, moves to the output.
    d[w++] = uint8_t(c);
    while (r < len && d[r] != '/') d[w++] = d[r++];
    c = -1;
  }
  return w;
}

size_t decodeUriQuery(uint8_t* d, size_t len, bool uEncoding) {
  size_t r = 0, w = 0;
  while (r < len) d[w++] = nextDecoded(d, r, len, uEncoding);
  return w;
}

size_t normaliseHttpUri(std::span<const uint8_t> target, bool connect, std::span<uint8_t> out) {
  const uint8_t* t = target.data();
  const size_t len = std::min(target.size(), out.size());
  if (connect || len == 0) return 0;
  // htp_parse_uri: a target not starting with `/` has a scheme up to its first `:` (none: the
  // whole target is the path); after a scheme, `//` not followed by a third `/` starts an
  // authority, which ends at `/`, `?` or `#`.
  size_t pos = 0;
  if (t[0] != '/') {
    const void* colon = std::memchr(t, ':', len);
    if (colon != nullptr) {
      pos = size_t(static_cast<const uint8_t*>(colon) - t) + 1;
      if (pos + 2 < len && t[pos] == '/' && t[pos + 1] == '/' && t[pos + 2] != '/') {
        pos += 2;
        while (pos < len && t[pos] != '?' && t[pos] != '/' && t[pos] != '#') ++pos;
      }
    }
  }
  size_t pathEnd = pos;
  while (pathEnd < len && t[pathEnd] != '?' && t[pathEnd] != '#') ++pathEnd;
  uint8_t* o = out.data();
  std::memcpy(o, t + pos, pathEnd - pos);
  size_t w = decodeUriPath(o, pathEnd - pos);
  w = bestFitUtf8Path(o, w);
  w = removeDotSegments(o, w);
  size_t at = pathEnd;
  if (at < len && t[at] == '?') {
    size_t end = at + 1;
    while (end < len && t[end] != '#') ++end;
    o[w++] = '?';
    std::memcpy(o + w, t + at + 1, end - at - 1);
    w += decodeUriQuery(o + w, end - at - 1, false);
    at = end;
  }
  if (at < len) {  // `#`
    o[w++] = '#';
    std::memcpy(o + w, t + at + 1, len - at - 1);
    w += decodeUriQuery(o + w, len - at - 1, true);
  }
  return w;
}

}  // namespace lbg::ids
