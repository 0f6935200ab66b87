#include "sanitizer/render/image_pdf.h"

// JSON first: clang with libstdc++ needs it complete before QPDFObjectHandle.hh uses it.
#include <qpdf/JSON.hh>
#include <qpdf/Buffer.hh>
#include <qpdf/QPDF.hh>
#include <qpdf/QPDFObjectHandle.hh>
#include <qpdf/QPDFWriter.hh>

#include <poppler-document.h>
#include <poppler-global.h>
#include <poppler-image.h>
#include <poppler-page-renderer.h>
#include <poppler-page.h>

#include <cmath>
#include <cstring>
#include <memory>
#include <vector>

#include "sanitizer/pdf/image_codec.h"
#include "sanitizer/render/render_pool.h"
#include "sanitizer/render/sandbox.h"

namespace lbg::sanitizer::render {
namespace {

struct Page {
  double widthPt = 0, heightPt = 0;
  uint32_t pixelWidth = 0, pixelHeight = 0;
  std::string jpeg;
};

void quiet(const std::string&, void*) {}

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
  poppler::set_debug_error_function(quiet, nullptr);
  std::unique_ptr<poppler::document> doc(
      poppler::document::load_from_raw_data(pdf.data(), static_cast<int>(pdf.size())));
  if (!doc) return error("parse-error");
  if (doc->is_locked()) return error("encrypted");
  int count = doc->pages();
  if (count <= 0) return error("no-content-left");
  if (static_cast<uint32_t>(count) > options.maxPages) return error("limit:pages");
  poppler::page_renderer renderer;
  renderer.set_render_hint(poppler::page_renderer::antialiasing, true);
  renderer.set_render_hint(poppler::page_renderer::text_antialiasing, true);
  renderer.set_image_format(poppler::image::format_rgb24);
  for (int i = 0; i < count; ++i) {
    std::unique_ptr<poppler::page> page(doc->create_page(i));
    if (!page) return error("parse-error");
    poppler::rectf box = page->page_rect(poppler::media_box);
    double w = box.width(), h = box.height();
    if (!(w > 0 && h > 0 && w < 14400 && h < 14400)) return error("parse-error");
    // Lower the resolution for huge pages so that one page never exceeds the pixel limit.
    double dpi = options.dpi;
    double pixels = (w / 72 * dpi) * (h / 72 * dpi);
    if (pixels > options.maxImagePixels) dpi *= std::sqrt(options.maxImagePixels / pixels);
    poppler::image img = renderer.render_page(page.get(), dpi, dpi);
    if (!img.is_valid() || img.width() <= 0 || img.height() <= 0) return error("render-failed");
    // Encoded straight from the renderer's rows (packed RGB, padded stride): no 6 MB repacking copy
    // per page, and the JPEG goes out as its own record rather than appended to the header.
    std::string jpeg;
    if (!pdf::encodeJpegRows(reinterpret_cast<const unsigned char*>(img.const_data()), static_cast<uint32_t>(img.width()),
                             static_cast<uint32_t>(img.height()), 3, static_cast<size_t>(img.bytes_per_row()), 85,
                             &jpeg)) {
      return error("render-failed");
    }
    std::string rec = "P";
    put(&rec, w);
    put(&rec, h);
    put(&rec, static_cast<uint32_t>(img.width()));
    put(&rec, static_cast<uint32_t>(img.height()));
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
    p.jpeg.assign(in.substr(0, len));
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
      QPDFObjectHandle image = QPDFObjectHandle::newStream(&out, p.jpeg);
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
    writer.setOutputMemory();
    writer.setDeterministicID(true);
    writer.write();
    auto buffer = writer.getBufferSharedPointer();
    result.output.assign(reinterpret_cast<const char*>(buffer->getBuffer()), buffer->getSize());
  } catch (std::exception const&) {
    return FormatResult::fail("internal:image-pdf");
  }
  result.ok = true;
  result.outputType = "pdf";
  addRemoved(result.removed, "all-non-image-content", "image-pdf mode", static_cast<uint32_t>(pages.size()));
  return result;
}

}  // namespace lbg::sanitizer::render
