#include "sanitizer/common/scratch_buffer.h"

#include <sys/mman.h>

#include <cstdlib>
#include <cstring>
#include <new>
#include <utility>

namespace lbg::sanitizer {
namespace {

// Buffers from this size on are mapped directly and asked for transparent huge pages: a 40 MB
// buffer is then faulted in as 20 huge pages instead of 10,000 small ones the first time it is
// written (page faults are slow on the virtual machines we run on). Smaller ones use malloc.
constexpr size_t kMapped = size_t{4} << 20;
constexpr size_t kHuge = size_t{2} << 20;

size_t roundUp(size_t n) { return (n + kHuge - 1) & ~(kHuge - 1); }

void release(char* data, size_t capacity) {
  if (data == nullptr) return;
  if (capacity >= kMapped) {
    ::munmap(data, capacity);
  } else {
    std::free(data);
  }
}

struct Pooled {
  char* data = nullptr;
  size_t capacity = 0;
  size_t touched = 0;  // bytes a user wrote (or sized): those pages are mapped
};

// This thread's idle buffers. Freed when the thread exits; `alive` guards a buffer released
// during thread-exit destruction after the pool itself is gone.
struct Pool {
  Pooled slots[ScratchBuffer::kMaxPooled];
  size_t count = 0;
  size_t total = 0;
  bool alive = true;
  ~Pool() {
    clearAll();
    alive = false;
  }
  void clearAll() {
    for (size_t i = 0; i < count; ++i) release(slots[i].data, slots[i].capacity);
    count = 0;
    total = 0;
  }
};

Pool& pool() {
  thread_local Pool p;
  return p;
}

}  // namespace

ScratchBuffer ScratchBuffer::take(size_t capacity) {
  ScratchBuffer buffer;
  Pool& p = pool();
  // Best fit by what is already mapped: a buffer that was only partly written (a deflate bound of
  // 40 MB that received 6 MB) would fault in the rest, so `touched` decides before `capacity`.
  size_t best = p.count;
  auto better = [&](const Pooled& a, const Pooled& b) {
    bool aWarm = a.touched >= capacity, bWarm = b.touched >= capacity;
    if (aWarm != bWarm) return aWarm;
    return aWarm ? a.capacity < b.capacity : a.touched > b.touched;
  };
  for (size_t i = 0; i < p.count; ++i) {
    if (p.slots[i].capacity >= capacity && (best == p.count || better(p.slots[i], p.slots[best]))) best = i;
  }
  if (best == p.count && p.count > 0) {
    // None fits: the largest is grown (realloc may extend it in place and keeps its mapped pages).
    best = 0;
    for (size_t i = 1; i < p.count; ++i) {
      if (p.slots[i].capacity > p.slots[best].capacity) best = i;
    }
  }
  if (best < p.count) {
    buffer.data_ = p.slots[best].data;
    buffer.capacity_ = p.slots[best].capacity;
    buffer.touched_ = p.slots[best].touched;
    p.total -= p.slots[best].capacity;
    p.slots[best] = p.slots[--p.count];
  }
  if (buffer.capacity_ < capacity) buffer.reserveExact(capacity);
  return buffer;
}

ScratchBuffer::~ScratchBuffer() { giveBack(); }

ScratchBuffer::ScratchBuffer(ScratchBuffer&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      capacity_(std::exchange(other.capacity_, 0)),
      touched_(std::exchange(other.touched_, 0)) {}

ScratchBuffer& ScratchBuffer::operator=(ScratchBuffer&& other) noexcept {
  if (this != &other) {
    giveBack();
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    capacity_ = std::exchange(other.capacity_, 0);
    touched_ = std::exchange(other.touched_, 0);
  }
  return *this;
}

void ScratchBuffer::giveBack() {
  if (data_ == nullptr) return;
  Pool& p = pool();
  if (p.alive && capacity_ <= kMaxPooledBytes) {
    // Make room: drop the smallest pooled buffers while this one does not fit the bounds.
    while (p.count > 0 && (p.count == kMaxPooled || p.total + capacity_ > kMaxPooledTotal)) {
      size_t smallest = 0;
      for (size_t i = 1; i < p.count; ++i) {
        if (p.slots[i].capacity < p.slots[smallest].capacity) smallest = i;
      }
      if (p.slots[smallest].capacity >= capacity_) break;  // keep the larger ones instead
      release(p.slots[smallest].data, p.slots[smallest].capacity);
      p.total -= p.slots[smallest].capacity;
      p.slots[smallest] = p.slots[--p.count];
    }
    if (p.count < kMaxPooled && p.total + capacity_ <= kMaxPooledTotal) {
      p.slots[p.count++] = Pooled{data_, capacity_, touched_};
      p.total += capacity_;
      data_ = nullptr;
    }
  }
  release(data_, capacity_);
  data_ = nullptr;
  size_ = capacity_ = touched_ = 0;
}

void ScratchBuffer::reserveExact(size_t capacity) {
  if (capacity < kMapped) {
    // capacity_ < kMapped too (buffers only grow): a malloc block, realloc keeps the first size_.
    void* grown = std::realloc(data_, capacity == 0 ? 1 : capacity);
    if (grown == nullptr) throw std::bad_alloc();
    data_ = static_cast<char*>(grown);
    capacity_ = capacity;
    return;
  }
  capacity = roundUp(capacity);
  void* mapped;
  if (capacity_ >= kMapped) {
    // mremap moves the pages themselves: the written part is neither copied nor faulted again.
    mapped = ::mremap(data_, capacity_, capacity, MREMAP_MAYMOVE);
    if (mapped == MAP_FAILED) throw std::bad_alloc();
  } else {
    mapped = ::mmap(nullptr, capacity, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mapped == MAP_FAILED) throw std::bad_alloc();
    if (size_ > 0) std::memcpy(mapped, data_, size_);
    std::free(data_);
  }
  ::madvise(mapped, capacity, MADV_HUGEPAGE);  // a hint: without THP it is plain pages
  data_ = static_cast<char*>(mapped);
  capacity_ = capacity;
}

void ScratchBuffer::resize(size_t size) {
  if (size > capacity_) {
    size_t grown = capacity_ + capacity_ / 2;
    reserveExact(size > grown ? size : grown);
  }
  size_ = size;
  if (size > touched_) touched_ = size;
}

void ScratchBuffer::append(const char* bytes, size_t n) {
  if (n == 0) return;
  size_t at = size_;
  resize(size_ + n);
  std::memcpy(data_ + at, bytes, n);
}

void ScratchBuffer::releaseThreadPool() { pool().clearAll(); }

size_t ScratchBuffer::pooledBytes() { return pool().total; }

}  // namespace lbg::sanitizer
