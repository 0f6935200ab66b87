#include "sanitizer/render/poppler_check.h"

#include <cairo.h>
#include <glib.h>
// poppler-glib: it enumerates actions and annotations (poppler-cpp does not) and renders through
// cairo, so the check parses the document once.
#include <poppler.h>

#include <cstring>
#include <memory>

#include "sanitizer/render/render_pool.h"
#include "sanitizer/render/sandbox.h"

namespace lbg::sanitizer::render {
namespace {

// Low resolution: the point is that the pages render, not the picture.
constexpr double kCheckDpi = 18;
// Pages rendered. Every page is parsed and scanned for actions, annotations and form fields (cheap);
// rendering is the costly part (an image PDF's page is a full JPEG decode at any resolution), so
// only the first pages are drawn, which proves the fonts, images and content of a rebuilt
// document that poppler draws.
constexpr int kRenderedPages = 2;

// An action a rebuilt PDF may keep: navigation inside the document. Everything else (launch,
// URI, remote go-to, JavaScript, media, form reset/submit, unknown) means the rebuild missed it.
bool allowedAction(const PopplerAction* action) {
  if (action == nullptr) return true;
  switch (action->type) {
    case POPPLER_ACTION_NONE:
    case POPPLER_ACTION_GOTO_DEST:
    case POPPLER_ACTION_NAMED:
    case POPPLER_ACTION_OCG_STATE:
      return true;
    default:
      return false;
  }
}

bool allowedAnnotation(PopplerAnnotType type) {
  switch (type) {
    case POPPLER_ANNOT_FILE_ATTACHMENT:
    case POPPLER_ANNOT_SOUND:
    case POPPLER_ANNOT_MOVIE:
    case POPPLER_ANNOT_SCREEN:
    case POPPLER_ANNOT_UNKNOWN:  // 3D, RichMedia and anything poppler does not name
      return false;
    default:
      return true;
  }
}

struct GObjectUnref {
  void operator()(gpointer p) const { g_object_unref(p); }
};

// Scans one page with poppler-glib. "" when clean, else the finding.
std::string scanPage(PopplerPage* page) {
  std::string finding;
  GList* links = poppler_page_get_link_mapping(page);
  for (GList* l = links; l != nullptr && finding.empty(); l = l->next) {
    auto* m = static_cast<PopplerLinkMapping*>(l->data);
    if (!allowedAction(m->action)) finding = "poppler-link-action";
  }
  poppler_page_free_link_mapping(links);
  GList* annots = poppler_page_get_annot_mapping(page);
  for (GList* l = annots; l != nullptr && finding.empty(); l = l->next) {
    auto* m = static_cast<PopplerAnnotMapping*>(l->data);
    if (!allowedAnnotation(poppler_annot_get_annot_type(m->annot))) finding = "poppler-annotation";
  }
  poppler_page_free_annot_mapping(annots);
  GList* fields = poppler_page_get_form_field_mapping(page);
  for (GList* l = fields; l != nullptr && finding.empty(); l = l->next) {
    auto* m = static_cast<PopplerFormFieldMapping*>(l->data);
    if (!allowedAction(poppler_form_field_get_action(m->field))) finding = "poppler-form-action";
    for (int t = POPPLER_ADDITIONAL_ACTION_FIELD_MODIFIED; t <= POPPLER_ADDITIONAL_ACTION_CALCULATE_FIELD; ++t) {
      if (finding.empty() &&
          !allowedAction(poppler_form_field_get_additional_action(m->field, static_cast<PopplerAdditionalActionType>(t)))) {
        finding = "poppler-form-action";
      }
    }
  }
  poppler_page_free_form_field_mapping(fields);
  return finding;
}

// Runs in the sandboxed child (a pool worker or a fresh one); emits "ok" or the finding. The
// head is the expected page count (u32).
bool checkJob(std::string_view head, std::string_view pdf, const Emit& emit) {
  uint32_t expectedPages = 0;
  if (head.size() != sizeof expectedPages) return false;
  std::memcpy(&expectedPages, head.data(), sizeof expectedPages);
  GBytes* bytes = g_bytes_new_static(pdf.data(), pdf.size());
  GError* error = nullptr;
  std::unique_ptr<PopplerDocument, GObjectUnref> doc(poppler_document_new_from_bytes(bytes, nullptr, &error));
  g_bytes_unref(bytes);
  if (!doc) {
    if (error != nullptr) g_error_free(error);
    return emit("verify:poppler-parse-error");
  }
  int pages = poppler_document_get_n_pages(doc.get());
  if (pages < 0 || static_cast<uint32_t>(pages) != expectedPages) return emit("verify:poppler-page-count");
  if (poppler_document_has_javascript(doc.get())) return emit("verify:poppler-javascript");
  if (poppler_document_get_n_attachments(doc.get()) != 0) return emit("verify:poppler-attachment");
  for (int i = 0; i < pages; ++i) {
    std::unique_ptr<PopplerPage, GObjectUnref> page(poppler_document_get_page(doc.get(), i));
    if (!page) return emit("verify:poppler-parse-error");
    std::string finding = scanPage(page.get());
    if (!finding.empty()) return emit("verify:" + finding);
  }
  // The first pages must render. Through cairo on the document already open: a second parse with
  // poppler-cpp (and its copy of the file) cost as much as the render itself.
  for (int i = 0; i < pages && i < kRenderedPages; ++i) {
    std::unique_ptr<PopplerPage, GObjectUnref> page(poppler_document_get_page(doc.get(), i));
    if (!page) return emit("verify:poppler-render");
    double w = 0, h = 0;
    poppler_page_get_size(page.get(), &w, &h);
    if (!(w > 0 && h > 0 && w < 14400 && h < 14400)) return emit("verify:poppler-render");
    const double scale = kCheckDpi / 72;
    cairo_surface_t* surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, static_cast<int>(w * scale) + 1,
                                                          static_cast<int>(h * scale) + 1);
    cairo_t* cr = cairo_create(surface);
    cairo_scale(cr, scale, scale);
    // Rendered as for printing (every annotation kind included, POPPLER_PRINT_ALL): the same
    // parse, content, fonts and image decodes as a screen render, but poppler draws each image
    // with cairo's nearest-neighbour filter instead of its box-filtered downscale. At 18 dpi nobody
    // looks at the picture, and the downscale of an image PDF's full-page photograph cost as much
    // as decoding it (2026-12-07: 34-48 ms against 21-29 ms for the first two pages of a bench
    // image PDF, 47-49 against 27-36 ms for a 10 MB photograph PDF).
    poppler_page_render_for_printing(page.get(), cr);
    const bool rendered = cairo_status(cr) == CAIRO_STATUS_SUCCESS && cairo_surface_status(surface) == CAIRO_STATUS_SUCCESS;
    cairo_destroy(cr);
    cairo_surface_destroy(surface);
    if (!rendered) return emit("verify:poppler-render");
  }
  return emit("ok");
}

}  // namespace

std::string popplerCheck(std::string_view pdf, uint32_t expectedPages, const FormatLimits& limits, RenderPool* pool) {
  if (pdf.size() > static_cast<size_t>(INT32_MAX)) return "limit:input-size";
  SandboxLimits sandbox;
  sandbox.deadline = finiteDeadline(limits.deadline);
  sandbox.maxOutputBytes = 256;
  std::string_view head(reinterpret_cast<const char*>(&expectedPages), sizeof expectedPages);
  std::string answer, reason;
  bool ran = pool != nullptr ? pool->run(checkJob, head, pdf, sandbox, &answer, &reason)
                             : runSandboxed([&](const Emit& emit) { return checkJob(head, pdf, emit); }, sandbox,
                                            &answer, &reason);
  if (!ran) return reason.empty() ? "verify:poppler-render" : reason;
  if (answer == "ok") return "";
  // The child's answer is untrusted (it parsed hostile bytes): only our own reasons pass through.
  if (answer.rfind("verify:poppler-", 0) == 0 && answer.size() < 64) return answer;
  return "verify:poppler-render";
}

}  // namespace lbg::sanitizer::render
