#pragma once

// A flow listing taken from a worker's table without stalling the worker: the service thread
// asks (request()), the worker copies a bounded number of slots per loop iteration (step()) into
// a buffer the service thread reserved beforehand, and says when it is done. The worker never
// allocates, locks or walks more than `slotsPerStep` slots in one iteration, however large the
// table; the service thread waits (it is the one that asked).
//
// One request at a time per worker. The state word orders the hand-over: the service thread
// only touches the buffer while the state is Idle or Done, the worker only while Requested.

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace lbg::flow {

template <class Table>
class FlowDump {
 public:
  using Entry = typename Table::Entry;
  enum State : int { kIdle = 0, kRequested = 1, kDone = 2 };

  // Service thread: reserves room for `limit` entries and asks for them. Refused (false) while an
  // earlier request the worker has not finished is outstanding: its buffer is still the worker's.
  bool request(size_t limit) {
    if (state_.load(std::memory_order_acquire) == kRequested) return false;
    rows_.resize(limit);  // allocation here, on the requester, never on the worker
    count_ = 0;
    cursor_ = 0;
    state_.store(kRequested, std::memory_order_release);
    return true;
  }
  bool done() const { return state_.load(std::memory_order_acquire) == kDone; }
  // Service thread, after done(): the entries copied, in slot order.
  const Entry* rows() const { return rows_.data(); }
  size_t count() const { return count_; }
  // Service thread, after done(): an entry that insert() moved to a later slot while the walk was
  // under way was copied twice; keeps its first copy (slot order otherwise unchanged).
  void dropDuplicates() {
    std::vector<size_t> order(count_);
    for (size_t i = 0; i < count_; ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      return rows_[a].hash != rows_[b].hash ? rows_[a].hash < rows_[b].hash : a < b;
    });
    std::vector<bool> drop(count_, false);
    for (size_t i = 0; i < order.size(); ++i) {
      for (size_t j = i + 1; j < order.size() && rows_[order[j]].hash == rows_[order[i]].hash; ++j)
        if (rows_[order[j]].key == rows_[order[i]].key) drop[order[j]] = true;
    }
    size_t kept = 0;
    for (size_t i = 0; i < count_; ++i) {
      if (!drop[i]) rows_[kept++] = rows_[i];
    }
    count_ = kept;
  }
  // Service thread, after done(): back to idle. A request the worker never finished (stopping) is
  // left as it is, so the worker can never write into a buffer being resized.
  void reset() { state_.store(kIdle, std::memory_order_release); }

  // Worker, once per loop iteration: copies the live entries among the next `slotsPerStep`
  // slots. Returns true when this call completed the listing.
  bool step(const Table& table, uint32_t slotsPerStep) {
    if (state_.load(std::memory_order_acquire) != kRequested) return false;
    Entry* out = rows_.data();
    const size_t cap = rows_.size();
    cursor_ = table.walk(cursor_, slotsPerStep, [&](const Entry& e) {
      if (count_ < cap) out[count_++] = e;
      return count_ < cap;
    });
    if (count_ < cap && cursor_ < table.capacity()) return false;
    state_.store(kDone, std::memory_order_release);
    return true;
  }

 private:
  std::atomic<int> state_{kIdle};
  std::vector<Entry> rows_;
  size_t count_ = 0;
  uint32_t cursor_ = 0;
};

}  // namespace lbg::flow
