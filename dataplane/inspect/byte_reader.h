#pragma once

#include <cstddef>
#include <cstdint>

namespace lbg::inspect {

// Bounds-checked big-endian cursor over untrusted bytes. Every read checks what is left first and
// fails (returns false, leaves the cursor unchanged) instead of reading past the end.
class ByteReader {
 public:
  ByteReader(const uint8_t* data, size_t size) : data_(data), size_(size) {}

  size_t left() const { return size_ - pos_; }
  size_t pos() const { return pos_; }
  bool empty() const { return pos_ == size_; }
  const uint8_t* cur() const { return data_ + pos_; }

  bool u8(uint8_t& v) {
    if (left() < 1) return false;
    v = data_[pos_++];
    return true;
  }
  bool u16(uint16_t& v) {
    if (left() < 2) return false;
    v = uint16_t(data_[pos_] << 8 | data_[pos_ + 1]);
    pos_ += 2;
    return true;
  }
  bool u24(uint32_t& v) {
    if (left() < 3) return false;
    v = uint32_t(data_[pos_]) << 16 | uint32_t(data_[pos_ + 1]) << 8 | data_[pos_ + 2];
    pos_ += 3;
    return true;
  }
  bool u32(uint32_t& v) {
    if (left() < 4) return false;
    v = uint32_t(data_[pos_]) << 24 | uint32_t(data_[pos_ + 1]) << 16 |
        uint32_t(data_[pos_ + 2]) << 8 | data_[pos_ + 3];
    pos_ += 4;
    return true;
  }
  bool skip(size_t n) {
    if (left() < n) return false;
    pos_ += n;
    return true;
  }
  // A sub-reader over the next n bytes, which the cursor then skips.
  bool sub(size_t n, ByteReader& out) {
    if (left() < n) return false;
    out = ByteReader(data_ + pos_, n);
    pos_ += n;
    return true;
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

}  // namespace lbg::inspect
