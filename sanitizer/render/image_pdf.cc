#include "sanitizer/render/image_pdf.h"

// JSON first: clang with libstdc++ needs it complete before QPDFObjectHandle.hh uses it.
#include <qpdf/JSON.hh>
#include <qpdf/Buffer.hh>
#include <qpdf/QPDF.hh>
#include <qpdf/QPDFObjectHandle.hh>
#include <qpdf/QPDFWriter.hh>

#include <cairo.h>
#include <glib.h>
#include <poppler.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <vector>

#include "sanitizer/pdf/capped_sink.h"
#include "sanitizer/pdf/image_codec.h"
#include "sanitizer/render/render_pool.h"
#include "sanitizer/render/sandbox.h"

namespace lbg::sanitizer::render {
namespace {

struct Page {
  double widthPt = 0, heightPt = 0;
  uint32_t pixelWidth = 0, pixelHeight = 0;
  std::string_view jpeg;  // into the worker's answer, which outlives the pages
};

struct GObjectUnref {
  void operator()(gpointer p) const { g_object_unref(p); }
};
struct CairoDestroy {
  void operator()(cairo_t* cr) const { cairo_destroy(cr); }
  void operator()(cairo_surface_t* s) const { cairo_surface_destroy(s); }
};

template <typename T>
void put(std::string* out, T value) {
  out->append(reinterpret_cast<const char*>(&value), sizeof value);
}

template <typename T>
bool get(std::string_view* in, T* value) {
  if (in->size() < sizeof(T)) return false;
  std::memcpy(value, in->data(), sizeof(T));
  in->remove_prefix(sizeof(T));
  return true;
}

// What the render job needs, sent ahead of the PDF (the worker may have been forked long before).
struct RenderRequest {
  double dpi;
  uint32_t maxPages;
  double maxImagePixels;
};

// Runs in the sandboxed child (a pool worker or a fresh one): renders and emits 'P' records, or
// one 'E' record with a reason. The head is a RenderRequest.
bool renderAll(std::string_view head, std::string_view pdf, const Emit& emit) {
  RenderRequest options{};
  if (head.size() != sizeof options) return false;
  std::memcpy(&options, head.data(), sizeof options);
  auto error = [&](const std::string& why) {
    std::string rec = "E";
    rec += why;
    emit(rec);
    return true;  // the record carries the failure
  };
  // poppler-glib + cairo rather than poppler-cpp: poppler-cpp makes a new Splash device, font
  // engine and glyph cache for every page (every glyph rasterised again on each page, a third of
  // a text page's time), where poppler-glib keeps one cairo device per document; and cairo draws
  // into a surface of our own that the JPEG encoder reads as it is (no copy, no pixel repacking).
  GBytes* bytes = g_bytes_new_static(pdf.data(), pdf.size());
  GError* failure = nullptr;
  std::unique_ptr<PopplerDocument, GObjectUnref> doc(poppler_document_new_from_bytes(bytes, nullptr, &failure));
  g_bytes_unref(bytes);
  if (!doc) {
    const bool locked = failure != nullptr && failure->domain == POPPLER_ERROR && failure->code == POPPLER_ERROR_ENCRYPTED;
    if (failure != nullptr) g_error_free(failure);
    return error(locked ? "encrypted" : "parse-error");
  }
  int count = poppler_document_get_n_pages(doc.get());
  if (count <= 0) return error("no-content-left");
  if (static_cast<uint32_t>(count) > options.maxPages) return error("limit:pages");
  // One pixel buffer for the whole document, not zero-filled: every page is painted white first.
  std::unique_ptr<unsigned char[]> pixels;
  size_t pixelBytes = 0;
  for (int i = 0; i < count; ++i) {
    std::unique_ptr<PopplerPage, GObjectUnref> page(poppler_document_get_page(doc.get(), i));
    if (!page) return error("parse-error");
    // The page as a reader shows it: crop box, /Rotate applied.
    double w = 0, h = 0;
    poppler_page_get_size(page.get(), &w, &h);
    if (!(w > 0 && h > 0 && w < 14400 && h < 14400)) return error("parse-error");
    // Lower the resolution for huge pages so that one page never exceeds the pixel limit.
    double dpi = options.dpi;
    double pixelCount = (w / 72 * dpi) * (h / 72 * dpi);
    if (pixelCount > options.maxImagePixels) dpi *= std::sqrt(options.maxImagePixels / pixelCount);
    const int pw = std::max(1, static_cast<int>(std::lround(w / 72 * dpi)));
    const int ph = std::max(1, static_cast<int>(std::lround(h / 72 * dpi)));
    const int stride = cairo_format_stride_for_width(CAIRO_FORMAT_RGB24, pw);
    if (stride <= 0) return error("render-failed");
    const size_t bytesNeeded = static_cast<size_t>(stride) * static_cast<size_t>(ph);
    if (pixelBytes < bytesNeeded) {
      pixels.reset(new unsigned char[bytesNeeded]);
      pixelBytes = bytesNeeded;
    }
    std::unique_ptr<cairo_surface_t, CairoDestroy> surface(
        cairo_image_surface_create_for_data(pixels.get(), CAIRO_FORMAT_RGB24, pw, ph, stride));
    std::unique_ptr<cairo_t, CairoDestroy> cr(cairo_create(surface.get()));
    cairo_set_source_rgb(cr.get(), 1, 1, 1);  // paper
    cairo_paint(cr.get());
    cairo_scale(cr.get(), pw / w, ph / h);
    poppler_page_render(page.get(), cr.get());
    cairo_surface_flush(surface.get());
    if (cairo_status(cr.get()) != CAIRO_STATUS_SUCCESS || cairo_surface_status(surface.get()) != CAIRO_STATUS_SUCCESS) {
      return error("render-failed");
    }
    cr.reset();
    // Encoded straight from cairo's pixels (native-endian xRGB words), and sent as its own record.
    std::string jpeg;
    if (!pdf::encodeJpegRows(pixels.get(), static_cast<uint32_t>(pw), static_cast<uint32_t>(ph), 4,
                             static_cast<size_t>(stride), 85, &jpeg, /*fastDct=*/true)) {
      return error("render-failed");
    }
    std::string rec = "P";
    put(&rec, w);
    put(&rec, h);
    put(&rec, static_cast<uint32_t>(pw));
    put(&rec, static_cast<uint32_t>(ph));
    put(&rec, static_cast<uint64_t>(jpeg.size()));
    if (!emit(rec) || !emit(jpeg)) return false;
  }
  return true;
}

// Parent side: the child's bytes are untrusted too (it rendered hostile input).
bool parsePages(std::string_view in, std::vector<Page>* pages, std::string* reason) {
  while (!in.empty()) {
    char tag = in.front();
    in.remove_prefix(1);
    if (tag == 'E') {
      *reason = std::string(in.substr(0, 64));
      return false;
    }
    Page p;
    uint64_t len = 0;
    if (tag != 'P' || !get(&in, &p.widthPt) || !get(&in, &p.heightPt) || !get(&in, &p.pixelWidth) ||
        !get(&in, &p.pixelHeight) || !get(&in, &len) || len > in.size() || !(p.widthPt > 0 && p.widthPt < 14400) ||
        !(p.heightPt > 0 && p.heightPt < 14400) || p.pixelWidth == 0 || p.pixelHeight == 0) {
      *reason = "render-failed";
      return false;
    }
    p.jpeg = in.substr(0, len);
    in.remove_prefix(len);
    pages->push_back(std::move(p));
  }
  if (pages->empty()) {
    *reason = "render-failed";
    return false;
  }
  return true;
}

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", v);
  return buf;
}

}  // namespace

