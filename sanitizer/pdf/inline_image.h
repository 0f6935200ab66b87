#pragma once

// Inline images (BI ... ID data EI, ISO 32000-1 §8.9.7) rebuilt instead of re-emitted: the
// dictionary is read from an allow-list (size, bits, device or Indexed colour space, image mask,
// Decode, Interpolate), the data decoded (unfiltered, ASCIIHex or Flate without predictors) and
// cut to exactly the pixels the size calls for, then written as a fresh dictionary with the data
// in ASCIIHex. Hex digits never spell "EI", so every reader ends the data where we do, whatever
// bytes the input carried.
//
// Self-contained apart from libdeflate (the content-stream fuzz target links it alone).

#include <string>
#include <string_view>
#include <vector>

#include "sanitizer/pdf/content_stream.h"

namespace lbg::sanitizer::pdf {

// Decoded pixels above this are not an inline image (the format recommends under 4 KiB).
constexpr size_t kMaxInlineImageBytes = 4u << 20;

// `dict` holds the key/value tokens between BI and ID, `data` the bytes between ID and EI. On
// success *out is the whole "BI ... EI\n" to emit; else *why says what was refused ("filter",
// "colour-space", "size", "data", "key").
bool rebuildInlineImage(const std::vector<Token>& dict, std::string_view data, std::string* out, std::string* why);

}  // namespace lbg::sanitizer::pdf
