#include "sanitizer/core/engine.h"

#include <unistd.h>

#include <atomic>
#include <chrono>

#include "sanitizer/archive/lzh_archive.h"
#include "sanitizer/archive/zip_archive.h"
#include "sanitizer/convert/legacy_office.h"
#include "sanitizer/core/cfb.h"
#include "sanitizer/core/quarantine.h"
#include "sanitizer/core/sha256.h"
#include "sanitizer/core/type_detect.h"
#include "sanitizer/core/type_policy.h"
#include "sanitizer/image/image_sanitizer.h"
#include "sanitizer/ooxml/ooxml_sanitizer.h"
#include "sanitizer/pdf/pdf_sanitizer.h"
#include "sanitizer/render/font_check.h"
#include "sanitizer/render/image_pdf.h"
#include "sanitizer/render/poppler_check.h"
#include "sanitizer/render/render_pool.h"
#include "sanitizer/text/text_sanitizer.h"

namespace lbg::sanitizer {
namespace {

constexpr const char* kEngineVersion = "lbg-sanitizer 0.1.0";

bool isOoxml(const std::string& t) {
  static const char* kTypes[] = {"docx", "docm", "dotx", "dotm", "xlsx", "xlsm", "xltx",
                                 "xltm", "pptx", "pptm", "potx", "potm", "ppsx", "ppsm"};
  for (const char* k : kTypes) {
    if (t == k) return true;
  }
  return false;
}

bool isImage(const std::string& t) {
  return t == "png" || t == "jpeg" || t == "gif" || t == "bmp" || t == "tiff";
}

std::string replaceExtension(std::string_view name, const std::string& ext) {
  std::string base(name);
  size_t slash = base.find_last_of('/');
  size_t dot = base.find_last_of('.');
  if (dot != std::string::npos && (slash == std::string::npos || dot > slash)) base.resize(dot);
  return base + "." + ext;
}

}  // namespace

// Per call: the budget shared by an archive and everything nested in it.
struct CallContext {
  std::chrono::steady_clock::time_point deadline;
  uint64_t expandedLeft = 0;
  uint32_t membersLeft = 0;
};

struct Engine::Impl {
  EngineConfig config;
  // Pre-forked sandboxed poppler workers for the PDF's independent check and image-PDF mode.
  std::unique_ptr<render::RenderPool> renderPool;
  std::string soffice;  // resolved LibreOffice, "" when legacy Office is not converted

  FormatLimits limitsFor(const CallContext& ctx) const {
    FormatLimits l;
    l.maxExpandedBytes = ctx.expandedLeft;
    l.maxArchiveMembers = ctx.membersLeft;
    l.maxCompressionRatio = config.maxCompressionRatio;
    l.maxImagePixels = config.maxImagePixels;
    l.deadline = ctx.deadline;
    return l;
  }

