#include "sanitizer/ooxml/ooxml_package.h"

#include <set>

#include "sanitizer/common/scratch_buffer.h"
#include "sanitizer/common/xml_util.h"

namespace lbg::sanitizer::ooxml {

std::string toLower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

namespace {

bool safeEntryName(std::string_view name) {
  if (name.empty() || name.front() == '/' || name.find('\\') != std::string_view::npos ||
      name.find('\0') != std::string_view::npos) {
    return false;
  }
  size_t start = 0;
  while (start <= name.size()) {
    size_t slash = name.find('/', start);
    std::string_view seg = name.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (seg == "." || seg == "..") return false;
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return true;
}

}  // namespace

std::unique_ptr<Package> Package::open(std::string_view bytes, const FormatLimits& limits, std::string* reason) {
  auto zip = ZipReader::open(bytes, limits, reason);
  if (!zip) return nullptr;
  std::unique_ptr<Package> pkg(new Package());
  for (const ZipEntry& entry : zip->entries()) {
    if (entry.directory) continue;
    if (entry.encrypted) {
      *reason = "encrypted";
      return nullptr;
    }
    if (!safeEntryName(entry.name)) {
      *reason = "parse-error";
      return nullptr;
    }
    std::string part = "/" + entry.name;
    // OPC part names are case-insensitive: two entries that differ only in case are two readings
    // of one part, which is how scanners get shown one thing and Office another.
    if (!pkg->byLowerName_.emplace(toLower(part), &entry).second) {
      *reason = "parse-error";
      return nullptr;
    }
    pkg->partNames_.push_back(part);
  }
  pkg->zip_ = std::move(zip);
  std::string typesXml;
  if (!pkg->read("/[Content_Types].xml", &typesXml, reason)) {
    if (reason->empty()) *reason = "parse-error";
    return nullptr;
  }
  pugi::xml_document doc;
  if (!xml::parse(typesXml, &doc)) {
    *reason = "parse-error";
    return nullptr;
  }
  for (pugi::xml_node node : doc.document_element().children()) {
    std::string_view local = xml::localName(node.name());
    if (local == "Default") {
      pkg->defaults_[toLower(node.attribute("Extension").as_string())] = node.attribute("ContentType").as_string();
    } else if (local == "Override") {
      pkg->overrides_[toLower(node.attribute("PartName").as_string())] = node.attribute("ContentType").as_string();
    }
  }
  return pkg;
}

bool Package::has(const std::string& partName) const { return byLowerName_.count(toLower(partName)) != 0; }

bool Package::read(const std::string& partName, std::string* out, std::string* reason) {
  auto it = byLowerName_.find(toLower(partName));
  if (it == byLowerName_.end()) {
    *reason = "parse-error";
    return false;
  }
  return zip_->read(*it->second, out, reason);
}

bool Package::read(const std::string& partName, ScratchBuffer* out, std::string* reason) {
  auto it = byLowerName_.find(toLower(partName));
  if (it == byLowerName_.end()) {
    *reason = "parse-error";
    return false;
  }
  return zip_->read(*it->second, out, reason);
}

std::string Package::contentType(const std::string& partName) const {
  std::string lower = toLower(partName);
  if (auto it = overrides_.find(lower); it != overrides_.end()) return it->second;
  size_t slash = lower.rfind('/');
  size_t dot = lower.rfind('.');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return "";
  if (auto it = defaults_.find(lower.substr(dot + 1)); it != defaults_.end()) return it->second;
  return "";
}

bool Package::relationships(const std::string& sourcePart, std::vector<Relationship>* rels, std::string* reason) {
  rels->clear();
  std::string relsPart = relsPartFor(sourcePart);
  if (!has(relsPart)) return true;
  std::string bytes;
  if (!read(relsPart, &bytes, reason)) return false;
  pugi::xml_document doc;
  if (!xml::parse(bytes, &doc)) {
    *reason = "parse-error";
    return false;
  }
  std::set<std::string> ids;
  for (pugi::xml_node node : doc.document_element().children()) {
    if (xml::localName(node.name()) != "Relationship") continue;
    Relationship rel;
    rel.id = node.attribute("Id").as_string();
    rel.type = node.attribute("Type").as_string();
    rel.target = node.attribute("Target").as_string();
    rel.external = std::string_view(node.attribute("TargetMode").as_string()) == "External";
    if (rel.id.empty() || !ids.insert(rel.id).second) {
      *reason = "parse-error";  // duplicate ids make every r:id reference ambiguous
      return false;
    }
    rels->push_back(std::move(rel));
  }
  return true;
}

std::string relsPartFor(const std::string& sourcePart) {
  if (sourcePart == "/") return "/_rels/.rels";
  size_t slash = sourcePart.rfind('/');
  return sourcePart.substr(0, slash + 1) + "_rels/" + sourcePart.substr(slash + 1) + ".rels";
}

std::string resolveTarget(const std::string& sourcePart, std::string_view target) {
  if (target.empty() || target.find('#') != std::string_view::npos ||
      target.find(':') != std::string_view::npos || target.find('\\') != std::string_view::npos) {
    return "";
  }
  std::string base;
  if (target.front() != '/') {
    size_t slash = sourcePart.rfind('/');
    base = sourcePart == "/" ? "/" : sourcePart.substr(0, slash + 1);
  }
  std::string joined = base + std::string(target);
  std::vector<std::string> segments;
  size_t start = 1;
  while (start <= joined.size()) {
    size_t slash = joined.find('/', start);
    std::string seg = joined.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (seg == "..") {
      if (segments.empty()) return "";  // escapes the package root
      segments.pop_back();
    } else if (!seg.empty() && seg != ".") {
      segments.push_back(seg);
    }
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  if (segments.empty()) return "";
  std::string out;
  for (const auto& seg : segments) out += "/" + seg;
  return out;
}

}  // namespace lbg::sanitizer::ooxml
