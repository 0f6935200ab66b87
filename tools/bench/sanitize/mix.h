#pragma once

// The bench's input mix, made by real producers so that the engine does its real work: PDFs,
// Word and Excel documents (OOXML and legacy binary) written by LibreOffice from generated text,
// tables and photographs (fonts embedded by LibreOffice, images JPEG and PNG), JPEG and PNG
// images, ZIP archives of the above, and macro-enabled Word documents (LibreOffice writes no VBA,
// so those are assembled here). Some PDFs and every .docm carry active content for the engine to
// remove. Generation is not timed.

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace lbg::bench {

struct Sample {
  std::string format;  // "pdf", "docx", "docm", "xlsx", "doc", "xls", "jpeg", "png", "zip"
  std::string name;
  std::string bytes;
  uint32_t pages = 0;  // PDFs: for the image-PDF figure
};

struct MixSpec {
  int files = 40;  // the mix, 50 KB - 10 MB, in the proportions of kMixShares (mix.cc)
  int large = 6;   // extra 10 MB files for the p99: PDFs with photographs and .docm, alternating
};

// Writes its intermediate files under a temporary directory (removed before returning) and runs
// LibreOffice (soffice) headless. Returns false with *error set when LibreOffice is missing or a
// conversion fails: the bench does not fall back to a mix without the formats it states.
bool makeMix(const MixSpec& spec, std::mt19937_64& rng, std::vector<Sample>* mix,
             std::vector<Sample>* large, std::string* error);

}  // namespace lbg::bench
