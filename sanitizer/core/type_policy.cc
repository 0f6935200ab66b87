#include "sanitizer/core/type_policy.h"

#include <set>

namespace lbg::sanitizer {
namespace {

const std::set<std::string>& rebuildable() {
  static const std::set<std::string> kTypes = {
      "pdf",  "docx", "docm", "dotx", "dotm", "xlsx", "xlsm", "xltx", "xltm", "pptx", "pptm",
      "potx", "potm", "ppsx", "ppsm", "zip",  "lzh",  "png",  "jpeg", "gif",  "bmp",  "tiff", "text",
      "csv"};
  return kTypes;
}

const std::set<std::string>& otherKnown() {
  static const std::set<std::string> kTypes = {
      "exe", "elf", "macho", "script", "lnk", "iso", "vhd", "vhdx", "hta",
      "html", "svg", "xml", "onenote", "ichitaro", "rtf", "sylk", "office-xml-2003", "doc", "xls",
      "ppt", "msi", "cfb", "encrypted-ooxml", "odf", "xps", "jar", "apk", "7z", "rar", "gzip",
      "bzip2", "xz", "cab", "chm", "java-class", "xlsb", "xlam", "ppam", "opc-unknown",
      "ooxml-broken", "ooxml-ambiguous", "empty", "unknown"};
  return kTypes;
}

}  // namespace

bool hasRebuilder(const std::string& type) { return rebuildable().count(type) != 0; }

bool isLegacyOffice(const std::string& type) {
  return type == "doc" || type == "xls" || type == "ppt" || type == "rtf";
}

bool knownTypeName(const std::string& name) { return hasRebuilder(name) || otherKnown().count(name) != 0; }

TypeDecision decideType(const std::string& type, const std::map<std::string, bool>& overrides,
                        bool canConvertLegacy) {
  TypeDecision d;
  if (type == "empty") {
    d.reason = "empty";
    return d;
  }
  if (type == "encrypted-ooxml") {
    d.reason = "encrypted";  // no password, no content to inspect: never passes
    return d;
  }
  auto it = overrides.find(type);
  if (hasRebuilder(type) || (canConvertLegacy && isLegacyOffice(type))) {
    if (it != overrides.end() && !it->second) {
      d.reason = "type-blocked:" + type;
      return d;
    }
    d.action = TypeAction::Rebuild;
    return d;
  }
  if (it != overrides.end() && it->second && type != "unknown" && type != "ooxml-broken" &&
      type != "ooxml-ambiguous") {
    d.action = TypeAction::PassThrough;
    d.reason = "allowed-by-policy";
    return d;
  }
  if (type == "doc" || type == "xls" || type == "ppt") {
    d.reason = "type-blocked:legacy-office (conversion not available)";
  } else if (type == "xlam" || type == "ppam") {
    d.reason = "type-blocked:addin";  // add-ins exist to carry code
  } else if (type == "ooxml-broken" || type == "ooxml-ambiguous") {
    d.reason = "parse-error";
  } else {
    d.reason = "type-blocked:" + type;
  }
  return d;
}

}  // namespace lbg::sanitizer
