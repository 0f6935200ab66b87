#include "sanitizer/icap/engine_filter.h"

#include <exception>

namespace lbg::icap {

EngineFilter::EngineFilter(std::shared_ptr<const sanitizer::Engine> engine, sanitizer::Mode mode,
                           std::string buildAndPolicy)
    : engine_(std::move(engine)), mode_(mode), buildAndPolicy_(std::move(buildAndPolicy)) {}

FilterResult EngineFilter::filter(std::string_view input, std::string_view fileNameHint) const {
  FilterResult r;
  try {
    auto outcome = engine_->sanitize(input, fileNameHint, mode_);
    const auto& rep = outcome.report;
    r.blocked = rep.verdict == sanitizer::Verdict::Blocked;
    r.detectedType = rep.detectedType;
    r.reason = rep.reason;
    r.inputSha256 = rep.inputSha256;
    for (const auto& item : rep.removed) r.removedKinds.push_back(item.kind);
    r.reportJson = rep.toJson();
    if (!r.blocked) {
      // The engine promises a non-empty output for a sanitized non-empty input; an empty one
      // would silently truncate the download, so it is treated as a failure.
      if (outcome.output.empty() && !input.empty()) {
        r.blocked = true;
        r.reason = "engine-empty-output";
      } else {
        r.output = std::move(outcome.output);
        r.outputType = rep.outputType;
      }
    }
  } catch (const std::exception&) {
    // The engine fails closed itself; this is the last line if it ever throws (e.g. bad_alloc).
    r = FilterResult{};
    r.blocked = true;
    r.reason = "engine-error";
  }
  return r;
}

std::string EngineFilter::versionTag() const {
  return buildAndPolicy_ + "|" + sanitizer::modeName(mode_);
}

bool parseMode(std::string_view text, sanitizer::Mode& out) {
  if (text == "rebuild") {
    out = sanitizer::Mode::Rebuild;
  } else if (text == "text") {
    out = sanitizer::Mode::Text;
  } else if (text == "image-pdf") {
    out = sanitizer::Mode::ImagePdf;
  } else {
    return false;
  }
  return true;
}

}  // namespace lbg::icap
