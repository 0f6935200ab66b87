#include "sanitizer/pdf/image_reduction.h"

#include <qpdf/Buffer.hh>
#include <qpdf/QPDFObjectHandle.hh>
#include <qpdf/QPDFPageObjectHelper.hh>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "sanitizer/pdf/content_stream.h"

namespace lbg::sanitizer::pdf {
namespace {

// Smallest share of a side worth a pixel round trip instead of the lossless transcode.
constexpr int kLargestUsefulEighths = 6;
// Forms drawing forms: deeper than this and the document keeps every image whole.
constexpr int kMaxFormDepth = 12;
// Tokens read over all pages and forms (a form drawn on every page is read for every page).
constexpr uint64_t kMaxTokens = 20'000'000;
constexpr size_t kMaxSavedStates = 1024;

struct Matrix {
  double a = 1, b = 0, c = 0, d = 1, e = 0, f = 0;
};

// `m` applied first, then `n` (PDF's row-vector convention: CTM' = M x CTM).
Matrix times(const Matrix& m, const Matrix& n) {
  return {m.a * n.a + m.b * n.c, m.a * n.b + m.b * n.d, m.c * n.a + m.d * n.c,
          m.c * n.b + m.d * n.d, m.e * n.a + m.f * n.c + n.e, m.e * n.b + m.f * n.d + n.f};
}

bool isName(QPDFObjectHandle h, const char* name) { return h.isName() && h.getName() == name; }

bool streamOfSubtype(QPDFObjectHandle h, const char* subtype) {
  return h.isStream() && isName(h.getDict().getKey("/Subtype"), subtype);
}

bool matrixOf(QPDFObjectHandle array, Matrix* m) {
  if (!array.isArray() || array.getArrayNItems() != 6) return false;
  double v[6];
  for (int i = 0; i < 6; ++i) {
    QPDFObjectHandle item = array.getArrayItem(i);
    if (!item.isNumber()) return false;
    v[i] = item.getNumericValue();
  }
  *m = {v[0], v[1], v[2], v[3], v[4], v[5]};
  return true;
}

class Walker {
 public:
  Walker(double dpi, const FormatLimits& limits) : dpi_(dpi), limits_(limits) {}

  // False: give up on the whole document.
  bool walkPage(QPDFObjectHandle page) {
    QPDFObjectHandle contents = page.getKey("/Contents");
    std::string data;
    if (contents.isStream()) {
      if (!append(contents, &data)) return false;
    } else if (contents.isArray()) {
      for (int i = 0; i < contents.getArrayNItems(); ++i) {
        if (!contents.getArrayItem(i).isStream() || !append(contents.getArrayItem(i), &data)) return false;
        data += '\n';
      }
    } else {
      return contents.isNull();
    }
    Matrix start;
    QPDFObjectHandle unit = page.getKey("/UserUnit");
    if (unit.isNumber() && unit.getNumericValue() > 0) start.a = start.d = unit.getNumericValue();
    return walk(data, QPDFPageObjectHelper(page).getAttribute("/Resources", false), start, 0);
  }

  // Images drawn by the pages, with the largest share of their size any use needs.
  const std::map<QPDFObjGen, double>& needed() const { return needed_; }
  const std::set<QPDFObjGen>& walkedForms() const { return walkedForms_; }

 private:
  static bool append(QPDFObjectHandle stream, std::string* out) {
    std::shared_ptr<Buffer> data = stream.getStreamData(qpdf_dl_generalized);
    out->append(reinterpret_cast<const char*>(data->getBuffer()), data->getSize());
    return true;
  }

