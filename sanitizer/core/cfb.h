#pragma once

// Compound File Binary (OLE2) container: just enough to name what is inside, so that an encrypted
// OOXML package, a legacy .doc/.xls/.ppt and an MSI get distinct block reasons. Nothing is read
// out of the streams: every CFB type is blocked by default.

#include <set>
#include <string>
#include <string_view>

namespace lbg::sanitizer {

inline bool isCfb(std::string_view b) {
  return b.size() >= 512 && b.substr(0, 8) == std::string_view("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", 8);
}

// Names of the directory entries (streams and storages), decoded from UTF-16LE (ASCII only;
// other characters become '?'). Scans every 128-byte-aligned slot after the header and keeps the
// slots that are well-formed entries; bounded by the input size.
std::set<std::string> cfbEntryNames(std::string_view bytes);

// True when a legacy Office file says it is password-protected: PowerPoint's EncryptedSummary
// stream, Word's fEncrypted bit in the FIB, Excel's FILEPASS record right after the workbook BOF.
// Word and Excel are read from the first sector of their stream, so only streams stored in regular
// sectors (at least the mini-stream cutoff, which real documents are) are recognised; a miss only
// means the block is reported as conversion-failed rather than encrypted.
bool cfbLegacyEncrypted(std::string_view bytes);

}  // namespace lbg::sanitizer
