// Text-only mode for PDF: poppler's text layer of the already rebuilt file.

#include <poppler-document.h>
#include <poppler-global.h>
#include <poppler-page.h>

#include <memory>

#include "sanitizer/pdf/pdf_sanitizer.h"

namespace lbg::sanitizer::pdf {
namespace {

void quiet(const std::string&, void*) {}

}  // namespace

bool extractText(std::string_view bytes, std::string* text, std::string* reason) {
  text->clear();
  if (bytes.size() > static_cast<size_t>(INT32_MAX)) {
    *reason = "limit:input-size";
    return false;
  }
  // Poppler otherwise writes its complaints about broken files to stderr of the daemon.
  poppler::set_debug_error_function(quiet, nullptr);
  std::unique_ptr<poppler::document> doc(
      poppler::document::load_from_raw_data(bytes.data(), static_cast<int>(bytes.size())));
  if (!doc || doc->is_locked()) {
    *reason = doc ? "encrypted" : "parse-error";
    return false;
  }
  for (int i = 0; i < doc->pages(); ++i) {
    std::unique_ptr<poppler::page> page(doc->create_page(i));
    if (!page) continue;
    poppler::byte_array utf8 = page->text().to_utf8();
    if (i > 0) *text += '\f';
    text->append(utf8.begin(), utf8.end());
    if (!text->empty() && text->back() != '\n') *text += '\n';
  }
  return true;
}

}  // namespace lbg::sanitizer::pdf
