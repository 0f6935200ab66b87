#pragma once

#include <cstddef>
#include <string_view>

namespace lbg::ids {

// The part of a sticky buffer rule's fast pattern its Hyperscan block database looks for.
//
// Why: Hyperscan's literal matcher (FDR) keys on the last bytes of each literal, and every place
// in the input where those bytes occur costs a confirmation. A fast pattern that ends in a word
// every web page is full of (`Document`, `Information`, `</div>`, `function`, `return`) makes the
// matcher confirm at each of them: in ET Open's ~2,100 file.data literals a few dozen such ones
// cost more than all the others together on HTML bodies. Such a pattern is looked for by its
// longest prefix (at least kMinLength bytes) whose last kTail bytes are not part of a common word
// (kCommonWords, compared case-insensitively, padded with a space each side); a pattern with none
// is looked for whole.
//
// Detection is unchanged: the prefix occurs wherever the pattern does, and the candidate is
// verified on the whole rule, fast pattern included. A stream's candidate must have its literal
// end in the new chunk, so the engine carries a prefix reported near a chunk's end to the next
// chunks (Engine::carry_); a datagram's payload literals are kept whole.
class PrefilterLiteral {
 public:
  static constexpr size_t kTail = 4;
  static constexpr size_t kMinLength = 6;
  // `literal`: the fast pattern (after fast_pattern:o,l); the result is a prefix of it.
  static std::string_view choose(std::string_view literal);
  // Whether `tail` (kTail bytes) is part of a common word (the list padded with spaces).
  static bool commonTail(std::string_view tail);
};

}  // namespace lbg::ids
