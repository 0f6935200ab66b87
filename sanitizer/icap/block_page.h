#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace lbg::icap {

// What the user is told when a file is withheld.
struct BlockInfo {
  std::string fileName;
  std::string url;
  std::string reason;  // machine word from the sanitizer ("encrypted", "limit:zip-ratio")
  std::string sha256;  // hex; empty when the file was not read in full
  std::string detectedType;
  uint64_t bytes = 0;
  bool upload = false;  // REQMOD: the user tried to send the file
  std::string contact;  // whom to ask, as configured
};

// A self-contained HTML page in Japanese and English (no scripts, no external resources).
std::string renderBlockPage(const BlockInfo& info);

// Human explanation of a block reason in Japanese and in English.
struct ReasonText {
  std::string ja, en;
};
ReasonText explainReason(std::string_view reason);

}  // namespace lbg::icap