FormatResult pdfToImagePdf(std::string_view pdf, const FormatLimits& limits, const ImagePdfOptions& options,
                           RenderPool* pool) {
  if (pdf.size() > static_cast<size_t>(INT32_MAX)) return FormatResult::fail("limit:input-size");
  SandboxLimits sandbox;
  sandbox.deadline = finiteDeadline(limits.deadline);
  RenderRequest head{options.dpi, options.maxPages, static_cast<double>(limits.maxImagePixels)};
  std::string_view headBytes(reinterpret_cast<const char*>(&head), sizeof head);
  std::string raw, reason;
  bool ran = pool != nullptr ? pool->run(renderAll, headBytes, pdf, sandbox, &raw, &reason)
                             : runSandboxed([&](const Emit& emit) { return renderAll(headBytes, pdf, emit); }, sandbox,
                                            &raw, &reason);
  if (!ran) return FormatResult::fail(reason);
  std::vector<Page> pages;
  if (!parsePages(raw, &pages, &reason)) return FormatResult::fail(reason);
  FormatResult result;
  try {
    QPDF out;
    out.emptyPDF();
    for (const Page& p : pages) {
      // A Buffer over the worker's answer, not a copy of it: `raw` outlives `out`, qpdf only reads it.
      auto data = std::make_shared<Buffer>(reinterpret_cast<unsigned char*>(const_cast<char*>(p.jpeg.data())),
                                           p.jpeg.size());
      QPDFObjectHandle image = QPDFObjectHandle::newStream(&out, data);
      image.replaceDict(QPDFObjectHandle::parse("<< /Type /XObject /Subtype /Image /ColorSpace /DeviceRGB "
                                                "/BitsPerComponent 8 /Filter /DCTDecode /Width " +
                                                std::to_string(p.pixelWidth) + " /Height " +
                                                std::to_string(p.pixelHeight) + " >>"));
      std::string content = "q " + number(p.widthPt) + " 0 0 " + number(p.heightPt) + " 0 0 cm /Im0 Do Q\n";
      QPDFObjectHandle page = out.makeIndirectObject(QPDFObjectHandle::parse(
          "<< /Type /Page /MediaBox [0 0 " + number(p.widthPt) + " " + number(p.heightPt) + "] >>"));
      QPDFObjectHandle xobjects = QPDFObjectHandle::newDictionary();
      xobjects.replaceKey("/Im0", image);
      QPDFObjectHandle resources = QPDFObjectHandle::newDictionary();
      resources.replaceKey("/XObject", xobjects);
      page.replaceKey("/Resources", resources);
      page.replaceKey("/Contents", QPDFObjectHandle::newStream(&out, content));
      out.addPage(page, false);
    }
    QPDFWriter writer(out);
    // Written straight into the output: the pages' JPEGs plus a few hundred bytes per page.
    result.output.reserve(raw.size() + 1024 * pages.size() + 4096);
    pdf::CappedSink sink(&result.output, std::numeric_limits<uint64_t>::max());
    writer.setOutputPipeline(&sink);
    writer.setDeterministicID(true);
    writer.write();
  } catch (std::exception const&) {
    return FormatResult::fail("internal:image-pdf");
  }
  result.ok = true;
  result.outputType = "pdf";
  addRemoved(result.removed, "all-non-image-content", "image-pdf mode", static_cast<uint32_t>(pages.size()));
  return result;
}

}  // namespace lbg::sanitizer::render
