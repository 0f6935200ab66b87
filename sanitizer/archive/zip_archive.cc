#include "sanitizer/archive/zip_archive.h"

#include <set>

#include "sanitizer/common/zip_io.h"

namespace lbg::sanitizer::archive {
namespace {

// Member names become paths when the user extracts: no absolute paths, no "..", no drive letters
// or backslashes (zip-slip), no control characters.
bool safeName(std::string_view name) {
  if (name.empty() || name.front() == '/' || name.find('\\') != std::string_view::npos ||
      name.find(':') != std::string_view::npos) {
    return false;
  }
  for (char c : name) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) return false;
  }
  size_t start = 0;
  for (;;) {
    size_t slash = name.find('/', start);
    std::string_view seg = name.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (seg == "..") return false;
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return true;
}

bool propagates(const std::string& reason) {
  return reason.rfind("limit:", 0) == 0 || reason == "encrypted" || reason == "internal-error";
}

}  // namespace

FormatResult sanitizeZip(std::string_view bytes, const FormatLimits& limits, const MemberSanitizer& member) {
  std::string reason;
  auto reader = ZipReader::open(bytes, limits, &reason);
  if (!reader) return FormatResult::fail(reason);
  FormatResult result;
  ZipWriter writer;
  std::set<std::string> names;
  size_t written = 0;
  for (const ZipEntry& entry : reader->entries()) {
    if (limits.expired()) return FormatResult::fail("limit:timeout");
    if (!safeName(entry.name)) return FormatResult::fail("unsafe-path");
    if (entry.encrypted) return FormatResult::fail("encrypted");
    if (entry.directory) continue;
    std::string data;
    if (!reader->read(entry, &data, &reason)) return FormatResult::fail(reason);
    MemberOutcome outcome = member(data, entry.name);
    for (auto& item : outcome.removed) {
      addRemoved(result.removed, item.kind, entry.name + "/" + item.location, item.count);
    }
    if (!outcome.ok) {
      if (propagates(outcome.reason)) return FormatResult::fail(outcome.reason);
      addRemoved(result.removed, "blocked-member:" + outcome.reason, entry.name);
      continue;
    }
    // Two members may rebuild to one name (a.docm and a.docx): never overwrite, never guess.
    if (!names.insert(outcome.outputName).second) {
      addRemoved(result.removed, "duplicate-member", entry.name);
      continue;
    }
    writer.add(outcome.outputName, std::move(outcome.output));
    ++written;
  }
  if (written == 0) return FormatResult::fail("no-content-left");
  if (!writer.finish(&result.output, &reason)) return FormatResult::fail(reason);
  result.ok = true;
  result.outputType = "zip";
  return result;
}

std::string verifyZip(std::string_view bytes, const FormatLimits& limits) {
  std::string reason;
  auto reader = ZipReader::open(bytes, limits, &reason);
  if (!reader) return "verify:" + reason;
  std::set<std::string> names;
  for (const ZipEntry& entry : reader->entries()) {
    if (entry.encrypted) return "verify:encrypted";
    if (!safeName(entry.name)) return "verify:unsafe-path";
    if (!names.insert(entry.name).second) return "verify:duplicate-member";
  }
  return "";
}

}  // namespace lbg::sanitizer::archive
