#pragma once

// Large working buffers of the format rebuilders (an inflated OOXML part, its serialised XML, the
// deflate output), kept per thread and reused across files.
//
// Why: a 10 MB .docm holds a 40 MB document.xml. Held in a fresh std::string it was zero-filled
// by resize() before being inflated into, and every fresh 40 MB allocation (glibc serves it with
// mmap) was faulted in and zeroed by the kernel page by page, then unmapped again when freed:
// about a third of the rebuild and its second check. A buffer taken here grows without
// initialising its bytes, and on release goes back to a small per-thread pool with its pages
// still mapped, so the next part or the next file writes into memory that is already there.
//
// Bounds: a thread keeps at most kMaxPooled buffers, none above kMaxPooledBytes, and at most
// kMaxPooledTotal bytes in all (larger or surplus buffers are freed on release). So a thread of
// lbg-icapd that once rebuilt a large document keeps up to kMaxPooledTotal resident until it
// exits; that is the price of not faulting it in again for every file.
//
// Contents are never shared between files: a buffer's bytes beyond what the current user wrote
// are stale, and no reader may look at them (every user writes before it reads, and size() only
// covers what was written or sized).

#include <cstddef>
#include <string_view>

namespace lbg::sanitizer {

class ScratchBuffer {
 public:
  static constexpr size_t kMaxPooled = 4;
  static constexpr size_t kMaxPooledBytes = size_t{96} << 20;
  static constexpr size_t kMaxPooledTotal = size_t{192} << 20;

  // A buffer of at least `capacity` bytes from this thread's pool (preferring one whose first
  // `capacity` bytes are already mapped, then the smallest), or a new one; size() is 0.
  static ScratchBuffer take(size_t capacity);

  ScratchBuffer() = default;
  ~ScratchBuffer();
  ScratchBuffer(ScratchBuffer&& other) noexcept;
  ScratchBuffer& operator=(ScratchBuffer&& other) noexcept;
  ScratchBuffer(const ScratchBuffer&) = delete;
  ScratchBuffer& operator=(const ScratchBuffer&) = delete;

  char* data() { return data_; }
  const char* data() const { return data_; }
  size_t size() const { return size_; }
  size_t capacity() const { return capacity_; }
  std::string_view view() const { return {data_, size_}; }

  // Sets the size; bytes past the old size are uninitialised (and must be written before they
  // are read). Set it to what was written, even after writing through data(): the pool places
  // buffers by how much of them is mapped. Growing beyond capacity() moves the
  // first size() bytes to a larger allocation (geometric growth). Throws std::bad_alloc.
  void resize(size_t size);
  // Appends bytes (growing as resize does).
  void append(const char* bytes, size_t n);
  void append(std::string_view bytes) { append(bytes.data(), bytes.size()); }
  void clear() { size_ = 0; }

  // Frees this thread's pooled buffers (tests; a thread that will not rebuild again).
  static void releaseThreadPool();
  // Bytes currently pooled by this thread (tests).
  static size_t pooledBytes();

 private:
  void reserveExact(size_t capacity);
  void giveBack();

  char* data_ = nullptr;
  size_t size_ = 0;
  size_t capacity_ = 0;
  size_t touched_ = 0;  // the most bytes this storage ever held: pages already mapped
};

}  // namespace lbg::sanitizer
