#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "control/candidate.h"

namespace lbg::control {

// Remembers the last few successfully validated policy texts, so that a commit does not parse
// again what `policy load` or a service edit just validated (with 10,000 services the YAML parse
// costs about a second per pass, and a commit used to make three: candidate, running, version).
//
// Keyed by the exact text. Validation depends on the date only through ISMAP expiry, which is
// monotone: a text valid on day D is valid on every earlier day. So an entry validated on day D
// answers for any day <= D, never for a later day (a registration may have lapsed since).
// Only successes are kept: an error is recomputed, so that its file name and position are the
// caller's.
class ValidationCache {
 public:
  using Ptr = std::shared_ptr<const Candidate>;
  // `capacity` counts texts: a text that is not in canonical form takes two entries.
  explicit ValidationCache(size_t capacity = 8) : capacity_(capacity) {}

  Ptr find(const std::string& text, std::chrono::sys_days day) const;
  // Records `c` as the validation of `text` on `day` (and of its canonical form, which parses
  // to the same document).
  void insert(const std::string& text, std::chrono::sys_days day, Ptr c);
  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    std::string text;
    std::chrono::sys_days day;
    Ptr candidate;
  };
  void put(const std::string& text, std::chrono::sys_days day, const Ptr& c);
  size_t capacity_;
  mutable std::vector<Entry> entries_;  // most recently used last
};

// Validates through the cache: a hit costs a text comparison; a miss parses and records.
Result<ValidationCache::Ptr> validateCached(ValidationCache& cache, const std::string& yaml,
                                           const std::string& fileName,
                                           std::chrono::sys_days today);

}  // namespace lbg::control
