#include "sanitizer/core/type_detect.h"

#include <magic.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <set>

#include "sanitizer/common/zip_io.h"
#include "sanitizer/core/cfb.h"
#include "sanitizer/ooxml/ooxml_rules.h"

namespace lbg::sanitizer {
namespace {

bool startsWith(std::string_view b, std::string_view prefix) {
  return b.size() >= prefix.size() && b.substr(0, prefix.size()) == prefix;
}

bool at(std::string_view b, size_t offset, std::string_view what) {
  return b.size() >= offset + what.size() && b.substr(offset, what.size()) == what;
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// The end-of-central-directory record of a ZIP whose comment runs exactly to the end of the
// file: what unzip tools look for, so a file with one is a ZIP whatever comes before it.
bool hasZipEndRecord(std::string_view b) {
  if (b.size() < 22) return false;
  size_t lowest = b.size() > 22 + 65535 ? b.size() - 22 - 65535 : 0;
  for (size_t pos = b.size() - 22 + 1; pos-- > lowest;) {
    if (b[pos] == 'P' && b[pos + 1] == 'K' && b[pos + 2] == 5 && b[pos + 3] == 6) {
      size_t commentLen = static_cast<uint8_t>(b[pos + 20]) | (static_cast<uint8_t>(b[pos + 21]) << 8);
      if (pos + 22 + commentLen == b.size()) return true;
    }
  }
  return false;
}

bool validUtf8NoNul(std::string_view b) {
  size_t i = 0;
  while (i < b.size()) {
    auto c = static_cast<unsigned char>(b[i]);
    if (c == 0) return false;
    if (c < 0x80) {
      // C0 controls other than tab, CR, LF, FF, ESC-free: binary.
      if (c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f') return false;
      ++i;
      continue;
    }
    size_t len = (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (len == 0 || i + len > b.size()) return false;
    uint32_t cp = c & (0xFF >> (len + 1));
    for (size_t k = 1; k < len; ++k) {
      auto cc = static_cast<unsigned char>(b[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;  // overlong, out of range or surrogate
    }
    i += len;
  }
  return true;
}

bool containsCaseless(std::string_view hay, std::string_view needle) {
  auto it = std::search(hay.begin(), hay.end(), needle.begin(), needle.end(),
                        [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) ==
                                                    std::tolower(static_cast<unsigned char>(b)); });
  return it != hay.end();
}

std::string magicMimeOf(std::string_view bytes) {
  // magic_t is not thread-safe; each worker thread keeps its own, loaded once.
  struct Handle {
    magic_t cookie = nullptr;
    Handle() {
      cookie = magic_open(MAGIC_MIME_TYPE | MAGIC_NO_CHECK_COMPRESS | MAGIC_NO_CHECK_TAR);
      if (cookie != nullptr && magic_load(cookie, nullptr) != 0) {
        magic_close(cookie);
        cookie = nullptr;
      }
      if (cookie != nullptr) {
        size_t maxBytes = 1 << 20;
        magic_setparam(cookie, MAGIC_PARAM_BYTES_MAX, &maxBytes);
      }
    }
    ~Handle() {
      if (cookie != nullptr) magic_close(cookie);
    }
  };
  thread_local Handle handle;
  if (handle.cookie == nullptr) return "";
  const char* mime = magic_buffer(handle.cookie, bytes.data(), std::min<size_t>(bytes.size(), 1 << 20));
  return mime != nullptr ? std::string(mime) : std::string();
}

std::string classifyZip(std::string_view bytes, const FormatLimits& limits) {
  std::string reason;
  auto reader = ZipReader::open(bytes, limits, &reason);
  if (!reader) return "zip";  // the archive handler reports why it cannot be read
  if (const ZipEntry* mimetype = reader->find("mimetype")) {
    std::string value;
    if (mimetype->size < 256 && reader->read(*mimetype, &value, &reason) &&
        startsWith(value, "application/vnd.oasis.opendocument")) {
      return "odf";
    }
  }
  if (reader->find("AndroidManifest.xml") != nullptr) return "apk";
  if (reader->find("META-INF/MANIFEST.MF") != nullptr) return "jar";
  const ZipEntry* types = reader->find("[Content_Types].xml");
  if (types == nullptr) return "zip";
  std::string xml;
  if (types->size > (4u << 20) || !reader->read(*types, &xml, &reason)) return "ooxml-broken";
  std::string kind = ooxml::packageTypeFromContentTypes(xml);
  return kind.empty() ? "opc-unknown" : kind;
}

std::string classifyCfb(std::string_view bytes, std::string_view ext) {
  auto names = cfbEntryNames(bytes);
  if (names.count("EncryptionInfo") || names.count("EncryptedPackage")) return "encrypted-ooxml";
  if (names.count("WordDocument")) return "doc";
  if (names.count("Workbook") || names.count("Book")) return "xls";
  if (names.count("PowerPoint Document")) return "ppt";
  if (ext == "jtd" || ext == "jtdc" || ext == "jtt" || ext == "jttc" || ext == "jbw") return "ichitaro";
  if (ext == "msi" || ext == "msp" || ext == "msm") return "msi";
  return "cfb";
}

const std::set<std::string>& scriptExtensions() {
  static const std::set<std::string> kScripts = {
      "js",  "jse", "vbs", "vbe", "wsf", "wsh", "ps1", "psm1", "psd1", "bat", "cmd", "sh",
      "py",  "pl",  "rb",  "php", "hta", "scr", "pif", "com",  "cpl",  "msc", "reg", "inf",
      "url", "scf", "lnk", "vb",  "jar", "appref-ms", "settingcontent-ms", "application", "xll"};
  return kScripts;
}

std::string classifyText(std::string_view bytes, std::string_view ext) {
  std::string_view head = bytes.substr(0, std::min<size_t>(bytes.size(), 64 * 1024));
  size_t skip = startsWith(head, "\xEF\xBB\xBF") ? 3 : 0;
  while (skip < head.size() && std::isspace(static_cast<unsigned char>(head[skip]))) ++skip;
  std::string_view body = head.substr(skip);
  if (startsWith(body, "#!")) return "script";
  if (containsCaseless(head, "<hta:application")) return "hta";
  bool xml = startsWith(body, "<?xml");
  if (xml && (containsCaseless(head, "<?mso-application") || containsCaseless(head, "<w:wordDocument") ||
              containsCaseless(head, "urn:schemas-microsoft-com:office:spreadsheet") ||
              containsCaseless(head, "schemas.microsoft.com/office/word/2003/wordml") ||
              containsCaseless(head, "<pkg:package"))) {
    return "office-xml-2003";
  }
  if (containsCaseless(body.substr(0, 1024), "<svg")) return "svg";
  if (containsCaseless(body.substr(0, 1024), "<!doctype html") ||
      containsCaseless(body.substr(0, 1024), "<html") || containsCaseless(head, "<script")) {
    return "html";
  }
  if (startsWith(body, "ID;")) return "sylk";
  if (scriptExtensions().count(std::string(ext))) return "script";
  if (xml) return "xml";
  if (ext == "csv" || ext == "tsv") return "csv";
  return "text";
}

}  // namespace

std::string extensionOf(std::string_view name) {
  size_t slash = name.find_last_of("/\\");
  if (slash != std::string_view::npos) name = name.substr(slash + 1);
  size_t dot = name.find_last_of('.');
  if (dot == std::string_view::npos || dot + 1 >= name.size()) return "";
  return lower(name.substr(dot + 1));
}

TypeInfo detectType(std::string_view b, std::string_view nameHint, const FormatLimits& limits) {
  TypeInfo info;
  std::string ext = extensionOf(nameHint);
  if (b.empty()) {
    info.type = "empty";
    return info;
  }
  info.magicMime = magicMimeOf(b);
  std::string_view head = b.substr(0, std::min<size_t>(b.size(), 1024));
  size_t pdfAt = head.find("%PDF-");
  bool zipTail = hasZipEndRecord(b);

  if (startsWith(b, "%PDF-")) {
    info.type = "pdf";
    if (zipTail) info.polyglot = "polyglot:zip-appended";
  } else if (startsWith(b, "PK\x03\x04") || (startsWith(b, std::string_view("PK\x05\x06", 4)) && b.size() < 65600)) {
    info.type = classifyZip(b, limits);
    if (pdfAt != std::string_view::npos) info.polyglot = "polyglot:pdf-in-zip";
  } else if (isCfb(b)) {
    info.type = classifyCfb(b, ext);
  } else if (startsWith(b, "MZ")) {
    info.type = "exe";
  } else if (startsWith(b, "\x7F" "ELF")) {
    info.type = "elf";
  } else if (startsWith(b, "\xCE\xFA\xED\xFE") || startsWith(b, "\xCF\xFA\xED\xFE") ||
             startsWith(b, "\xFE\xED\xFA\xCE") || startsWith(b, "\xFE\xED\xFA\xCF")) {
    info.type = "macho";
  } else if (startsWith(b, "\xCA\xFE\xBA\xBE")) {
    info.type = "java-class";  // also a Mach-O fat binary: blocked either way
  } else if (startsWith(b, std::string_view("\x4C\x00\x00\x00\x01\x14\x02\x00", 8))) {
    info.type = "lnk";
  } else if (at(b, 0x8001, "CD001") || at(b, 0x8801, "CD001") || at(b, 0x9001, "CD001") ||
             at(b, 0x8001, "BEA01")) {
    info.type = "iso";
  } else if (startsWith(b, "conectix") || (b.size() >= 512 && at(b, b.size() - 512, "conectix"))) {
    info.type = "vhd";
  } else if (startsWith(b, "vhdxfile")) {
    info.type = "vhdx";
  } else if (startsWith(b, std::string_view("\xE4\x52\x5C\x7B\x8C\xD8\xA7\x4D\xAE\xB1\x53\x78\xD0\x29\x96\xD3", 16))) {
    info.type = "onenote";
  } else if (startsWith(b, "{\\rt")) {
    info.type = "rtf";
  } else if (startsWith(b, "\x89PNG\r\n\x1A\n")) {
    info.type = "png";
  } else if (startsWith(b, "\xFF\xD8\xFF")) {
    info.type = "jpeg";
  } else if (startsWith(b, "GIF87a") || startsWith(b, "GIF89a")) {
    info.type = "gif";
  } else if (startsWith(b, "BM") && b.size() >= 26) {
    info.type = "bmp";
  } else if (startsWith(b, std::string_view("II*\0", 4)) || startsWith(b, std::string_view("MM\0*", 4))) {
    info.type = "tiff";
  } else if (startsWith(b, "7z\xBC\xAF\x27\x1C")) {
    info.type = "7z";
  } else if (startsWith(b, "Rar!\x1A\x07")) {
    info.type = "rar";
  } else if (startsWith(b, "\x1F\x8B")) {
    info.type = "gzip";
  } else if (startsWith(b, "BZh")) {
    info.type = "bzip2";
  } else if (startsWith(b, std::string_view("\xFD" "7zXZ\0", 6))) {
    info.type = "xz";
  } else if (startsWith(b, "MSCF")) {
    info.type = "cab";
  } else if (startsWith(b, "ITSF")) {
    info.type = "chm";
  } else if (b.size() >= 22 && b[2] == '-' && b[6] == '-' &&
             (at(b, 3, "lh") || at(b, 3, "lz") || at(b, 3, "pm") || at(b, 3, "lk"))) {
    // LHA family (LHarc/LHA, LArc, PMarc): the method id at offset 2 of the first header.
    info.type = "lzh";
  } else if (validUtf8NoNul(b.substr(0, std::min<size_t>(b.size(), 1 << 20)))) {
    info.type = classifyText(b, ext);
    const std::string& m = info.magicMime;
    if (info.type == "text" || info.type == "csv") {
      if (m == "text/x-shellscript" || m == "text/x-msdos-batch" || m == "text/x-python" ||
          m == "text/x-perl" || m == "text/x-php" || m == "application/javascript" ||
          m == "text/javascript" || m == "text/x-script.python") {
        info.type = "script";
      }
    }
  } else {
    const std::string& m = info.magicMime;
    if (m == "application/x-dosexec" || m == "application/x-msdownload") info.type = "exe";
    else if (m == "application/x-executable" || m == "application/x-sharedlib") info.type = "elf";
    else info.type = "unknown";
  }

  // A PDF reader accepts "%PDF-" anywhere in the first kilobyte: a file that is something else at
  // offset 0 and a PDF a few bytes in is built to be read differently by different programs.
  if (info.polyglot.empty() && info.type != "pdf" && pdfAt != std::string_view::npos) {
    info.polyglot = "polyglot:pdf-header-offset";
  }
  // A ZIP end record in the tail of something that is not itself a ZIP: the file opens as an
  // archive in one program and as a document or image in another.
  bool zipFamily = startsWith(b, "PK");
  if (info.polyglot.empty() && !zipFamily && zipTail && info.type != "exe") {
    info.polyglot = "polyglot:zip-appended";
  }
  return info;
}

}  // namespace lbg::sanitizer
