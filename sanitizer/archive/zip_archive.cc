#include "sanitizer/archive/zip_archive.h"

#include <set>

#include "sanitizer/common/archive_rules.h"
#include "sanitizer/common/zip_io.h"

namespace lbg::sanitizer::archive {
namespace {

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
    if (!safeMemberName(entry.name)) return FormatResult::fail("unsafe-path");
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
    if (!safeMemberName(entry.name)) return "verify:unsafe-path";
    if (!names.insert(entry.name).second) return "verify:duplicate-member";
  }
  return "";
}

}  // namespace lbg::sanitizer::archive
