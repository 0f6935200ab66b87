// libFuzzer target: the policy-sync frame (control/policy_sync/codec.h), what a box accepts from
// the HA link's TCP port. Each input is judged twice: as raw bytes (frameLength, then
// decodeFrame: anything but a frame signed under the key is refused), and as the body of a frame
// signed under the key, so that what is read after the MAC verified (the JSON request and a
// pushed version's meta, VersionMeta::fromJson, and its carried IDS rule files) sees arbitrary authenticated bytes.
// Invariants: Ok only for a frame whose length frameLength() gave; a signed frame decodes Ok
// with the same type, nonce and body; a body parse error is a value, never a crash.

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "control/policy_sync/carried_rules.h"
#include "control/policy_sync/codec.h"
#include "control/store.h"

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace lbg::control::psync;
  static const std::string key(32, 'k');
  static const Nonce peer{};
  const std::string_view in(reinterpret_cast<const char*>(data), size);

  size_t total = 0;
  const FrameStatus len = frameLength(in, total);
  Frame f;
  const FrameStatus raw = decodeFrame(key, in, peer, f);
  if (raw == FrameStatus::Ok) check(len == FrameStatus::Ok && total == in.size());

  const auto type = size > 0 ? static_cast<MsgType>(1 + data[0] % 5) : MsgType::Push;
  const std::string frame = encodeFrame(key, type, peer, in, peer);
  check(frameLength(frame, total) == FrameStatus::Ok && total == frame.size());
  check(decodeFrame(key, frame, peer, f) == FrameStatus::Ok);
  check(f.type == type && f.body == in);
  // What a box reads once the MAC verified.
  const nlohmann::json body = nlohmann::json::parse(f.body, nullptr, false);
  if (body.is_object() && body.contains("meta")) (void)lbg::control::VersionMeta::fromJson(body["meta"]);
  if (body.is_object() && body.contains("rules")) {
    if (auto r = lbg::control::carriedRulesFromJson(body["rules"])) {
      check(r->size() <= lbg::control::kMaxCarriedRulesFiles);
    }
  }
  return 0;
}
