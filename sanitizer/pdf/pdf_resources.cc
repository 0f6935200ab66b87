#include "sanitizer/pdf/pdf_resources.h"

#include <qpdf/Buffer.hh>
#include <qpdf/Pipeline.hh>
#include <qpdf/QPDFObjectHandle.hh>

#include <algorithm>
#include <map>
#include <stdexcept>

#include "sanitizer/common/parallel_for.h"
#include "sanitizer/pdf/capped_sink.h"
#include "sanitizer/pdf/image_codec.h"

namespace lbg::sanitizer::pdf {
namespace {

struct Budget {
  uint64_t left;
};

// Largest buffer reserved up front for a decoded image: a dictionary can claim any size.
constexpr uint64_t kMaxImageReserve = 64ull << 20;

// Generalised decode (Flate, with predictors) into *out. False when qpdf cannot decode the filter
// chain; throws length_error past the budget.
bool decodeGeneral(QPDFObjectHandle stream, Budget& budget, std::string* out) {
  CappedSink sink(out, budget.left);
  bool filtered = false;
  if (!stream.pipeStreamData(&sink, &filtered, 0, qpdf_dl_generalized, true) || !filtered) return false;
  budget.left -= out->size();
  return true;
}

bool isName(QPDFObjectHandle h, const char* name) { return h.isName() && h.getName() == name; }

// The common Flate image (no /DecodeParms, exactly the pixels its size needs: every screenshot a
// producer writes) inflated by libdeflate straight into a buffer of that size, where qpdf's
// general decoder runs zlib through its pipeline in chunks (the largest share of a screenshot's
// rebuild). False for anything else, and the caller decodes with qpdf as before.
bool inflateExact(QPDFObjectHandle stream, const std::string& filter, uint64_t size, Budget& budget,
                  std::string* out) {
  if (filter != "/FlateDecode" || !stream.getDict().getKey("/DecodeParms").isNull() || size == 0 ||
      size > budget.left || size > kMaxImageReserve) {
    return false;
  }
  std::shared_ptr<Buffer> raw = stream.getRawStreamData();
  if (!inflateZlibExact(std::string_view(reinterpret_cast<const char*>(raw->getBuffer()), raw->getSize()),
                        static_cast<size_t>(size), out)) {
    return false;
  }
  budget.left -= size;
  return true;
}

// The stream's single filter name ("" for none), or "?" for a chain or anything malformed.
std::string singleFilter(QPDFObjectHandle dict) {
  QPDFObjectHandle f = dict.getKey("/Filter");
  if (f.isNull()) return "";
  if (f.isArray() && f.getArrayNItems() == 1) f = f.getArrayItem(0);
  if (f.isArray() && f.getArrayNItems() == 0) return "";
  if (!f.isName()) return "?";
  std::string n = f.getName();
  if (n == "/Fl") return "/FlateDecode";
  if (n == "/DCT") return "/DCTDecode";
  return n;
}

std::string objLocation(QPDFObjectHandle h) { return "obj " + std::to_string(h.getObjectID()); }

QPDFObjectHandle deviceSpace(int n) {
  return QPDFObjectHandle::newName(n == 1 ? "/DeviceGray" : n == 3 ? "/DeviceRGB" : "/DeviceCMYK");
}

// A colour space rebuilt from the allow-list: device spaces, Cal* and ICCBased as their device
// equivalent (the profile is not carried), Indexed over one of those with its table as a string.
// Null with *why on anything else.
QPDFObjectHandle rebuildColourSpace(QPDFObjectHandle cs, Budget& budget, int* components, std::string* why) {
  if (cs.isName()) {
    const std::string n = cs.getName();
    if (n == "/DeviceGray" || n == "/G") return *components = 1, deviceSpace(1);
    if (n == "/DeviceRGB" || n == "/RGB") return *components = 3, deviceSpace(3);
    if (n == "/DeviceCMYK" || n == "/CMYK") return *components = 4, deviceSpace(4);
  } else if (cs.isArray() && cs.getArrayNItems() >= 1 && cs.getArrayItem(0).isName()) {
    const std::string family = cs.getArrayItem(0).getName();
    if (family == "/CalGray") return *components = 1, deviceSpace(1);
    if (family == "/CalRGB") return *components = 3, deviceSpace(3);
    if (family == "/ICCBased" && cs.getArrayNItems() == 2 && cs.getArrayItem(1).isStream()) {
      QPDFObjectHandle n = cs.getArrayItem(1).getDict().getKey("/N");
      if (n.isInteger() && (n.getIntValue() == 1 || n.getIntValue() == 3 || n.getIntValue() == 4)) {
        *components = static_cast<int>(n.getIntValue());
        return deviceSpace(*components);
      }
    }
    if ((family == "/Indexed" || family == "/I") && cs.getArrayNItems() == 4) {
      int baseComponents = 0;
      QPDFObjectHandle base = cs.getArrayItem(1);
      if (!base.isArray() || isName(base.getArrayItem(0), "/ICCBased") || isName(base.getArrayItem(0), "/CalRGB") ||
          isName(base.getArrayItem(0), "/CalGray")) {
        base = rebuildColourSpace(base, budget, &baseComponents, why);
      } else {
        base = QPDFObjectHandle::newNull();
      }
      QPDFObjectHandle hival = cs.getArrayItem(2);
      if (base.isNull() || !hival.isInteger() || hival.getIntValue() < 0 || hival.getIntValue() > 255) {
        *why = "colour-space";
        return QPDFObjectHandle::newNull();
      }
      const size_t need = static_cast<size_t>(hival.getIntValue() + 1) * baseComponents;
      std::string table;
      QPDFObjectHandle lookup = cs.getArrayItem(3);
      if (lookup.isString()) {
        table = lookup.getStringValue();
      } else if (!lookup.isStream() || !decodeGeneral(lookup, budget, &table)) {
        *why = "colour-space";
        return QPDFObjectHandle::newNull();
      }
      if (table.size() < need) {
        *why = "colour-space";
        return QPDFObjectHandle::newNull();
      }
      table.resize(need);
      *components = 1;
      QPDFObjectHandle out = QPDFObjectHandle::newArray();
      out.appendItem(QPDFObjectHandle::newName("/Indexed"));
      out.appendItem(base);
      out.appendItem(QPDFObjectHandle::newInteger(hival.getIntValue()));
      out.appendItem(QPDFObjectHandle::newString(table));
      return out;
    }
  }
  *why = "colour-space";
  return QPDFObjectHandle::newNull();
}

QPDFObjectHandle numberArray(QPDFObjectHandle a, size_t size) {
  if (!a.isArray() || static_cast<size_t>(a.getArrayNItems()) != size) return QPDFObjectHandle::newNull();
  QPDFObjectHandle out = QPDFObjectHandle::newArray();
  for (int i = 0; i < a.getArrayNItems(); ++i) {
    QPDFObjectHandle v = a.getArrayItem(i);
    if (!v.isNumber()) return QPDFObjectHandle::newNull();
    out.appendItem(v.isInteger() ? QPDFObjectHandle::newInteger(v.getIntValue())
                                 : QPDFObjectHandle::newReal(v.getNumericValue(), 6));
  }
  return out;
}

bool isImageStream(QPDFObjectHandle h) {
  return h.isStream() && isName(h.getDict().getKey("/Subtype"), "/Image");
}

// The work on one DCT image that needs no qpdf object, so the images of a file can be done on
// several threads at once (`ImageOptions::threads`): the stream's bytes are read before, the
// result is placed after, both on the calling thread in the images' order.
struct DctJob {
  std::shared_ptr<Buffer> raw;
  uint32_t width = 0, height = 0;
  int eighths = 8;  // < 8: image-PDF mode, decoded at this many eighths of its size
  // Results: reduced pixels re-encoded (reducedWidth x reducedHeight, reducedComponents), else
  // the transcode's component count (0: neither qualified; the pixel path then decides).
  int reducedComponents = 0;
  uint32_t reducedWidth = 0, reducedHeight = 0;
  int transcodedComponents = 0;
  std::string encoded;

