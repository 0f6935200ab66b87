#include "sanitizer/render/font_check.h"

#include <cstdint>
#include <cstring>

#include "sanitizer/pdf/font_program.h"
#include "sanitizer/render/render_pool.h"
#include "sanitizer/render/sandbox.h"

namespace lbg::sanitizer::render {
namespace {

// Body: for each program a u32 length then its bytes. Answer: one '1' (keep) or '0' per program.
// Runs in the sandboxed worker, whose own CPU limit and the parent's deadline bound it.
bool fontJob(std::string_view, std::string_view body, const Emit& emit) {
  std::string verdicts;
  FormatLimits limits;
  while (!body.empty()) {
    uint32_t len = 0;
    if (body.size() < sizeof len) return false;
    std::memcpy(&len, body.data(), sizeof len);
    body.remove_prefix(sizeof len);
    if (body.size() < len) return false;
    verdicts += pdf::fontProgramLoads(body.substr(0, len), limits) ? '1' : '0';
    body.remove_prefix(len);
  }
  return emit(verdicts);
}

}  // namespace

bool checkFontPrograms(const std::vector<std::string>& programs, const FormatLimits& limits, RenderPool* pool,
                       std::vector<bool>* keep, std::string* reason) {
  std::string body;
  for (const std::string& p : programs) {
    if (p.size() > UINT32_MAX) {
      *reason = "limit:input-size";
      return false;
    }
    uint32_t len = static_cast<uint32_t>(p.size());
    body.append(reinterpret_cast<const char*>(&len), sizeof len);
    body += p;
  }
  SandboxLimits sandbox;
  sandbox.deadline = finiteDeadline(limits.deadline);
  sandbox.maxOutputBytes = programs.size() + 16;
  std::string answer;
  bool ran = pool != nullptr ? pool->run(fontJob, {}, body, sandbox, &answer, reason)
                             : runSandboxed([&](const Emit& emit) { return fontJob({}, body, emit); }, sandbox, &answer,
                                            reason);
  if (!ran) {
    if (reason->empty()) *reason = "internal:sandbox";
    return false;
  }
  // The worker's answer is untrusted: exactly one '0'/'1' per program, or the file is blocked.
  if (answer.size() != programs.size() || answer.find_first_not_of("01") != std::string::npos) {
    *reason = "internal:font-check";
    return false;
  }
  keep->assign(programs.size(), false);
  for (size_t i = 0; i < programs.size(); ++i) (*keep)[i] = answer[i] == '1';
  return true;
}

}  // namespace lbg::sanitizer::render
