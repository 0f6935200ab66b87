#pragma once

// A pool of pre-forked, sandboxed render workers (the same sandbox as runSandboxed(): own user and
// network namespace, seccomp deny-list, rlimits, only one socket to the parent), reused across
// files so that no file pays for a process start, poppler's and fontconfig's initialisation.
//
// Trade-off, stated: a worker renders several files one after the other, so an exploit of the
// renderer would live on until the worker is retired. Mitigations: a worker only ever sees PDFs
// that qpdf has already rebuilt; it is killed and replaced after any failure, timeout or garbled
// answer, and retired after `jobsPerWorker` jobs; it has no network, cannot exec, and writes no
// files. A caller that wants one process per file passes no pool (runSandboxed()).

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "sanitizer/render/sandbox.h"

namespace lbg::sanitizer::render {

using Emit = std::function<bool(std::string_view)>;
// A job runs in the worker: reads its parameters (`head`, a small fixed struct) and the document
// (`body`), writes its answer with `emit`, true on success. A plain function (not a closure): the
// worker was forked before the job existed. Head and body travel apart so that the document is
// never copied into a request buffer on the caller's side.
using JobFn = bool (*)(std::string_view head, std::string_view body, const Emit& emit);

class RenderPool {
 public:
  explicit RenderPool(size_t maxWorkers, uint32_t jobsPerWorker = 256);
  ~RenderPool();
  RenderPool(const RenderPool&) = delete;
  RenderPool& operator=(const RenderPool&) = delete;

  // Same contract as runSandboxed(): the bytes the job emitted, or false + reason
  // ("limit:timeout", "limit:render-output", "render-failed", "internal:sandbox"). Thread-safe;
  // waits for a free worker when all are busy.
  bool run(JobFn job, std::string_view head, std::string_view body, const SandboxLimits& limits,
           std::string* output, std::string* reason);

  size_t workersStarted() const;
  // CPU seconds used so far by the workers alive now. A retired worker's time moves to the
  // caller's RUSAGE_CHILDREN when it is reaped, so (this + RUSAGE_CHILDREN) only ever grows.
  double liveWorkersCpuSeconds() const;

 private:
  struct Worker {
    int pid = -1;
    int fd = -1;
    uint32_t jobs = 0;
  };
  bool spawn(Worker* w);
  void retire(Worker& w);

  const size_t maxWorkers_;
  const uint32_t jobsPerWorker_;
  mutable std::mutex mu_;
  std::condition_variable freed_;
  std::vector<Worker> idle_;
  size_t live_ = 0;
  size_t started_ = 0;
  std::vector<int> livePids_;
  bool inDestructor_ = false;
};

}  // namespace lbg::sanitizer::render
