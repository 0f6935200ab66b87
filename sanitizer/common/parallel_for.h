#pragma once

// A bounded fan-out for the independent pieces of one file (the images of a PDF): fn(0) ..
// fn(count - 1) run on at most `threads` threads, the caller's included, which joins them all
// before returning. Results are the callee's to place by index, so the output does not depend on
// which thread ran what. Threads are started per call and end with it: a file's work is
// milliseconds to seconds, and nothing outlives the call (no pool to size or shut down, no state
// shared between files or callers).
//
// The first exception any call throws is rethrown here after every thread has stopped (the rest
// of the indexes may then be left undone). When a thread cannot be started the caller's own
// thread takes its share: fewer threads, same result.

#include <cstddef>
#include <functional>

namespace lbg::sanitizer {

void parallelFor(size_t count, unsigned threads, const std::function<void(size_t)>& fn);

}  // namespace lbg::sanitizer