  // One file (top level or archive member). Fills report fields and returns the rebuilt bytes.
  FormatResult run(std::string_view input, std::string_view name, Mode mode, uint32_t depth,
                   CallContext& ctx, Report& report) const {
    if (input.size() > config.maxInputBytes) return FormatResult::fail("limit:input-size");
    FormatLimits limits = limitsFor(ctx);
    TypeInfo info = detectType(input, name, limits);
    report.detectedType = info.type;
    if (!info.polyglot.empty()) return FormatResult::fail(info.polyglot);
    TypeDecision decision = decideType(info.type, config.allowTypes, !soffice.empty());
    if (decision.action == TypeAction::Block) return FormatResult::fail(decision.reason);
    if (decision.action == TypeAction::PassThrough) {
      FormatResult pass;
      pass.ok = true;
      pass.output.assign(input);
      pass.outputType = info.type;
      return pass;
    }
    // Image-PDF renders PDFs, and Office documents once LibreOffice has printed them to PDF.
    bool office = isOoxml(info.type) || isLegacyOffice(info.type);
    if (mode == Mode::ImagePdf && info.type != "pdf" && !(office && !soffice.empty())) {
      return FormatResult::fail("mode-unsupported:image-pdf:" + info.type);
    }

    // In image-PDF mode the rebuilt PDF is rendered at this resolution: photographs drawn far
    // smaller than their size need not carry more pixels than it shows.
    const double renderDpi = mode == Mode::ImagePdf ? render::ImagePdfOptions{}.dpi : 0;
    FormatResult result = rebuild(input, info.type, depth, ctx, renderDpi);
    if (!result.ok) return result;
    if (limits.expired()) return FormatResult::fail("limit:timeout");
    // In image-PDF mode the rebuilt PDF is an intermediate that only the sandboxed renderer sees:
    // qpdf's check runs on it, poppler's runs on the image PDF that leaves.
    std::string why = secondCheck(result, limits, /*intermediate=*/mode == Mode::ImagePdf);
    if (!why.empty()) return FormatResult::fail(why);
    if (mode == Mode::Text) return toText(std::move(result), limits);
    if (mode == Mode::ImagePdf && result.outputType != "pdf") {
      // Office: the rebuilt, second-checked package (macros, OLE, DDE, links already gone) is
      // printed to PDF by LibreOffice in the exec sandbox; that PDF is untrusted input to the PDF
      // rebuild and its check, and then takes the same way to pixels as a PDF input.
      FormatResult printed = convert::officeToPdf(result.output, result.outputType, soffice, limits);
      if (!printed.ok) return printed;
      if (limits.expired()) return FormatResult::fail("limit:timeout");
      FormatResult pdf = rebuild(printed.output, "pdf", depth, ctx, renderDpi);
      if (!pdf.ok) return pdf;
      why = secondCheck(pdf, limits, /*intermediate=*/true);
      if (!why.empty()) return FormatResult::fail(why);
      for (auto& item : printed.removed) addRemoved(result.removed, item.kind, item.location, item.count);
      for (auto& item : pdf.removed) addRemoved(result.removed, item.kind, item.location, item.count);
      result.output = std::move(pdf.output);
      result.outputType = "pdf";
    }
    if (mode == Mode::ImagePdf) {
      // The renderer only ever sees the rebuilt PDF, and only inside its sandbox.
      FormatResult image = render::pdfToImagePdf(result.output, limits, {}, renderPool.get());
      if (!image.ok) return image;
      for (auto& item : result.removed) addRemoved(image.removed, item.kind, item.location, item.count);
      why = secondCheck(image, limits);
      if (!why.empty()) return FormatResult::fail(why);
      return image;
    }
    return result;
  }

