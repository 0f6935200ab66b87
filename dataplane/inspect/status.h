#pragma once

#include <cstdint>

namespace lbg::inspect {

// What an inspector concluded from the bytes it has seen so far.
//   NeedMore  every byte seen is consistent with a valid message that is not complete yet.
//   Done      the message is complete and valid; the output struct is filled.
//   Invalid   the bytes can never become a valid message; the output's `reason` says why. The
//             pipeline denies the flow ("ambiguity is denied").
//   NotMine   well-formed, but not something this inspector judges (a DNS query, not a response).
enum class Status : uint8_t { NeedMore, Done, Invalid, NotMine };

}  // namespace lbg::inspect
