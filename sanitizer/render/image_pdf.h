#pragma once

// Image-PDF mode (画像PDF化): every page of an (already rebuilt) PDF is rendered to pixels in a
// sandboxed child process and a new PDF is written that holds nothing but one JPEG per page. No
// text, font, annotation, form, link or script of the input can survive, at the cost of
// searchable text.

#include <string_view>

#include "sanitizer/common/format_result.h"

namespace lbg::sanitizer::render {

struct ImagePdfOptions {
  double dpi = 150;
  uint32_t maxPages = 1000;
};

class RenderPool;

// With a pool the pages are rendered by a pre-forked worker, else by a child forked for this file.
FormatResult pdfToImagePdf(std::string_view pdf, const FormatLimits& limits, const ImagePdfOptions& options = {},
                           RenderPool* pool = nullptr);

}  // namespace lbg::sanitizer::render
