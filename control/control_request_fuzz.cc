// Fuzzes the control request parser: any byte string must give a Request or an ApiError, never
// a crash, and a parsed request must re-encode to something that parses to the same command.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "control/api.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  auto r = lbg::control::parseRequest(line);
  if (auto* req = std::get_if<lbg::control::Request>(&r)) {
    std::string again = lbg::control::encodeRequest(*req);
    again.pop_back();
    auto back = lbg::control::parseRequest(again);
    auto* req2 = std::get_if<lbg::control::Request>(&back);
    if (!req2 || req2->cmd != req->cmd) std::abort();
  } else {
    (void)lbg::control::encodeError(std::get<lbg::control::ApiError>(r));
  }
  (void)lbg::control::parseResponse(line);
  return 0;
}
