#include "control/validation_cache.h"

#include <algorithm>

namespace lbg::control {

ValidationCache::Ptr ValidationCache::find(const std::string& text,
                                           std::chrono::sys_days day) const {
  for (auto it = entries_.rbegin(); it != entries_.rend(); ++it) {
    if (it->day >= day && it->text.size() == text.size() && it->text == text) {
      Ptr hit = it->candidate;
      // Move to the most recently used end.
      std::rotate(std::next(it).base(), std::next(it).base() + 1, entries_.end());
      return hit;
    }
  }
  return nullptr;
}

void ValidationCache::put(const std::string& text, std::chrono::sys_days day, const Ptr& c) {
  for (auto it = entries_.begin(); it != entries_.end(); ++it) {
    if (it->text == text) {
      entries_.erase(it);
      break;
    }
  }
  entries_.push_back(Entry{text, day, c});
  while (entries_.size() > capacity_) entries_.erase(entries_.begin());
}

void ValidationCache::insert(const std::string& text, std::chrono::sys_days day, Ptr c) {
  if (!c || capacity_ == 0) return;
  if (c->yaml != text) put(c->yaml, day, c);
  put(text, day, c);
}

Result<ValidationCache::Ptr> validateCached(ValidationCache& cache, const std::string& yaml,
                                            const std::string& fileName,
                                            std::chrono::sys_days today) {
  if (auto hit = cache.find(yaml, today)) return hit;
  auto c = validateCandidate(yaml, fileName, today);
  if (!c) return c.error();
  auto p = std::make_shared<const Candidate>(std::move(*c));
  cache.insert(yaml, today, p);
  return p;
}

}  // namespace lbg::control
