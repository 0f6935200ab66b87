#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "sanitizer/core/engine.h"
#include "sanitizer/icap/content_filter.h"

namespace lbg::icap {

// ContentFilter over the real CDR engine: one mode for the whole service.
class EngineFilter final : public ContentFilter {
 public:
  // `buildAndPolicy` identifies the engine build and its policy (e.g. "0.1.0|default"); with the
  // mode it makes the version tag behind the ISTag.
  EngineFilter(std::shared_ptr<const sanitizer::Engine> engine, sanitizer::Mode mode,
               std::string buildAndPolicy);

  FilterResult filter(std::string_view input, std::string_view fileNameHint) const override;
  std::string versionTag() const override;

 private:
  std::shared_ptr<const sanitizer::Engine> engine_;
  sanitizer::Mode mode_;
  std::string buildAndPolicy_;
};

// "rebuild" | "text" | "image-pdf"; false for anything else.
bool parseMode(std::string_view text, sanitizer::Mode& out);

}  // namespace lbg::icap