  bool walk(const std::string& content, QPDFObjectHandle resources, Matrix ctm, int depth) {
    if (depth > kMaxFormDepth) return false;
    std::vector<Matrix> saved;
    std::vector<Token> operands;
    ContentTokenizer tokens(content);
    Token t;
    while (tokens.next(&t)) {
      if ((++tokenCount_ & 0xFFFF) == 0 && limits_.expired()) return false;
      if (tokenCount_ > kMaxTokens) return false;
      if (t.type != TokenType::Keyword) {
        operands.push_back(t);
        continue;
      }
      if (t.text == "q") {
        if (saved.size() >= kMaxSavedStates) return false;
        saved.push_back(ctm);
      } else if (t.text == "Q") {
        if (!saved.empty()) ctm = saved.back(), saved.pop_back();
      } else if (t.text == "cm") {
        double v[6];
        if (operands.size() != 6) return false;
        for (int i = 0; i < 6; ++i) {
          if (operands[i].type != TokenType::Number) return false;
          v[i] = std::strtod(std::string(operands[i].text).c_str(), nullptr);
        }
        ctm = times({v[0], v[1], v[2], v[3], v[4], v[5]}, ctm);
      } else if (t.text == "Do") {
        std::string name;
        if (operands.size() != 1 || operands[0].type != TokenType::Name || !decodeName(operands[0].text, &name)) {
          return false;
        }
        if (!resources.isDictionary() || !resources.getKey("/XObject").isDictionary()) return false;
        QPDFObjectHandle x = resources.getKey("/XObject").getKey("/" + name);
        if (streamOfSubtype(x, "/Image")) {
          drawn(x, ctm);
        } else if (streamOfSubtype(x, "/Form")) {
          Matrix form;
          QPDFObjectHandle m = x.getDict().getKey("/Matrix");
          if (!m.isNull() && !matrixOf(m, &form)) return false;
          QPDFObjectHandle own = x.getDict().getKey("/Resources");
          walkedForms_.insert(x.getObjGen());
          std::string data;
          append(x, &data);
          if (!walk(data, own.isDictionary() ? own : resources, times(form, ctm), depth + 1)) return false;
        }
      }
      operands.clear();
    }
    return tokens.error().empty();
  }

  void drawn(QPDFObjectHandle image, const Matrix& ctm) {
    QPDFObjectHandle dict = image.getDict();
    QPDFObjectHandle w = dict.getKey("/Width"), h = dict.getKey("/Height");
    double share = 1;  // unknown size: no reduction
    if (w.isInteger() && h.isInteger() && w.getIntValue() > 0 && h.getIntValue() > 0) {
      const double pxW = std::hypot(ctm.a, ctm.b) / 72 * dpi_, pxH = std::hypot(ctm.c, ctm.d) / 72 * dpi_;
      share = std::max(pxW / static_cast<double>(w.getIntValue()), pxH / static_cast<double>(h.getIntValue()));
      if (!std::isfinite(share)) share = 1;
    }
    double& need = needed_[image.getObjGen()];
    need = std::max(need, share);
  }