  std::string_view bytes() const {
    return std::string_view(reinterpret_cast<const char*>(raw->getBuffer()), raw->getSize());
  }

  // Gray and YCbCr photographs (nearly every JPEG in a PDF) are transcoded from their DCT
  // coefficients: lossless, and without the pixel round trip that made a PDF of photographs the
  // slowest 10 MB input. One drawn far smaller than its size (image-PDF mode only) is decoded
  // at that size instead and encoded again: the renderer then decodes and draws a fraction of
  // the pixels.
  void run() {
    if (eighths < 8) {
      ReducedJpeg reduced;
      if (reduceJpeg(bytes(), width, height, eighths, &reduced)) {
        reducedComponents = reduced.components;
        reducedWidth = reduced.width;
        reducedHeight = reduced.height;
        encoded = std::move(reduced.jpeg);
        return;
      }
    }
    for (int n : {1, 3}) {
      if (transcodeJpeg(bytes(), width, height, n, &encoded)) {
        transcodedComponents = n;
        return;
      }
    }
    encoded.clear();
  }
};

// Rebuilds one image XObject in place. "" when kept (re-encoded), else why it was replaced.
// `job`: the image's DCT work done ahead (null for an image that is not a DCT photograph).
std::string rebuildImage(QPDFObjectHandle image, const FormatLimits& limits, Budget& budget, DctJob* job) {
  QPDFObjectHandle dict = image.getDict();
  QPDFObjectHandle w = dict.getKey("/Width"), h = dict.getKey("/Height");
  if (!w.isInteger() || !h.isInteger() || w.getIntValue() <= 0 || h.getIntValue() <= 0 ||
      w.getIntValue() > 0xFFFFFF || h.getIntValue() > 0xFFFFFF ||
      static_cast<uint64_t>(w.getIntValue()) * static_cast<uint64_t>(h.getIntValue()) > limits.maxImagePixels) {
    return "size";
  }
  uint32_t width = static_cast<uint32_t>(w.getIntValue()), height = static_cast<uint32_t>(h.getIntValue());
  const std::string filter = singleFilter(dict);
  if (filter != "" && filter != "/FlateDecode" && filter != "/DCTDecode") {
    return "filter " + (filter == "?" ? std::string("chain") : filter.substr(1));
  }
  const bool mask = dict.getKey("/ImageMask").isBool() && dict.getKey("/ImageMask").getBoolValue();
  int components = 1;
  std::string why;
  QPDFObjectHandle cs = QPDFObjectHandle::newNull();
  if (!mask) {
    cs = rebuildColourSpace(dict.getKey("/ColorSpace"), budget, &components, &why);
    if (cs.isNull() && filter != "/DCTDecode") return why;
  }
  QPDFObjectHandle bpcObj = dict.getKey("/BitsPerComponent");
  int bpc = bpcObj.isInteger() ? static_cast<int>(bpcObj.getIntValue()) : (mask ? 1 : filter == "/DCTDecode" ? 8 : 0);
  if (mask ? bpc != 1 : (bpc != 1 && bpc != 2 && bpc != 4 && bpc != 8 && bpc != 16)) return "bits-per-component";

  QPDFObjectHandle fresh = QPDFObjectHandle::newDictionary();
  fresh.replaceKey("/Type", QPDFObjectHandle::newName("/XObject"));
  fresh.replaceKey("/Subtype", QPDFObjectHandle::newName("/Image"));
  std::string data, encoded;
  QPDFObjectHandle outFilter = QPDFObjectHandle::newName("/FlateDecode");
  // The job's result counts only where the dictionary's colour space agrees with the file.
  auto fits = [&](int n) { return n != 0 && (cs.isNull() || components == n); };
  if (filter == "/DCTDecode" && !mask && job != nullptr && fits(job->reducedComponents)) {
    if (cs.isNull()) cs = deviceSpace(job->reducedComponents);
    components = job->reducedComponents;
    width = job->reducedWidth;
    height = job->reducedHeight;
    encoded = std::move(job->encoded);
    bpc = 8;
    outFilter = QPDFObjectHandle::newName("/DCTDecode");
  } else if (filter == "/DCTDecode" && !mask && job != nullptr && fits(job->transcodedComponents)) {
    if (cs.isNull()) cs = deviceSpace(job->transcodedComponents);
    components = job->transcodedComponents;
    encoded = std::move(job->encoded);
    bpc = 8;
    outFilter = QPDFObjectHandle::newName("/DCTDecode");
  } else if (filter == "/DCTDecode") {
    std::shared_ptr<Buffer> raw = image.getRawStreamData();
    JpegPixels pixels;
    if (!decodeJpeg(std::string_view(reinterpret_cast<const char*>(raw->getBuffer()), raw->getSize()),
                    limits.maxImagePixels, &pixels)) {
      return "jpeg-decode";
    }
    if (pixels.width != width || pixels.height != height) return "jpeg-size";
    if (cs.isNull()) cs = deviceSpace(pixels.components), components = pixels.components;
    if (components != pixels.components || mask) return "jpeg-components";
    bpc = 8;
    if (pixels.components == 4) {
      // CMYK goes out as Flate pixels: libjpeg's CMYK output is what the file stored, which an
      // Adobe-marked JPEG stores inverted and readers invert back.
      if (pixels.adobeInverted) {
        for (char& c : pixels.pixels) c = static_cast<char>(255 - static_cast<unsigned char>(c));
      }
      if (!deflateZlib(pixels.pixels, &encoded)) return "encode";
    } else {
      if (!encodeJpeg(pixels, &encoded)) return "encode";
      outFilter = QPDFObjectHandle::newName("/DCTDecode");
    }
  } else {
    const uint64_t rowBytes = (static_cast<uint64_t>(width) * components * bpc + 7) / 8;
    if (!inflateExact(image, filter, rowBytes * height, budget, &data)) {
      // Decoded into a string of the expected size (a PNG predictor adds a byte per row), not one
      // grown and copied chunk by chunk; capped, since the size is only what the dictionary claims.
      data.clear();
      data.reserve(std::min<uint64_t>({rowBytes * height + height, budget.left, kMaxImageReserve}));
      if (!decodeGeneral(image, budget, &data)) return "decode";
    }
    if (data.size() < rowBytes * height) return "short-data";
    data.resize(rowBytes * height);
    if (!deflateZlib(data, &encoded)) return "encode";
  }
  fresh.replaceKey("/Width", QPDFObjectHandle::newInteger(width));
  fresh.replaceKey("/Height", QPDFObjectHandle::newInteger(height));
  if (mask) {
    fresh.replaceKey("/ImageMask", QPDFObjectHandle::newBool(true));
  } else {
    fresh.replaceKey("/ColorSpace", cs);
  }
  fresh.replaceKey("/BitsPerComponent", QPDFObjectHandle::newInteger(bpc));
  QPDFObjectHandle decode = numberArray(dict.getKey("/Decode"), mask ? 2 : 2 * components);
  if (!decode.isNull()) fresh.replaceKey("/Decode", decode);
  if (dict.getKey("/Interpolate").isBool()) fresh.replaceKey("/Interpolate", QPDFObjectHandle::newBool(dict.getKey("/Interpolate").getBoolValue()));
  // Masks are image XObjects of their own (rebuilt by this same pass) or a colour-key array.
  if (!mask) {
    QPDFObjectHandle smask = dict.getKey("/SMask");
    if (isImageStream(smask)) fresh.replaceKey("/SMask", smask);
    QPDFObjectHandle m = dict.getKey("/Mask");
    if (isImageStream(m)) {
      fresh.replaceKey("/Mask", m);
    } else if (!numberArray(m, 2 * components).isNull()) {
      fresh.replaceKey("/Mask", numberArray(m, 2 * components));
    }
  }
  image.replaceDict(fresh);
  image.replaceStreamData(encoded, outFilter, QPDFObjectHandle::newNull());
  return "";
}

// Reads a DCT photograph's bytes for its job; false for any other image (left to rebuildImage).
bool prepareDctJob(QPDFObjectHandle image, const FormatLimits& limits, const ImageOptions& options, DctJob* job) {
  QPDFObjectHandle dict = image.getDict();
  QPDFObjectHandle w = dict.getKey("/Width"), h = dict.getKey("/Height");
  if (!w.isInteger() || !h.isInteger() || w.getIntValue() <= 0 || h.getIntValue() <= 0 ||
      w.getIntValue() > 0xFFFFFF || h.getIntValue() > 0xFFFFFF ||
      static_cast<uint64_t>(w.getIntValue()) * static_cast<uint64_t>(h.getIntValue()) > limits.maxImagePixels ||
      singleFilter(dict) != "/DCTDecode" || (dict.getKey("/ImageMask").isBool() && dict.getKey("/ImageMask").getBoolValue())) {
    return false;
  }
  job->raw = image.getRawStreamData();
  job->width = static_cast<uint32_t>(w.getIntValue());
  job->height = static_cast<uint32_t>(h.getIntValue());
  auto reduce = options.reduceToEighths.find(image.getObjGen());
  if (reduce != options.reduceToEighths.end()) job->eighths = reduce->second;
  return true;
}

// A blank 1x1 image in place of one we could not rebuild: the page's Do keeps working.
void blankImage(QPDFObjectHandle image) {
  image.replaceDict(QPDFObjectHandle::parse(
      "<< /Type /XObject /Subtype /Image /Width 1 /Height 1 /ColorSpace /DeviceGray /BitsPerComponent 8 >>"));
  image.replaceStreamData(std::string("\xff", 1), QPDFObjectHandle::newNull(), QPDFObjectHandle::newNull());
}

const char* const kFontFileKeys[] = {"/FontFile", "/FontFile2", "/FontFile3"};

struct FontProgram {
  QPDFObjectHandle descriptor;
  const char* key;
  QPDFObjectHandle stream;
  std::string decoded;
};

// The new dictionary of a kept font program: only the lengths and subtype readers need.
QPDFObjectHandle fontProgramDict(QPDFObjectHandle old, const char* key, size_t decodedSize) {
  QPDFObjectHandle fresh = QPDFObjectHandle::newDictionary();
  auto copyLength = [&](const char* name) {
    QPDFObjectHandle v = old.getKey(name);
    if (v.isInteger() && v.getIntValue() >= 0 && static_cast<uint64_t>(v.getIntValue()) <= decodedSize) {
      fresh.replaceKey(name, QPDFObjectHandle::newInteger(v.getIntValue()));
    }
  };
  if (std::string(key) == "/FontFile") {
    copyLength("/Length1");
    copyLength("/Length2");
    copyLength("/Length3");
  } else if (std::string(key) == "/FontFile2") {
    copyLength("/Length1");
  } else {
    fresh.replaceKey("/Subtype", QPDFObjectHandle::newName(old.getKey("/Subtype").getName()));
  }
  return fresh;
}

// Every dictionary of the document (indirect objects and their direct children), for `fn`.
template <typename Fn>
bool forEachDictionary(QPDF& pdf, const FormatLimits& limits, Fn fn) {
  size_t steps = 0;
  for (QPDFObjectHandle object : pdf.getAllObjects()) {
    std::vector<QPDFObjectHandle> stack{object};
    while (!stack.empty()) {
      if ((++steps & 4095) == 0 && limits.expired()) return false;
      QPDFObjectHandle h = stack.back();
      stack.pop_back();
      QPDFObjectHandle dict = h.isStream() ? h.getDict() : h;
      if (dict.isDictionary()) {
        fn(dict, h);
        for (const auto& key : dict.getKeys()) {
          QPDFObjectHandle child = dict.getKey(key);
          if (!child.isIndirect() && (child.isDictionary() || child.isArray())) stack.push_back(child);
        }
      } else if (h.isArray()) {
        for (int i = 0; i < h.getArrayNItems(); ++i) {
          QPDFObjectHandle child = h.getArrayItem(i);
          if (!child.isIndirect() && (child.isDictionary() || child.isArray())) stack.push_back(child);
        }
      }
    }
  }
  return true;
}

}  // namespace

bool rebuildFontsAndImages(QPDF& pdf, const FormatLimits& limits, const FontChecker& checkFonts,
                           const ImageOptions& options, std::vector<RemovedItem>& removed, std::string* reason) {
  Budget budget{limits.maxExpandedBytes};
  std::vector<QPDFObjectHandle> images, fonts;
  std::vector<FontProgram> programs;
  std::map<QPDFObjGen, size_t> programIndex;  // a program shared by descriptors is checked once
  try {
    const bool walked = forEachDictionary(pdf, limits, [&](QPDFObjectHandle dict, QPDFObjectHandle holder) {
      if (holder.isStream() && isName(dict.getKey("/Subtype"), "/Image")) images.push_back(holder);
      if (isName(dict.getKey("/Type"), "/Font") && dict.hasKey("/FontDescriptor")) fonts.push_back(dict);
      if (!isName(dict.getKey("/Type"), "/FontDescriptor")) return;
      for (const char* key : kFontFileKeys) {
        QPDFObjectHandle program = dict.getKey(key);
        if (!dict.hasKey(key)) continue;
        if (!program.isStream()) {
          dict.removeKey(key);
          addRemoved(removed, "font-program", objLocation(holder) + " " + std::string(key).substr(1));
          continue;
        }
        programs.push_back(FontProgram{dict, key, program, {}});
      }
    });
    if (!walked) {
      *reason = "limit:timeout";
      return false;
    }
    // Fonts: decode, check as one batch (one trip to the sandbox), then rewrite or remove.
    std::vector<std::string> batch;
    std::vector<size_t> slot(programs.size(), SIZE_MAX);
    for (size_t i = 0; i < programs.size(); ++i) {
      FontProgram& p = programs[i];
      QPDFObjGen og = p.stream.getObjGen();
      auto seen = programIndex.find(og);
      if (seen != programIndex.end()) {
        slot[i] = seen->second;
        continue;
      }
      const bool knownSubtype = std::string(p.key) != "/FontFile3" ||
                                isName(p.stream.getDict().getKey("/Subtype"), "/Type1C") ||
                                isName(p.stream.getDict().getKey("/Subtype"), "/CIDFontType0C") ||
                                isName(p.stream.getDict().getKey("/Subtype"), "/OpenType");
      if (!knownSubtype || !decodeGeneral(p.stream, budget, &p.decoded)) continue;  // slot stays: rejected
      slot[i] = batch.size();
      programIndex[og] = batch.size();
      batch.push_back(p.decoded);
    }
    std::vector<bool> keep(batch.size(), false);
    if (!batch.empty()) {
      if (checkFonts) {
        if (!checkFonts(batch, &keep, reason)) return false;
        if (keep.size() != batch.size()) {
          *reason = "internal:font-check";
          return false;
        }
      } else {
        for (size_t i = 0; i < batch.size(); ++i) keep[i] = fontProgramLoads(batch[i], limits);
      }
    }
    std::map<QPDFObjGen, bool> rejectedDescriptor;
    std::map<QPDFObjGen, bool> rewritten;
    for (size_t i = 0; i < programs.size(); ++i) {
      FontProgram& p = programs[i];
      const bool ok = slot[i] != SIZE_MAX && keep[slot[i]];
      if (!ok) {
        p.descriptor.removeKey(p.key);
        rejectedDescriptor[p.descriptor.getObjGen()] = true;
        addRemoved(removed, "font-program", objLocation(p.descriptor) + " " + std::string(p.key).substr(1));
        continue;
      }
      if (rewritten[p.stream.getObjGen()]) continue;
      rewritten[p.stream.getObjGen()] = true;
      const std::string& program = batch[slot[i]];
      std::string encoded;
      if (!deflateZlib(program, &encoded)) {
        *reason = "internal:deflate";
        return false;
      }
      p.stream.replaceDict(fontProgramDict(p.stream.getDict(), p.key, program.size()));
      p.stream.replaceStreamData(encoded, QPDFObjectHandle::newName("/FlateDecode"), QPDFObjectHandle::newNull());
    }
    // Fonts whose program went: the standard Helvetica (simple fonts become Type 1 without a
    // descriptor; CID fonts keep their metrics and name Helvetica for the reader's substitute).
    for (QPDFObjectHandle font : fonts) {
      QPDFObjectHandle descriptor = font.getKey("/FontDescriptor");
      if (!descriptor.isIndirect() || !rejectedDescriptor.count(descriptor.getObjGen())) continue;
      font.replaceKey("/BaseFont", QPDFObjectHandle::newName("/Helvetica"));
      QPDFObjectHandle subtype = font.getKey("/Subtype");
      if (isName(subtype, "/Type1") || isName(subtype, "/TrueType") || isName(subtype, "/MMType1")) {
        font.replaceKey("/Subtype", QPDFObjectHandle::newName("/Type1"));
        font.removeKey("/FontDescriptor");
      }
    }
    // Images, a batch at a time: the DCT photographs' decode and encode (nearly all of the
    // image work) on up to `threads` threads, everything that touches qpdf on this one, in order.
    const unsigned threads = std::max(1u, options.threads);
    const size_t batchSize = 8 * static_cast<size_t>(threads);
    for (size_t first = 0; first < images.size(); first += batchSize) {
      if (limits.expired()) {
        *reason = "limit:timeout";
        return false;
      }
      const size_t count = std::min(batchSize, images.size() - first);
      std::vector<DctJob> jobs(count);
      std::vector<size_t> queued;
      for (size_t i = 0; i < count; ++i) {
        if (prepareDctJob(images[first + i], limits, options, &jobs[i])) queued.push_back(i);
      }
      parallelFor(queued.size(), threads, [&](size_t k) {
        if (!limits.expired()) jobs[queued[k]].run();
      });
      if (limits.expired()) {
        *reason = "limit:timeout";
        return false;
      }
      for (size_t i = 0; i < count; ++i) {
        QPDFObjectHandle image = images[first + i];
        std::string why = rebuildImage(image, limits, budget, jobs[i].raw ? &jobs[i] : nullptr);
        if (!why.empty()) {
          blankImage(image);
          addRemoved(removed, "image", objLocation(image) + " (" + why + ")");
        }
      }
    }
  } catch (std::length_error const&) {
    *reason = "limit:expanded-size";
    return false;
  }
  return true;
}

}  // namespace lbg::sanitizer::pdf
