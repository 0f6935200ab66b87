#pragma once

// Suricata 7's `http.uri`: the request target normalised as libhtp 0.5 does under Suricata's
// default configuration (libhtp personality IDS, then Suricata's overrides), so that a rule on
// `/evil.php` sees `GET /%65vil.php`, `GET /a/../evil.php` or `GET //evil.php` as Suricata does.
// `http.uri.raw` is the target as sent (libhtp's tx->request_uri).
//
// What Suricata builds (app-layer-htp-libhtp.c SCHTPGenerateNormalizedUri, uri_include_all off):
// the parsed URI's normalised path, then `?` and the query when the target has a `?`, then `#`
// and the fragment when it has a `#` (htp_util.c htp_parse_uri: an absolute-form target's scheme
// and authority are dropped, `GET http://h/x` gives `/x`; CONNECT's authority-form gives an
// empty buffer). Steps, in libhtp's order (htp_normalize_parsed_uri):
//  1. path, htp_decode_path_inplace with the IDS personality's URL_PATH decoder
//     (htp_config.c htp_config_set_server_personality): `%HH` decoded (also `%2f`: separators
//     decoded), `%uHHHH` decoded (best fit, below), an invalid or cut `%` kept as it is
//     (PRESERVE_PERCENT, libhtp's default), `\` to `/` (also a decoded `%5c` or `%u005c`), runs of
//     `/` compressed to one. NUL, raw or `%00`, is kept (nul_*_terminates off). Case is kept:
//     the IDS personality lowercases the path but Suricata turns that off after setting it
//     (app-layer-htp.c: "Signatures do not expect this").
//  2. path, htp_utf8_decode_path_inplace (utf8_convert_bestfit on): each UTF-8 sequence, overlong
//     forms allowed, becomes one byte: code points below 0x100 as themselves, others through
//     libhtp's best-fit map (bestfit_1252) or `?`; an invalid byte becomes `?` (a bad
//     continuation is then read again as a lead byte); a sequence cut by the path's end is
//     dropped.
//  3. path, htp_normalize_uri_path_inplace: RFC 3986 5.2.4 remove_dot_segments as libhtp writes
//     it, with its quirk that a final `/.` or `/..` leaves no trailing `/` (`/a/..` gives ``).
//  4. query: Suricata decodes it with libhtp's URLENCODED decoder (htp_urldecode_inplace):
//     `%HH` only (no `%u`), invalid `%` kept, `+` kept (Suricata turns plus-space off).
//  5. fragment: htp_tx_urldecode_uri_inplace (URL_PATH decoder in htp_urldecode_inplace_ex):
//     `%HH` and `%uHHHH`, invalid `%` kept, `+` kept; no slash or dot handling.
// Each step only shortens, so the result is never longer than the target.
//
// Hot path: no allocation; the result is written into the caller's buffer (the worker's
// HttpHeadScratch), linear in the target.

#include <cstddef>
#include <cstdint>
#include <span>

namespace lbg::ids {

// Writes the normalised URI of `target` (the request line's second token) into `out` and returns
// its length, at most target.size(); `out` must hold target.size() bytes (a longer target is
// read only as far as `out` holds). `connect`: the method is CONNECT (the target is an
// authority, libhtp gives no path: the result is empty).
size_t normaliseHttpUri(std::span<const uint8_t> target, bool connect, std::span<uint8_t> out);

// The steps alone, in place on [data, data + len), each returning the new length (tests, fuzz).
size_t decodeUriPath(uint8_t* data, size_t len);
size_t bestFitUtf8Path(uint8_t* data, size_t len);
size_t removeDotSegments(uint8_t* data, size_t len);
size_t decodeUriQuery(uint8_t* data, size_t len, bool uEncoding);

}  // namespace lbg::ids
