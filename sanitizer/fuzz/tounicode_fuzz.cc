// libFuzzer: the ToUnicode CMap rebuild on arbitrary bytes. Invariants: what it writes rebuilds
// to itself (we accept what we write, and writing is stable), and stays within its bounds.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "sanitizer/pdf/tounicode_cmap.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace lbg::sanitizer::pdf;
  std::string input(reinterpret_cast<const char*>(data), size);
  std::string first;
  if (!rebuildToUnicode(input, &first)) return 0;
  // 65536 mappings of at most 4-byte codes and 64-byte destinations, in hex, plus framing.
  if (first.size() > 65536u * 220 + 256 * 24 + 4096) std::abort();
  std::string second;
  if (!rebuildToUnicode(first, &second) || second != first) std::abort();
  return 0;
}