  double dpi_;
  const FormatLimits& limits_;
  std::map<QPDFObjGen, double> needed_;
  std::set<QPDFObjGen> walkedForms_;
  uint64_t tokenCount_ = 0;
};

// Every image reachable through the /XObject resources of `resources`, into forms as well.
void markResources(QPDFObjectHandle resources, std::set<QPDFObjGen>* unknown, std::set<QPDFObjGen>* formsSeen) {
  std::vector<QPDFObjectHandle> work{resources};
  while (!work.empty()) {
    QPDFObjectHandle r = work.back();
    work.pop_back();
    if (!r.isDictionary() || !r.getKey("/XObject").isDictionary()) continue;
    QPDFObjectHandle xobjects = r.getKey("/XObject");
    for (const std::string& key : xobjects.getKeys()) {
      QPDFObjectHandle x = xobjects.getKey(key);
      if (streamOfSubtype(x, "/Image")) {
        unknown->insert(x.getObjGen());
      } else if (streamOfSubtype(x, "/Form") && formsSeen->insert(x.getObjGen()).second) {
        work.push_back(x.getDict().getKey("/Resources"));
      }
    }
  }
}

// Images some other construct may draw, at a size the page walk did not see, and masks.
std::set<QPDFObjGen> imagesOfUnknownUse(QPDF& pdf, const std::set<QPDFObjGen>& walkedForms) {
  std::set<QPDFObjGen> unknown, formsSeen;
  for (QPDFObjectHandle object : pdf.getAllObjects()) {
    // (qpdf answers a dictionary operation on another type with a warning, and the rebuild fails
    // on any warning: every access is guarded.)
    QPDFObjectHandle top = object.isStream() ? object.getDict() : object;
    if (!top.isDictionary() && !top.isArray()) continue;
    if (object.isStream() && streamOfSubtype(object, "/Image")) {
      for (const char* key : {"/SMask", "/Mask"}) {
        QPDFObjectHandle mask = top.getKey(key);
        if (mask.isNull()) continue;
        unknown.insert(object.getObjGen());  // a masked image keeps its size, and so does its mask
        if (mask.isStream()) unknown.insert(mask.getObjGen());
      }
    }
    // Pages (and the tree nodes they inherit from) and walked forms: their own resources were
    // followed by the walk. Anything else that carries resources, directly or in a direct
    // dictionary inside it (a Type 3 font in a page's /Font, a pattern, an appearance stream, a
    // soft mask's group), draws at a size we do not know.
    const bool walkedHere = (top.isDictionary() && (isName(top.getKey("/Type"), "/Page") ||
                                                    isName(top.getKey("/Type"), "/Pages"))) ||
                            (object.isStream() && walkedForms.count(object.getObjGen()) != 0);
    std::vector<QPDFObjectHandle> stack{top};
    bool first = true;
    while (!stack.empty()) {
      QPDFObjectHandle h = stack.back();
      stack.pop_back();
      if (h.isDictionary()) {
        if (!(first && walkedHere) && h.hasKey("/Resources")) markResources(h.getKey("/Resources"), &unknown, &formsSeen);
        for (const std::string& key : h.getKeys()) {
          QPDFObjectHandle child = h.getKey(key);
          if (!child.isIndirect() && (child.isDictionary() || child.isArray())) stack.push_back(child);
        }
      } else if (h.isArray()) {
        for (int i = 0; i < h.getArrayNItems(); ++i) {
          QPDFObjectHandle child = h.getArrayItem(i);
          if (!child.isIndirect() && (child.isDictionary() || child.isArray())) stack.push_back(child);
        }
      }
      first = false;
    }
  }
  return unknown;
}

}  // namespace

int reductionEighths(uint32_t width, uint32_t height, double drawnWidthPt, double drawnHeightPt, double dpi) {
  if (width == 0 || height == 0 || !(dpi > 0) || !(drawnWidthPt > 0) || !(drawnHeightPt > 0) ||
      !std::isfinite(drawnWidthPt) || !std::isfinite(drawnHeightPt) || !std::isfinite(dpi)) {
    return 8;
  }
  const double share = std::max(drawnWidthPt / 72 * dpi / width, drawnHeightPt / 72 * dpi / height);
  // The smallest eighths whose pixels still cover what the render shows (a hair of slack for
  // rounding in the matrices).
  const int eighths = std::max(1, static_cast<int>(std::ceil(share * 8 - 1e-6)));
  return eighths <= kLargestUsefulEighths ? eighths : 8;
}

std::map<QPDFObjGen, int> reducibleImages(QPDF& pdf, double dpi, const FormatLimits& limits) {
  std::map<QPDFObjGen, int> out;
  if (!(dpi > 0)) return out;
  Walker walker(dpi, limits);
  for (QPDFObjectHandle page : pdf.getAllPages()) {
    if (!walker.walkPage(page)) return out;
  }
  const std::set<QPDFObjGen> unknown = imagesOfUnknownUse(pdf, walker.walkedForms());
  for (const auto& [image, share] : walker.needed()) {
    if (unknown.count(image) != 0 || !(share > 0) || share >= 1) continue;
    QPDFObjectHandle dict = pdf.getObject(image).getDict();
    if (!dict.getKey("/Width").isInteger() || !dict.getKey("/Height").isInteger()) continue;
    const uint32_t width = static_cast<uint32_t>(dict.getKey("/Width").getIntValue());
    const uint32_t height = static_cast<uint32_t>(dict.getKey("/Height").getIntValue());
    // The share is the same for both sides (one use's larger side decides), so any side gives it.
    const int eighths = reductionEighths(width, height, share * width * 72 / dpi, share * height * 72 / dpi, dpi);
    if (eighths < 8) out[image] = eighths;
  }
  return out;
}

}  // namespace lbg::sanitizer::pdf
