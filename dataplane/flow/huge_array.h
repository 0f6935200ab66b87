#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <cstdint>
#include <new>
#include <type_traits>

namespace lbg::flow {

// A fixed-size, zero-initialised array of trivially copyable T in anonymous memory that asks the
// kernel for transparent huge pages before it is first touched. Flow tables are hundreds of MiB
// read at random: with 4 KiB pages almost every lookup also misses the TLB, and the page walk
// costs as much as the cache miss itself. (Production EAL memory is hugepage-backed anyway; this
// keeps the table free of DPDK so that unit tests and fuzzers run without EAL.)
template <class T>
class HugeArray {
  static_assert(std::is_trivially_copyable_v<T>);

 public:
  explicit HugeArray(size_t count) : count_(count) {
    constexpr size_t kHuge = 2u << 20;
    bytes_ = (count * sizeof(T) + kHuge - 1) / kHuge * kHuge;
    if (bytes_ == 0) bytes_ = kHuge;
    void* p = mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();  // set-up only: create() turns it into an error
    madvise(p, bytes_, MADV_HUGEPAGE);            // advisory: without THP it is plain pages
    data_ = static_cast<T*>(p);                   // mmap memory is zero: every T starts zeroed
  }
  ~HugeArray() { munmap(data_, bytes_); }
  HugeArray(const HugeArray&) = delete;
  HugeArray& operator=(const HugeArray&) = delete;

  T& operator[](size_t i) { return data_[i]; }
  const T& operator[](size_t i) const { return data_[i]; }
  T* data() { return data_; }
  const T* data() const { return data_; }
  size_t size() const { return count_; }

 private:
  T* data_ = nullptr;
  size_t count_ = 0;
  size_t bytes_ = 0;
};

}  // namespace lbg::flow
