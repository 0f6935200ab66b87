#pragma once

#include <cstdio>
#include <string>
#include <string_view>

#include "dataplane/core/pipeline.h"
#include "dataplane/telemetry/event_json.h"

namespace lbg::dataplane {

// Receives serialised events (one JSON object per call, no newline). The live gateway plugs in the
// hash-chained log writer; replay writes a plain JSON-lines file.
class EventSink {
 public:
  virtual ~EventSink() = default;
  virtual void write(std::string_view jsonObject) = 0;
};

class FileEventSink : public EventSink {
 public:
  explicit FileEventSink(std::FILE* f) : f_(f) {}
  void write(std::string_view json) override {
    std::fwrite(json.data(), 1, json.size(), f_);
    std::fputc('\n', f_);
  }

 private:
  std::FILE* f_;
};

// Moves every queued event of `p` to `sink` (service thread, or the replay loop between bursts).
inline size_t drainEvents(Pipeline& p, EventSink& sink, std::string& scratch) {
  size_t n = 0;
  telemetry::Event ev;
  while (p.events().tryPop(ev)) {
    scratch.clear();
    telemetry::appendEventJson(ev, scratch);
    sink.write(scratch);
    ++n;
  }
  return n;
}

}  // namespace lbg::dataplane
