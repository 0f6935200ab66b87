#pragma once

// libzip wrapped for untrusted archives held in memory: every read is bounded by the declared size,
// the caller's expansion budget and the compression-ratio limit, so a zip bomb fails with a limit
// instead of filling memory. Writing builds a fresh archive in memory from scratch (our own record
// writer over libdeflate: see finish()).

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sanitizer/common/format_result.h"

struct libdeflate_decompressor;
struct libdeflate_compressor;

struct zip;
struct zip_source;

namespace lbg::sanitizer {

class ScratchBuffer;

struct ZipEntry {
  uint64_t index = 0;
  std::string name;
  uint64_t size = 0;       // declared uncompressed size
  uint64_t compSize = 0;   // declared compressed size
  bool encrypted = false;
  bool directory = false;
  bool deflated = false;   // method 8 with a declared CRC: inflated by libdeflate
  uint32_t crc = 0;
};

class ZipReader {
 public:
  // nullptr + reason ("parse-error", "limit:zip-members") when the bytes are not a usable archive.
  // `bytes` must outlive the reader.
  static std::unique_ptr<ZipReader> open(std::string_view bytes, const FormatLimits& limits,
                                         std::string* reason);
  ~ZipReader();
  ZipReader(const ZipReader&) = delete;
  ZipReader& operator=(const ZipReader&) = delete;

  const std::vector<ZipEntry>& entries() const { return entries_; }
  const ZipEntry* find(std::string_view name) const;  // exact, case-sensitive

  // Reads one member fully. Fails with "encrypted", "limit:zip-ratio", "limit:expanded-size",
  // "parse-error" (CRC, truncated). Bytes read count against the reader's expansion budget.
  bool read(const ZipEntry& entry, std::string* out, std::string* reason);
  // The same into a reusable buffer whose bytes are not initialised first (large XML parts).
  bool read(const ZipEntry& entry, ScratchBuffer* out, std::string* reason);

 private:
  ZipReader() = default;
  zip* archive_ = nullptr;
  zip_source* source_ = nullptr;
  std::vector<ZipEntry> entries_;
  FormatLimits limits_;
  uint64_t expanded_ = 0;
  libdeflate_decompressor* inflater_ = nullptr;  // made on the first deflated member
  bool admit(const ZipEntry& entry, std::string* reason) const;
  bool readInto(const ZipEntry& entry, char* dst, size_t capacity, size_t* got, std::string* reason);
  bool readDeflated(const ZipEntry& entry, char* dst, size_t capacity, size_t* got, std::string* reason);
};

class ZipWriter {
 public:
  ZipWriter();
  ~ZipWriter();
  ZipWriter(const ZipWriter&) = delete;
  ZipWriter& operator=(const ZipWriter&) = delete;
  // Members are deflated (libdeflate, level 1), or stored when deflate does not make them smaller,
  // in the order added. Compressed during the call: `data` is not referenced afterwards.
  void add(std::string_view name, std::string_view data);
  // The archive bytes, or false + reason. The writer is empty afterwards.
  bool finish(std::string* out, std::string* reason);

 private:
  struct Central {
    std::string name;
    uint32_t crc = 0, compSize = 0, size = 0, offset = 0;
    uint16_t method = 0;
  };
  libdeflate_compressor* compressor_ = nullptr;  // made on the first member
  std::string archive_;
  std::vector<Central> central_;
  bool failed_ = false;
};

}  // namespace lbg::sanitizer
