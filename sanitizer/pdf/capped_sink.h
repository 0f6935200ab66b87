#pragma once

// A qpdf pipeline end that collects decoded stream bytes and stops at a cap: a small Flate stream
// can expand a thousandfold, so every decode of untrusted PDF data goes through one of these
// (the cap is what is left of the document's expanded-bytes budget). QPDFWriter also writes the
// rebuilt file through one, straight into the output string (reserved once): qpdf's own memory
// output grows a buffer by reallocation and then copies it twice more.

// JSON first: clang with libstdc++ needs it complete before QPDFObjectHandle.hh uses it.
#include <qpdf/JSON.hh>
#include <qpdf/Pipeline.hh>

#include <cstdint>
#include <stdexcept>
#include <string>

namespace lbg::sanitizer::pdf {

class CappedSink : public Pipeline {
 public:
  CappedSink(std::string* out, uint64_t cap) : Pipeline("capped", nullptr), out_(out), cap_(cap) {}
  void write(unsigned char const* data, size_t len) override {
    if (out_->size() + len > cap_) throw std::length_error("stream over the expanded-bytes limit");
    out_->append(reinterpret_cast<const char*>(data), len);
  }
  void finish() override {}

 private:
  std::string* out_;
  uint64_t cap_;
};

}  // namespace lbg::sanitizer::pdf
