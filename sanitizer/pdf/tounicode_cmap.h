#pragma once

// ToUnicode CMaps (ISO 32000-1 §9.10.3) are PostScript programs: only their data is kept. The
// decoded CMap is read with the content-stream tokeniser (content_stream.h), and a fresh CMap is
// written from its codespace ranges and bfchar / bfrange mappings alone; every other token (procedure
// calls, dictionaries, comments, usecmap) is left behind.

#include <string>

namespace lbg::sanitizer::pdf {

// Bounds: at most 65536 mappings and 256 codespace ranges, codes of 1 to 4 bytes, Unicode
// destinations of 2 to 64 bytes, bfrange only over the last code byte (as the format requires).
// Entries outside them are skipped. False when the input does not tokenise or yields no mapping.
bool rebuildToUnicode(const std::string& cmap, std::string* out);

}  // namespace lbg::sanitizer::pdf
