#pragma once

// The policy-sync frame (control/policy_sync/README.md): what the control planes of an HA pair
// say to each other over the HA link, one TCP exchange per connection:
//
//   server -> client  Challenge  nonce Ns (fresh per connection), empty body
//   client -> server  Announce | Push | Flush  nonce Nc, JSON body, MAC bound to Ns
//   server -> client  Reply      JSON body, MAC bound to Nc
//
//   frame = header (28 bytes: "LBGP", format, type, 2 zero bytes, body length u32 big-endian,
//           nonce 16 bytes) | body | HMAC-SHA256 (32 bytes) under the pair's key of
//           (the other side's nonce | header | body)
//
// Freshness without clocks: each side's MAC covers the nonce the other side chose for this one
// connection, so a frame recorded on another connection never verifies again (no replay), and a
// reply cannot be passed off as a request (the type is under the MAC). Nothing but the magic,
// format and the length bound is looked at before the MAC verified; the body is parsed after.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace lbg::control::psync {

inline constexpr size_t kHeaderBytes = 28;
inline constexpr size_t kNonceBytes = 16;
inline constexpr size_t kMacBytes = 32;
inline constexpr uint8_t kFormat = 1;
// A policy (the store takes 8 MiB at most) with its meta, escaped as JSON.
inline constexpr size_t kMaxBody = 20u << 20;

enum class MsgType : uint8_t { Challenge = 1, Announce = 2, Push = 3, Reply = 4, Flush = 5 };
using Nonce = std::array<uint8_t, kNonceBytes>;

// A fresh random nonce (OpenSSL RAND_bytes; a failure there is an impossible state: abort).
Nonce randomNonce();

// One whole frame: `nonce` is this side's, `peerNonce` the other side's for this connection
// (all zeros for the challenge, which has none to bind).
std::string encodeFrame(std::string_view key, MsgType type, const Nonce& nonce,
                        std::string_view body, const Nonce& peerNonce);

enum class FrameStatus : uint8_t { NeedMore, Ok, Malformed, AuthFailed };

// How long the frame at the start of `buf` is in all: NeedMore until its header is there,
// Malformed when that is not a header of ours or the body is over kMaxBody; `total` on Ok.
FrameStatus frameLength(std::string_view buf, size_t& total);

struct Frame {
  MsgType type = MsgType::Challenge;
  Nonce nonce{};
  std::string_view body;  // into the decoded buffer
};

// Verifies a complete frame (as long as frameLength() said) under `key` bound to `peerNonce`
// (constant-time compare), then reads its type and nonce. AuthFailed for any MAC mismatch,
// Malformed for a frame of ours with an unknown type.
FrameStatus decodeFrame(std::string_view key, std::string_view frame, const Nonce& peerNonce,
                        Frame& out);

}  // namespace lbg::control::psync