  // `renderDpi`: image-PDF mode's render resolution, 0 in rebuild mode (pdf::RebuildOptions).
  FormatResult rebuild(std::string_view input, const std::string& type, uint32_t depth, CallContext& ctx,
                       double renderDpi = 0) const {
    FormatLimits limits = limitsFor(ctx);
    if (type == "pdf") {
      pdf::RebuildOptions options;
      options.renderDpi = renderDpi;
      options.imageThreads = config.imageThreads;
      // Font programs are parsed by FreeType in the render sandbox, never in this process.
      return pdf::sanitize(
          input, limits,
          [this, limits](const std::vector<std::string>& programs, std::vector<bool>* keep, std::string* reason) {
            return render::checkFontPrograms(programs, limits, renderPool.get(), keep, reason);
          },
          options);
    }
    if (isOoxml(type)) {
      return ooxml::sanitize(input, limits, [limits](std::string_view bytes, std::string* out, std::string* ct) {
        FormatResult image = image::sanitize(bytes, limits);
        if (!image.ok) return false;
        *out = std::move(image.output);
        *ct = image.outputType == "png" ? "image/png" : "image/jpeg";
        return true;
      });
    }
    if (isImage(type)) return image::sanitize(input, limits);
    if (isLegacyOffice(type)) {
      // Converted in the sandbox, then rebuilt like any OOXML that arrived from outside.
      FormatResult converted = convert::legacyToOoxml(input, type, soffice, limits);
      // LibreOffice cannot tell us why it gave up; a password the file declares is the usual cause.
      if (!converted.ok && converted.reason == "conversion-failed" && cfbLegacyEncrypted(input)) {
        return FormatResult::fail("encrypted");
      }
      if (!converted.ok) return converted;
      TypeInfo info = detectType(converted.output, "", limits);
      if (info.type != converted.outputType || !info.polyglot.empty()) return FormatResult::fail("conversion-failed");
      FormatResult rebuilt = rebuild(converted.output, info.type, depth, ctx);
      if (!rebuilt.ok) return rebuilt;
      rebuilt.removed.insert(rebuilt.removed.begin(), converted.removed.begin(), converted.removed.end());
      return rebuilt;
    }
    if (type == "text" || type == "csv") return text::sanitize(input, type);
    if (type == "zip" || type == "lzh") {
      if (depth >= config.maxArchiveDepth) return FormatResult::fail("limit:archive-depth");
      MemberSanitizer member = [this, depth, &ctx](std::string_view bytes, std::string_view memberName) {
        MemberOutcome outcome;
        if (ctx.membersLeft == 0) {
          outcome.reason = "limit:zip-members";
          return outcome;
        }
        --ctx.membersLeft;
        ctx.expandedLeft -= std::min<uint64_t>(ctx.expandedLeft, bytes.size());
        Report inner;
        FormatResult r = run(bytes, memberName, Mode::Rebuild, depth + 1, ctx, inner);
        outcome.ok = r.ok;
        outcome.reason = r.reason;
        outcome.removed = std::move(r.removed);
        if (r.ok) {
          outcome.output = std::move(r.output);
          outcome.outputName = replaceExtension(memberName, r.outputType == "text" ? "txt" : r.outputType);
        }
        return outcome;
      };
      return type == "zip" ? archive::sanitizeZip(input, limits, member) : archive::sanitizeLzh(input, limits, member);
    }
    return FormatResult::fail("type-blocked:" + type);
  }

  // The output is untrusted again: its type must be what the rebuilder claims, not a polyglot,
  // and the format's own verifier must find nothing.
  std::string secondCheck(const FormatResult& result, const FormatLimits& limits, bool intermediate = false) const {
    TypeInfo info = detectType(result.output, "", limits);
    if (!info.polyglot.empty()) return "verify:" + info.polyglot;
    const std::string& t = result.outputType;
    bool typeMatches = info.type == t || ((t == "text" || t == "csv") && (info.type == "text" || info.type == "csv" ||
                                                                          info.type == "empty"));
    if (!typeMatches) return "verify:type-mismatch";
    if (t == "pdf") {
      // qpdf (which wrote the file) first, then poppler, a different parser, in the sandbox.
      uint32_t pages = 0;
      std::string why = pdf::verify(result.output, limits, &pages);
      if (!why.empty() || intermediate) return why;
      return render::popplerCheck(result.output, pages, limits, renderPool.get());
    }
    if (isOoxml(t)) return ooxml::verify(result.output, limits);
    if (isImage(t)) return image::verify(result.output, limits);
    if (t == "zip") return archive::verifyZip(result.output, limits);
    return "";
  }

