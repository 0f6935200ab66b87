#include "sanitizer/pdf/inline_image.h"

#include <libdeflate.h>

#include <cstdio>
#include <cstdlib>
#include <memory>

#include "sanitizer/pdf/pdf_hex.h"

namespace lbg::sanitizer::pdf {
namespace {

// One value of the inline dictionary: a single token, or the tokens of an array without brackets.
struct Value {
  std::vector<Token> items;
  bool array = false;
};

bool asInt(const Value& v, long* out) {
  if (v.array || v.items.size() != 1 || v.items[0].type != TokenType::Number) return false;
  const std::string text(v.items[0].text);
  if (text.find('.') != std::string::npos) return false;
  char* end = nullptr;
  *out = std::strtol(text.c_str(), &end, 10);
  return end != nullptr && *end == '\0';
}

bool asName(const Value& v, std::string* out) {
  return !v.array && v.items.size() == 1 && v.items[0].type == TokenType::Name && decodeName(v.items[0].text, out);
}

bool inflate(std::string_view in, size_t need, std::string* out) {
  std::unique_ptr<libdeflate_decompressor, void (*)(libdeflate_decompressor*)> d(libdeflate_alloc_decompressor(),
                                                                                 libdeflate_free_decompressor);
  if (!d) return false;
  // Room beyond the pixels for rows padded by the producer; more than that is refused.
  out->resize(need + 4096);
  size_t got = 0;
  if (libdeflate_zlib_decompress(d.get(), in.data(), in.size(), out->data(), out->size(), &got) != LIBDEFLATE_SUCCESS) {
    return false;
  }
  out->resize(got);
  return true;
}

// Device space of a name (abbreviations included), or 0.
int deviceComponents(const std::string& name) {
  if (name == "G" || name == "DeviceGray") return 1;
  if (name == "RGB" || name == "DeviceRGB") return 3;
  if (name == "CMYK" || name == "DeviceCMYK") return 4;
  return 0;
}

const char* deviceName(int components) {
  return components == 1 ? "/DeviceGray" : components == 3 ? "/DeviceRGB" : "/DeviceCMYK";
}

std::string hex(std::string_view bytes) {
  static const char kDigits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(bytes.size() * 2 + bytes.size() / 32 + 2);
  for (size_t i = 0; i < bytes.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(bytes[i]);
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
    if (i % 32 == 31) out += '\n';
  }
  return out + ">";
}

std::string number(std::string_view text) {
  // Numbers are re-emitted as parsed values, never as the input's spelling.
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g", std::strtod(std::string(text).c_str(), nullptr));
  return buf;
}

}  // namespace

bool rebuildInlineImage(const std::vector<Token>& dict, std::string_view data, std::string* out, std::string* why) {
  // Split into key -> value (arrays collected flat: inline dictionaries hold no nested arrays we keep).
  std::vector<std::pair<std::string, Value>> entries;
  for (size_t i = 0; i < dict.size();) {
    std::string key;
    if (dict[i].type != TokenType::Name || !decodeName(dict[i].text, &key) || i + 1 >= dict.size()) return *why = "key", false;
    Value v;
    ++i;
    if (dict[i].type == TokenType::ArrayOpen) {
      v.array = true;
      for (++i; i < dict.size() && dict[i].type != TokenType::ArrayClose; ++i) v.items.push_back(dict[i]);
      if (i >= dict.size()) return *why = "key", false;
      ++i;
    } else if (dict[i].type == TokenType::DictOpen) {
      // /DP << ... >>: predictors and other decode parameters are not supported.
      return *why = "filter", false;
    } else {
      v.items.push_back(dict[i++]);
    }
    entries.emplace_back(key, v);
  }
  long width = 0, height = 0, bpc = 0;
  bool mask = false, interpolate = false;
  int components = 0;
  std::string filter, colourSpace, decodeArray, indexed;
  for (const auto& [key, v] : entries) {
    std::string name;
    if (key == "W" || key == "Width") {
      if (!asInt(v, &width)) return *why = "size", false;
    } else if (key == "H" || key == "Height") {
      if (!asInt(v, &height)) return *why = "size", false;
    } else if (key == "BPC" || key == "BitsPerComponent") {
      if (!asInt(v, &bpc)) return *why = "size", false;
    } else if (key == "IM" || key == "ImageMask") {
      mask = !v.array && v.items.size() == 1 && v.items[0].text == "true";
    } else if (key == "I" || key == "Interpolate") {
      interpolate = !v.array && v.items.size() == 1 && v.items[0].text == "true";
    } else if (key == "F" || key == "Filter") {
      if (v.array && v.items.empty()) continue;
      Value single{v.items, false};
      if ((v.array && v.items.size() != 1) || !asName(single, &filter)) return *why = "filter", false;
    } else if (key == "DP" || key == "DecodeParms") {
      if (!(v.items.size() == 1 && v.items[0].text == "null") && !(v.array && v.items.empty())) return *why = "filter", false;
    } else if (key == "D" || key == "Decode") {
      if (!v.array || v.items.size() > 8) return *why = "key", false;
      for (const Token& t : v.items) {
        if (t.type != TokenType::Number) return *why = "key", false;
        decodeArray += (decodeArray.empty() ? "" : " ") + number(t.text);
      }
    } else if (key == "CS" || key == "ColorSpace") {
      if (asName(v, &name)) {
        components = deviceComponents(name);
        if (components == 0) return *why = "colour-space", false;  // a resource name, or Pattern
        colourSpace = deviceName(components);
      } else if (v.array && v.items.size() == 4 && asName(Value{{v.items[0]}, false}, &name) &&
                 (name == "I" || name == "Indexed")) {
        // [/I base hival lookup]: device base, lookup as a string (hex or literal).
        std::string base;
        long hival = -1;
        if (!asName(Value{{v.items[1]}, false}, &base) || deviceComponents(base) == 0 ||
            !asInt(Value{{v.items[2]}, false}, &hival) || hival < 0 || hival > 255 ||
            v.items[3].type != TokenType::HexString) {
          return *why = "colour-space", false;
        }
        std::string table;
        if (!decodePdfHex(v.items[3].text.substr(1), &table) ||
            table.size() < static_cast<size_t>(hival + 1) * deviceComponents(base)) {
          return *why = "colour-space", false;
        }
        table.resize(static_cast<size_t>(hival + 1) * deviceComponents(base));
        components = 1;
        indexed = std::string("[/Indexed ") + deviceName(deviceComponents(base)) + " " + std::to_string(hival) + " <" +
                  hex(table);
        indexed += "]";
        colourSpace = indexed;
      } else {
        return *why = "colour-space", false;
      }
    } else if (key != "L" && key != "Length") {
      return *why = "key", false;
    }
  }
  if (mask) {
    components = 1;
    if (bpc == 0) bpc = 1;
    if (bpc != 1 || !colourSpace.empty()) return *why = "size", false;
  }
  if (components == 0) return *why = "colour-space", false;
  if (width <= 0 || height <= 0 || width > 65535 || height > 65535 ||
      (bpc != 1 && bpc != 2 && bpc != 4 && bpc != 8 && bpc != 16)) {
    return *why = "size", false;
  }
  const size_t rowBytes = (static_cast<size_t>(width) * components * bpc + 7) / 8;
  if (rowBytes * static_cast<size_t>(height) > kMaxInlineImageBytes) return *why = "size", false;
  const size_t need = rowBytes * static_cast<size_t>(height);
  std::string pixels;
  if (filter.empty()) {
    pixels.assign(data.data(), data.size());
  } else if (filter == "AHx" || filter == "ASCIIHexDecode") {
    if (!decodePdfHex(data, &pixels)) return *why = "data", false;
  } else if (filter == "Fl" || filter == "FlateDecode") {
    if (!inflate(data, need, &pixels)) return *why = "data", false;
  } else {
    return *why = "filter", false;
  }
  if (pixels.size() < need) return *why = "data", false;
  pixels.resize(need);
  *out = "BI /W " + std::to_string(width) + " /H " + std::to_string(height) + " /BPC " + std::to_string(bpc);
  *out += mask ? " /IM true" : " /CS " + colourSpace;
  if (!decodeArray.empty()) *out += " /D [" + decodeArray + "]";
  if (interpolate) *out += " /I true";
  *out += " /F /AHx ID\n" + hex(pixels) + "\nEI\n";
  return true;
}

}  // namespace lbg::sanitizer::pdf
