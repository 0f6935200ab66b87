#include "sanitizer/pdf/pdf_content.h"

#include <qpdf/Pipeline.hh>
#include <qpdf/QPDFObjectHandle.hh>
#include <qpdf/QPDFPageObjectHelper.hh>

#include <set>
#include <stdexcept>

#include "sanitizer/pdf/capped_sink.h"
#include "sanitizer/pdf/content_stream.h"

namespace lbg::sanitizer::pdf {
namespace {

struct Budget {
  uint64_t left;
};

bool decode(QPDFObjectHandle stream, Budget& budget, std::string* out, std::string* reason) {
  size_t before = out->size();
  CappedSink sink(out, before + budget.left);
  bool filtered = false;
  try {
    if (!stream.pipeStreamData(&sink, &filtered, 0, qpdf_dl_specialized, true) || !filtered) {
      *reason = "parse-error";
      return false;
    }
  } catch (std::length_error const&) {
    *reason = "limit:expanded-size";
    return false;
  }
  budget.left -= out->size() - before;
  return true;
}

// The resources a content stream names: XObjects allowed when image or form, property lists when
// they hold no action.
ContentResources resourcesOf(QPDFObjectHandle resources) {
  ContentResources r;
  r.xobjectAllowed = [resources](const std::string& name) mutable {
    if (!resources.isDictionary()) return false;
    QPDFObjectHandle xobjects = resources.getKey("/XObject");
    if (!xobjects.isDictionary()) return false;
    QPDFObjectHandle x = xobjects.getKey("/" + name);
    if (!x.isStream()) return false;
    QPDFObjectHandle subtype = x.getDict().getKey("/Subtype");
    return subtype.isName() && (subtype.getName() == "/Image" || subtype.getName() == "/Form");
  };
  r.propertiesAllowed = [resources](const std::string& name) mutable {
    if (!resources.isDictionary()) return false;
    QPDFObjectHandle props = resources.getKey("/Properties");
    if (!props.isDictionary()) return false;
    QPDFObjectHandle p = props.getKey("/" + name);
    if (!p.isDictionary()) return false;
    for (const char* key : {"/A", "/AA", "/JS", "/JavaScript", "/OpenAction", "/Next"}) {
      if (p.hasKey(key)) return false;
    }
    return true;
  };
  return r;
}

bool filterInto(QPDFObjectHandle target, const std::string& decoded, QPDFObjectHandle resources,
                const std::string& location, std::vector<RemovedItem>& removed, std::string* reason) {
  ContentFilterResult filtered = filterContentStream(decoded, resourcesOf(resources));
  if (!filtered.ok) {
    *reason = "parse-error";
    return false;
  }
  for (const auto& [kind, count] : filtered.dropped) addRemoved(removed, kind, location, count);
  // Written unfiltered: the new bytes are ours, and the writer copies streams without re-encoding.
  target.replaceStreamData(filtered.output, QPDFObjectHandle::newNull(), QPDFObjectHandle::newNull());
  return true;
}

// The glyph procedures of every Type 3 font in `object` (the object itself or a font dictionary
// held directly in it, as in a resource dictionary), each filtered once.
bool filterType3Glyphs(QPDFObjectHandle object, Budget& budget, std::set<QPDFObjGen>& done,
                       std::vector<RemovedItem>& removed, std::string* reason) {
  std::vector<QPDFObjectHandle> stack{object};
  size_t steps = 0;
  while (!stack.empty() && ++steps < 100000) {
    QPDFObjectHandle h = stack.back();
    stack.pop_back();
    if (!h.isDictionary()) continue;
    QPDFObjectHandle subtype = h.getKey("/Subtype");
    QPDFObjectHandle procs = h.getKey("/CharProcs");
    if (subtype.isName() && subtype.getName() == "/Type3" && procs.isDictionary()) {
      for (const std::string& key : procs.getKeys()) {
        QPDFObjectHandle glyph = procs.getKey(key);
        if (!glyph.isStream() || !done.insert(glyph.getObjGen()).second) continue;
        std::string decoded;
        if (!decode(glyph, budget, &decoded, reason)) return false;
        if (!filterInto(glyph, decoded, h.getKey("/Resources"), "obj " + std::to_string(glyph.getObjectID()) + " glyph content",
                        removed, reason)) {
          return false;
        }
      }
      continue;
    }
    for (const std::string& key : h.getKeys()) {
      QPDFObjectHandle child = h.getKey(key);
      if (!child.isIndirect() && child.isDictionary()) stack.push_back(child);
    }
  }
  return true;
}

}  // namespace

bool rebuildContentStreams(QPDF& pdf, const FormatLimits& limits, std::vector<RemovedItem>& removed,
                           std::string* reason) {
  Budget budget{limits.maxExpandedBytes};
  int pageNumber = 0;
  for (QPDFObjectHandle page : pdf.getAllPages()) {
    ++pageNumber;
    if (limits.expired()) {
      *reason = "limit:timeout";
      return false;
    }
    const std::string location = "page " + std::to_string(pageNumber) + " content";
    QPDFObjectHandle contents = page.getKey("/Contents");
    std::string decoded;
    if (contents.isStream()) {
      if (!decode(contents, budget, &decoded, reason)) return false;
    } else if (contents.isArray()) {
      // Split streams are one content stream (ISO 32000-1 §7.8.2): joined with a line break.
      for (int i = 0; i < contents.getArrayNItems(); ++i) {
        QPDFObjectHandle part = contents.getArrayItem(i);
        if (!part.isStream()) continue;
        if (!decode(part, budget, &decoded, reason)) return false;
        decoded += '\n';
      }
    } else if (!contents.isNull()) {
      *reason = "parse-error";
      return false;
    }
    if (contents.isNull()) continue;
    QPDFObjectHandle resources = QPDFPageObjectHelper(page).getAttribute("/Resources", false);
    // A fresh stream: a content stream shared between pages is filtered once per page, and the
    // original objects become unreachable and are not written.
    QPDFObjectHandle fresh = QPDFObjectHandle::newStream(&pdf, "");
    if (!filterInto(fresh, decoded, resources, location, removed, reason)) return false;
    page.replaceKey("/Contents", fresh);
  }
  // Form XObjects (appearance streams, reused graphics) and tiling patterns: filtered in place with
  // their own resources. Type 3 glyph procedures: with their font's resources.
  size_t n = 0;
  std::set<QPDFObjGen> glyphsDone;
  for (QPDFObjectHandle object : pdf.getAllObjects()) {
    if ((++n & 255) == 0 && limits.expired()) {
      *reason = "limit:timeout";
      return false;
    }
    if (!filterType3Glyphs(object, budget, glyphsDone, removed, reason)) return false;
    if (!object.isStream()) continue;
    QPDFObjectHandle dict = object.getDict();
    QPDFObjectHandle subtype = dict.getKey("/Subtype");
    QPDFObjectHandle patternType = dict.getKey("/PatternType");
    const bool tiling = patternType.isInteger() && patternType.getIntValue() == 1;
    if (!tiling) {
      if (!subtype.isName() || subtype.getName() != "/Form") continue;
      if (dict.hasKey("/Type") && !(dict.getKey("/Type").isName() && dict.getKey("/Type").getName() == "/XObject")) continue;
    }
    std::string decoded;
    if (!decode(object, budget, &decoded, reason)) return false;
    const std::string location = "obj " + std::to_string(object.getObjectID()) + (tiling ? " pattern content" : " form content");
    if (!filterInto(object, decoded, dict.getKey("/Resources"), location, removed, reason)) return false;
  }
  return true;
}

}  // namespace lbg::sanitizer::pdf
