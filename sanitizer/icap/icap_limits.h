#pragma once

#include <cstddef>
#include <cstdint>

namespace lbg::icap {

// Bounds on everything an ICAP client controls. Every parser in this folder takes them; a message
// that exceeds one gets a clear ICAP error (or, for the body, a block page), never unbounded
// memory.
struct Limits {
  // ICAP request line plus ICAP headers, up to and including the empty line.
  size_t maxIcapHeadBytes = 16 * 1024;
  // All encapsulated HTTP header sections together (the offset of the body entry).
  size_t maxHttpHeadBytes = 64 * 1024;
  // Header fields per header block (ICAP head, HTTP request head, HTTP response head).
  size_t maxHeaders = 100;
  // One chunk-size line including extensions ("1f; ieof").
  size_t maxChunkLineBytes = 1024;
  // Trailer section after the last chunk (ICAP clients do not send one, but HTTP chunked allows
  // it).
  size_t maxTrailerBytes = 4096;
  // Decoded body of one REQMOD/RESPMOD request (the file handed to the sanitizer).
  uint64_t maxBodyBytes = 64ull << 20;
};

}  // namespace lbg::icap