  FormatResult toText(FormatResult rebuilt, const FormatLimits& limits) const {
    FormatResult out;
    out.removed = std::move(rebuilt.removed);
    std::string reason;
    bool ok = false;
    if (rebuilt.outputType == "pdf") {
      ok = pdf::extractText(rebuilt.output, &out.output, &reason);
    } else if (isOoxml(rebuilt.outputType)) {
      ok = ooxml::extractText(rebuilt.output, limits, &out.output, &reason);
    } else if (rebuilt.outputType == "text" || rebuilt.outputType == "csv") {
      ok = true;
      out.output = std::move(rebuilt.output);
    } else {
      reason = "mode-unsupported:text:" + rebuilt.outputType;
    }
    if (!ok) return FormatResult::fail(reason);
    out.ok = true;
    out.outputType = "text";
    addRemoved(out.removed, "all-formatting", "text mode");
    return out;
  }
};

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Engine::~Engine() = default;

double Engine::renderWorkersCpuSeconds() const {
  return impl_->renderPool ? impl_->renderPool->liveWorkersCpuSeconds() : 0;
}

Result<std::unique_ptr<Engine>> Engine::create(const EngineConfig& config) {
  if (config.maxInputBytes == 0) return Error{"maxInputBytes must be > 0"};
  if (config.maxArchiveMembers == 0) return Error{"maxArchiveMembers must be > 0"};
  if (!(config.maxCompressionRatio >= 1.0)) return Error{"maxCompressionRatio must be >= 1"};
  if (config.maxExpandedBytes == 0) return Error{"maxExpandedBytes must be > 0"};
  if (config.timeoutMs == 0) return Error{"timeoutMs must be > 0"};
  if (config.maxImagePixels == 0) return Error{"maxImagePixels must be > 0"};
  if (config.imageThreads == 0 || config.imageThreads > EngineConfig::kMaxImageThreads) {
    return Error{"imageThreads must be 1.." + std::to_string(EngineConfig::kMaxImageThreads)};
  }
  if (config.policyVersion.empty()) return Error{"policyVersion must not be empty"};
  for (const auto& [type, allowed] : config.allowTypes) {
    if (!knownTypeName(type)) return Error{"allowTypes: unknown type '" + type + "'"};
  }
  if (!config.quarantineDir.empty()) {
    if (auto prepared = prepareQuarantine(config.quarantineDir); !prepared) return prepared.error();
  }
  auto impl = std::make_unique<Impl>();
  impl->config = config;
  if (config.renderWorkers > 0) impl->renderPool = std::make_unique<render::RenderPool>(config.renderWorkers);
  if (config.officeConverter == "auto") {
    impl->soffice = convert::findLibreOffice();
  } else if (!config.officeConverter.empty()) {
    if (::access(config.officeConverter.c_str(), X_OK) != 0) return Error{"officeConverter: not executable"};
    impl->soffice = config.officeConverter;
  }
  return std::unique_ptr<Engine>(new Engine(std::move(impl)));
}

Outcome Engine::sanitize(std::string_view input, std::string_view fileNameHint, Mode mode) const {
  auto start = std::chrono::steady_clock::now();
  const EngineConfig& config = impl_->config;
  Outcome outcome;
  Report& report = outcome.report;
  report.fileName = std::string(fileNameHint);
  report.mode = mode;
  report.engineVersion = kEngineVersion;
  report.policyVersion = config.policyVersion;
  report.inputBytes = input.size();
  report.inputSha256 = sha256Hex(input);

  CallContext ctx;
  ctx.deadline = start + std::chrono::milliseconds(config.timeoutMs);
  ctx.expandedLeft = config.maxExpandedBytes;
  ctx.membersLeft = config.maxArchiveMembers;
  FormatResult result;
  // Fail closed: whatever a parser throws (bad_alloc included) blocks the file.
  try {
    result = impl_->run(input, fileNameHint, mode, 0, ctx, report);
  } catch (const std::bad_alloc&) {
    result = FormatResult::fail("limit:memory");
  } catch (...) {
    result = FormatResult::fail("internal-error");
  }
  report.removed = std::move(result.removed);
  if (result.ok && !result.output.empty()) {
    report.verdict = Verdict::Sanitized;
    report.reason = result.reason;
    report.outputType = result.outputType;
    outcome.output = std::move(result.output);
    report.outputSha256 = sha256Hex(outcome.output);
    report.outputBytes = outcome.output.size();
  } else {
    report.verdict = Verdict::Blocked;
    report.reason = result.ok ? "no-content-left" : result.reason;
    if (report.reason.empty()) report.reason = "internal-error";
    outcome.output.clear();
  }
  report.millis = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  if (!config.quarantineDir.empty() && !input.empty()) {
    // A quarantine that cannot be written must not let the file through unrecorded.
    if (!quarantineStore(config.quarantineDir, report.inputSha256, input, report.toJson())) {
      report.verdict = Verdict::Blocked;
      report.reason = "quarantine-failed";
      report.outputSha256.clear();
      report.outputBytes = 0;
      outcome.output.clear();
    }
  }
  return outcome;
}

}  // namespace lbg::sanitizer
