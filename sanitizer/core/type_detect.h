#pragma once

// File type from content. The name is used only to narrow text (csv) and to block script names;
// it never makes a file look safer than its bytes.

#include <string>
#include <string_view>

#include "sanitizer/common/format_result.h"

namespace lbg::sanitizer {

struct TypeInfo {
  // Canonical short name: "pdf", "docx", "docm", ..., "zip", "png", "jpeg", "gif", "bmp", "tiff",
  // "text", "csv", "exe", "elf", "macho", "script", "lnk", "iso", "vhd", "vhdx", "hta", "html",
  // "svg", "onenote", "ichitaro", "rtf", "sylk", "office-xml-2003", "doc", "xls", "ppt", "msi",
  // "cfb", "encrypted-ooxml", "odf", "xps", "jar", "apk", "7z", "rar", "gzip", "bzip2", "xz", "cab",
  // "lzh", "chm", "java-class", "empty", "unknown".
  std::string type;
  // Non-empty when the bytes are valid as two formats at once (e.g. a ZIP appended to a PDF):
  // "polyglot:zip-appended", "polyglot:pdf-header-offset", "polyglot:pdf-in-zip".
  std::string polyglot;
  std::string magicMime;  // libmagic's MIME type, informational
};

TypeInfo detectType(std::string_view bytes, std::string_view nameHint, const FormatLimits& limits);

// Lower-case extension of a file name without the dot ("" if none).
std::string extensionOf(std::string_view name);

}  // namespace lbg::sanitizer
