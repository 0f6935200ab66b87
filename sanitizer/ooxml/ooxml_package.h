#pragma once

// OPC (ECMA-376 part 2) plumbing shared by rebuild, verification and text extraction: part names,
// [Content_Types].xml and .rels files read from an untrusted ZIP.

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sanitizer/common/zip_io.h"

namespace lbg::sanitizer::ooxml {

struct Relationship {
  std::string id, type, target;
  bool external = false;
};

// A package opened for reading: entries indexed by lower-case part name ("/word/document.xml").
class Package {
 public:
  // nullptr + reason ("parse-error", "encrypted", "limit:...") for an unusable package: unsafe or
  // duplicate names, encrypted members, missing or malformed [Content_Types].xml.
  static std::unique_ptr<Package> open(std::string_view bytes, const FormatLimits& limits, std::string* reason);

  bool has(const std::string& partName) const;
  bool read(const std::string& partName, std::string* out, std::string* reason);
  // Into a pooled buffer, not initialised first: for parts that may be large (XML).
  bool read(const std::string& partName, ScratchBuffer* out, std::string* reason);
  // Override by part name, else Default by extension; "" if none.
  std::string contentType(const std::string& partName) const;
  // Relationships of a part ("/" for the package root). Missing .rels file: empty list, true.
  bool relationships(const std::string& sourcePart, std::vector<Relationship>* rels, std::string* reason);
  const std::vector<std::string>& partNames() const { return partNames_; }

 private:
  std::unique_ptr<ZipReader> zip_;
  std::map<std::string, const ZipEntry*> byLowerName_;
  std::vector<std::string> partNames_;  // as in the archive, with a leading '/'
  std::map<std::string, std::string> defaults_, overrides_;  // lower-case keys
};

// "/word/_rels/document.xml.rels" for "/word/document.xml"; "/_rels/.rels" for "/".
std::string relsPartFor(const std::string& sourcePart);

// Resolves a relative target against the source part's folder. "" when it escapes the package or
// is not a part name.
std::string resolveTarget(const std::string& sourcePart, std::string_view target);

std::string toLower(std::string_view s);

}  // namespace lbg::sanitizer::ooxml
