#include "sanitizer/testing/independent_scan.h"

#include <zip.h>

// JSON first: clang with libstdc++ needs it complete before QPDFObjectHandle.hh uses it.
#include <qpdf/JSON.hh>
#include <qpdf/QPDF.hh>
#include <qpdf/QPDFObjectHandle.hh>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

namespace lbg::sanitizer::testing {
namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

zip_t* openZip(const std::string& bytes) {
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* src = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &error);
  zip_t* za = src ? zip_open_from_source(src, ZIP_RDONLY, &error) : nullptr;
  if (za == nullptr && src != nullptr) zip_source_free(src);
  zip_error_fini(&error);
  return za;
}

}  // namespace

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> zipNames(const std::string& bytes) {
  std::vector<std::string> names;
  zip_t* za = openZip(bytes);
  if (za == nullptr) return names;
  for (zip_int64_t i = 0; i < zip_get_num_entries(za, 0); ++i) names.push_back(zip_get_name(za, i, 0));
  zip_discard(za);
  return names;
}

std::string zipRead(const std::string& bytes, const std::string& name) {
  zip_t* za = openZip(bytes);
  if (za == nullptr) return "";
  std::string out;
  if (zip_file_t* f = zip_fopen(za, name.c_str(), 0)) {
    char buf[8192];
    zip_int64_t n;
    while ((n = zip_fread(f, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
    zip_fclose(f);
  }
  zip_discard(za);
  return out;
}

std::vector<std::string> scanOoxml(const std::string& bytes) {
  std::vector<std::string> findings;
  zip_t* za = openZip(bytes);
  if (za == nullptr) return {"unreadable"};
  zip_discard(za);
  for (const std::string& name : zipNames(bytes)) {
    std::string n = lower(name);
    for (const char* bad : {"vbaproject", "vbadata", "macrosheets", "activex", "oleobject", "embeddings", "customui",
                            "externallinks"}) {
      if (n.find(bad) != std::string::npos) findings.push_back("part:" + name);
    }
    std::string data = zipRead(bytes, name);
    std::string l = lower(data);
    if (n.size() > 5 && n.substr(n.size() - 5) == ".rels" && l.find("targetmode=\"external\"") != std::string::npos) {
      findings.push_back("external:" + name);
    }
    if (l.find("ddelink") != std::string::npos) findings.push_back("ddeLink:" + name);
    if (l.find("attachedtemplate") != std::string::npos) findings.push_back("attachedTemplate:" + name);
    // Field instructions: the text of every instrText element and every instr="..." attribute.
    for (const std::string open : {std::string("instrtext"), std::string("instr=\"")}) {
      size_t pos = 0;
      while ((pos = l.find(open, pos)) != std::string::npos) {
        size_t start = l.find_first_of(open.back() == '"' ? "\"" : ">", pos + open.size() - 1);
        size_t end = l.find_first_of(open.back() == '"' ? "\"" : "<", start + 1);
        if (start == std::string::npos || end == std::string::npos) break;
        std::string code = l.substr(start + 1, end - start - 1);
        for (const char* word : {"dde", "includetext", "includepicture", "import ", "link ", "macrobutton", "quote"}) {
          if (code.find(word) != std::string::npos) findings.push_back("field:" + code);
        }
        pos = end;
      }
    }
  }
  return findings;
}

std::vector<std::string> scanPdf(const std::string& bytes) {
  std::vector<std::string> findings;
  QPDF pdf;
  pdf.setSuppressWarnings(true);
  try {
    pdf.processMemoryFile("scan.pdf", bytes.data(), bytes.size());
  } catch (std::exception const& e) {
    return {std::string("unreadable: ") + e.what()};
  }
  static const std::set<std::string> kKeys = {"/JS", "/JavaScript", "/AA", "/EmbeddedFiles", "/AF", "/XFA",
                                              "/RichMediaContent", "/EF"};
  static const std::set<std::string> kActions = {"/JavaScript", "/Launch", "/SubmitForm", "/ImportData", "/GoToR",
                                                 "/GoToE", "/Rendition", "/Movie", "/Sound", "/RichMediaExecute",
                                                 "/URI"};
  static const std::set<std::string> kAnnots = {"/FileAttachment", "/RichMedia", "/Movie", "/Sound", "/Screen", "/3D"};
  std::vector<QPDFObjectHandle> stack;
  for (auto& o : pdf.getAllObjects()) stack.push_back(o);
  std::set<QPDFObjGen> seen;
  while (!stack.empty()) {
    QPDFObjectHandle h = stack.back();
    stack.pop_back();
    if (h.isIndirect() && !seen.insert(h.getObjGen()).second) continue;
    QPDFObjectHandle d = h.isStream() ? h.getDict() : h;
    if (d.isDictionary()) {
      for (const auto& key : d.getKeys()) {
        if (kKeys.count(key)) findings.push_back("key:" + key);
        QPDFObjectHandle v = d.getKey(key);
        if (key == "/S" && v.isName() && kActions.count(v.getName())) findings.push_back("action:" + v.getName());
        if (key == "/Subtype" && v.isName() && kAnnots.count(v.getName())) findings.push_back("annot:" + v.getName());
        if (key == "/OpenAction" && !v.isArray()) {
          QPDFObjectHandle s = v.isDictionary() ? v.getKey("/S") : QPDFObjectHandle::newNull();
          if (!(s.isName() && s.getName() == "/GoTo")) findings.push_back("openaction");
        }
        if (!v.isIndirect()) stack.push_back(v);
      }
    } else if (h.isArray()) {
      for (int i = 0; i < h.getArrayNItems(); ++i) {
        QPDFObjectHandle v = h.getArrayItem(i);
        if (!v.isIndirect()) stack.push_back(v);
      }
    }
  }
  return findings;
}

}  // namespace lbg::sanitizer::testing
