#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "policy/ids/rule.h"

struct pcre2_real_code_8;
struct pcre2_real_match_data_8;
struct pcre2_real_match_context_8;

namespace lbg::ids {

// What the engine prepared once per rule item: the compiled pcre, the lowered content for nocase.
struct ItemAux {
  pcre2_real_code_8* pcre = nullptr;
  bool jit = false;
  std::string lowered;
};

// Per-lcore tools for verification (owned by the engine's Scratch).
struct MatchTools {
  pcre2_real_match_data_8* matchData = nullptr;
  pcre2_real_match_context_8* matchContext = nullptr;
  uint32_t recursionLimit = 3000;
};

// Verifies one buffer's inspections in rule order with Suricata's semantics (positions relative
// to the previous match, backtracking over earlier content occurrences when a later relative
// option fails). `base` is the stream position of bytes[0] (0 for a whole buffer): absolute
// positions (offset, depth, startswith, absolute byte_test/isdataat) count from the stream start.
// Allocation-free.
// `fpItem`/`fpMinEnd`: the fast-pattern item must end after byte fpMinEnd of `bytes` (in a
// stream, in the new chunk rather than in the previous chunk's tail, which was verified then).
// With `reach`, it is the match as a whole that must: its furthest byte read (a content's or
// pcre's end, a byte_test's or byte_jump's bytes, a positive isdataat's byte) lies past
// fpMinEnd, wherever the fast pattern is; every occurrence of a content is then tried (bounded
// by recursionLimit), so a match that reaches the new chunk is found behind one that does not.
// For a rule whose other inspections can lie after its fast pattern, which ended in the tail.
bool matchBuffer(const BufferMatches& matches, const std::vector<ItemAux>& aux,
                 const uint8_t* bytes, uint32_t len, uint64_t base, MatchTools& tools,
                 int fpItem = -1, int64_t fpMinEnd = 0, bool reach = false);

}  // namespace lbg::ids
