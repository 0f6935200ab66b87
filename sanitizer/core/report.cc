#include <nlohmann/json.hpp>

#include "sanitizer/core/engine.h"

namespace lbg::sanitizer {

const char* modeName(Mode mode) {
  switch (mode) {
    case Mode::Rebuild: return "rebuild";
    case Mode::ImagePdf: return "image-pdf";
    case Mode::Text: return "text";
  }
  return "unknown";
}

const char* verdictName(Verdict verdict) { return verdict == Verdict::Sanitized ? "sanitized" : "blocked"; }

std::string Report::toJson() const {
  nlohmann::json removedJson = nlohmann::json::array();
  for (const auto& item : removed) {
    removedJson.push_back({{"kind", item.kind}, {"location", item.location}, {"count", item.count}});
  }
  nlohmann::json j = {
      {"file_name", fileName},
      {"input_sha256", inputSha256},
      {"output_sha256", outputSha256},
      {"detected_type", detectedType},
      {"output_type", outputType},
      {"mode", modeName(mode)},
      {"verdict", verdictName(verdict)},
      {"reason", reason},
      {"removed", removedJson},
      {"engine_version", engineVersion},
      {"policy_version", policyVersion},
      {"input_bytes", inputBytes},
      {"output_bytes", outputBytes},
      {"millis", millis},
  };
  // File names from the outside may be any bytes: replace invalid UTF-8 instead of throwing.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace lbg::sanitizer
