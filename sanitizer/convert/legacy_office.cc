#include "sanitizer/convert/legacy_office.h"

#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "sanitizer/render/exec_sandbox.h"

namespace lbg::sanitizer::convert {
namespace {

namespace fs = std::filesystem;

// Written into the fresh profile before LibreOffice first starts: macros never run (security level
// "very high" and execution disabled outright), links in Writer and Calc are never updated (no
// DDE, no external data), and untrusted referer links are blocked.
constexpr const char* kRegistry = R"(<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Common/Security/Scripting"><prop oor:name="MacroSecurityLevel" oor:op="fuse"><value>3</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Security/Scripting"><prop oor:name="DisableMacrosExecution" oor:op="fuse"><value>true</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Security/Scripting"><prop oor:name="BlockUntrustedRefererLinks" oor:op="fuse"><value>true</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Content/Update"><prop oor:name="Link" oor:op="fuse"><value>1</value></prop></item>
<item oor:path="/org.openoffice.Office.Writer/Content/Update"><prop oor:name="Link" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Misc"><prop oor:name="FirstRun" oor:op="fuse"><value>false</value></prop></item>
</oor:items>
)";

struct Target {
  const char* extension;
  const char* filter;
};

bool targetFor(const std::string& type, Target* t) {
  if (type == "doc" || type == "rtf") *t = {"docx", "docx:MS Word 2007 XML"};
  else if (type == "xls") *t = {"xlsx", "xlsx:Calc MS Excel 2007 XML"};
  else if (type == "ppt") *t = {"pptx", "pptx:Impress MS PowerPoint 2007 XML"};
  else return false;
  return true;
}

// Removes the work directory whatever happens.
struct TempDir {
  std::string path;
  ~TempDir() {
    if (path.empty()) return;
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

bool writeFile(const fs::path& path, std::string_view data) {
  std::ofstream out(path, std::ios::binary);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  return static_cast<bool>(out);
}

}  // namespace

std::string findLibreOffice() {
  for (const char* candidate : {"/usr/lib/libreoffice/program/soffice.bin", "/opt/libreoffice/program/soffice.bin"}) {
    if (::access(candidate, X_OK) == 0) return candidate;
  }
  return "";
}

namespace {

// One LibreOffice run in the exec sandbox: `bytes` as input.<inExt>, converted with `filter`, the
// file input.<outExt> read back.
FormatResult runSoffice(std::string_view bytes, const std::string& inExt, const char* filter, const std::string& outExt,
                        const std::string& soffice, const FormatLimits& limits) {
  if (soffice.empty()) return FormatResult::fail("internal:convert");
  const char* tmpRoot = ::getenv("TMPDIR");
  std::string pattern = std::string(tmpRoot != nullptr && *tmpRoot != '\0' ? tmpRoot : "/tmp") + "/lbg-office-XXXXXX";
  TempDir dir;
  if (::mkdtemp(pattern.data()) == nullptr) return FormatResult::fail("internal:convert");
  dir.path = pattern;  // mkdtemp makes it 0700
  fs::path root(dir.path);
  std::error_code ec;
  for (const char* sub : {"in", "out", "home", "tmp", "profile/user"}) fs::create_directories(root / sub, ec);
  if (ec) return FormatResult::fail("internal:convert");
  fs::path input = root / "in" / ("input." + inExt);
  if (!writeFile(root / "profile" / "user" / "registrymodifications.xcu", kRegistry) || !writeFile(input, bytes)) {
    return FormatResult::fail("internal:convert");
  }

  render::ExecSpec spec;
  spec.argv = {soffice,
               "--headless",
               "--invisible",
               "--norestore",
               "--nologo",
               "--nodefault",
               "--nolockcheck",
               "--nofirststartwizard",
               "-env:UserInstallation=file://" + (root / "profile").string(),
               "--convert-to",
               filter,
               "--outdir",
               (root / "out").string(),
               input.string()};
  spec.env = {"HOME=" + (root / "home").string(), "TMPDIR=" + (root / "tmp").string(), "PATH=/usr/bin:/bin",
              "LANG=C.UTF-8", "SAL_USE_VCLPLUGIN=svp"};
  spec.workDir = dir.path;
  spec.deadline = limits.deadline;
  spec.maxFileBytes = std::min<uint64_t>(limits.maxExpandedBytes, 1ull << 30);
  int exitCode = -1;
  std::string reason;
  // LibreOffice exits with 81 after it has set up a new profile and expects to be started again.
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (!render::runSandboxedExec(spec, &exitCode, &reason)) return FormatResult::fail(reason);
    if (exitCode != 81) break;
  }
  fs::path output = root / "out" / ("input." + outExt);
  if (exitCode != 0 || !fs::is_regular_file(output, ec)) return FormatResult::fail("conversion-failed");
  uint64_t size = fs::file_size(output, ec);
  if (ec || size == 0) return FormatResult::fail("conversion-failed");
  if (size > limits.maxExpandedBytes) return FormatResult::fail("limit:expanded-size");
  FormatResult result;
  std::ifstream in(output, std::ios::binary);
  result.output.resize(size);
  in.read(result.output.data(), static_cast<std::streamsize>(size));
  if (!in) return FormatResult::fail("internal:convert");
  result.ok = true;
  result.outputType = outExt;
  addRemoved(result.removed, "converted", inExt + " -> " + outExt + " (LibreOffice, sandboxed)");
  return result;
}

}  // namespace

FormatResult legacyToOoxml(std::string_view bytes, const std::string& type, const std::string& soffice,
                           const FormatLimits& limits) {
  Target target;
  if (soffice.empty() || !targetFor(type, &target)) return FormatResult::fail("internal:convert");
  return runSoffice(bytes, type, target.filter, target.extension, soffice, limits);
}

FormatResult officeToPdf(std::string_view bytes, const std::string& type, const std::string& soffice,
                         const FormatLimits& limits) {
  static const char* kTypes[] = {"docx", "dotx", "xlsx", "xltx", "pptx", "potx", "ppsx"};
  bool known = false;
  for (const char* t : kTypes) known = known || type == t;
  if (!known) return FormatResult::fail("internal:convert");
  // "pdf" lets LibreOffice pick the export filter of the document's application.
  return runSoffice(bytes, type, "pdf", "pdf", soffice, limits);
}

}  // namespace lbg::sanitizer::convert
