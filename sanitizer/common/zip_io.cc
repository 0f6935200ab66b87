#include "sanitizer/common/zip_io.h"

#include <libdeflate.h>
#include <zip.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "sanitizer/common/archive_rules.h"
#include "sanitizer/common/scratch_buffer.h"

namespace lbg::sanitizer {
namespace {

// Fixed timestamp (1980-01-01 00:00, the DOS epoch) so that the same input always rebuilds to the
// same bytes and the output hash in the report is reproducible.
constexpr uint16_t kDosTime = 0, kDosDate = (0 << 9) | (1 << 5) | 1;
constexpr uint16_t kFlagUtf8 = 1 << 11;

void put16(std::string* out, uint16_t v) {
  out->push_back(static_cast<char>(v & 0xFF));
  out->push_back(static_cast<char>(v >> 8));
}
void put32(std::string* out, uint32_t v) {
  put16(out, static_cast<uint16_t>(v & 0xFFFF));
  put16(out, static_cast<uint16_t>(v >> 16));
}

void putLocalHeader(std::string* out, const std::string& name, uint32_t crc, uint32_t compSize, uint32_t size,
                    uint16_t method) {
  put32(out, 0x04034b50);
  put16(out, 20);  // version needed: 2.0 (deflate)
  put16(out, kFlagUtf8);
  put16(out, method);
  put16(out, kDosTime);
  put16(out, kDosDate);
  put32(out, crc);
  put32(out, compSize);
  put32(out, size);
  put16(out, static_cast<uint16_t>(name.size()));
  put16(out, 0);  // extra field length
  out->append(name);
}

void putCentralHeader(std::string* out, const std::string& name, uint32_t crc, uint32_t compSize, uint32_t size,
                      uint16_t method, uint32_t offset) {
  put32(out, 0x02014b50);
  put16(out, 20);  // made by: MS-DOS, 2.0
  put16(out, 20);
  put16(out, kFlagUtf8);
  put16(out, method);
  put16(out, kDosTime);
  put16(out, kDosDate);
  put32(out, crc);
  put32(out, compSize);
  put32(out, size);
  put16(out, static_cast<uint16_t>(name.size()));
  put16(out, 0);  // extra
  put16(out, 0);  // comment
  put16(out, 0);  // disk
  put16(out, 0);  // internal attributes
  put32(out, 0);  // external attributes
  put32(out, offset);
  out->append(name);
}

}  // namespace

std::unique_ptr<ZipReader> ZipReader::open(std::string_view bytes, const FormatLimits& limits,
                                           std::string* reason) {
  std::unique_ptr<ZipReader> reader(new ZipReader());
  reader->limits_ = limits;
  zip_error_t error;
  zip_error_init(&error);
  reader->source_ = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &error);
  if (reader->source_ == nullptr) {
    zip_error_fini(&error);
    *reason = "parse-error";
    return nullptr;
  }
  // CHECKCONS: reject archives whose central directory and local headers disagree, the classic
  // trick to show one file to the scanner and another to the application.
  reader->archive_ = zip_open_from_source(reader->source_, ZIP_RDONLY | ZIP_CHECKCONS, &error);
  zip_error_fini(&error);
  if (reader->archive_ == nullptr) {
    zip_source_free(reader->source_);
    reader->source_ = nullptr;
    *reason = "parse-error";
    return nullptr;
  }
  zip_int64_t count = zip_get_num_entries(reader->archive_, 0);
  if (count < 0) {
    *reason = "parse-error";
    return nullptr;
  }
  if (static_cast<uint64_t>(count) > limits.maxArchiveMembers) {
    *reason = "limit:zip-members";
    return nullptr;
  }
  uint64_t declaredTotal = 0;
  for (zip_int64_t i = 0; i < count; ++i) {
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(reader->archive_, static_cast<zip_uint64_t>(i), 0, &st) != 0 ||
        (st.valid & ZIP_STAT_NAME) == 0) {
      *reason = "parse-error";
      return nullptr;
    }
    ZipEntry entry;
    entry.index = static_cast<uint64_t>(i);
    entry.name = st.name;
    entry.size = (st.valid & ZIP_STAT_SIZE) ? st.size : 0;
    entry.compSize = (st.valid & ZIP_STAT_COMP_SIZE) ? st.comp_size : 0;
    entry.encrypted =
        (st.valid & ZIP_STAT_ENCRYPTION_METHOD) && st.encryption_method != ZIP_EM_NONE;
    entry.directory = !entry.name.empty() && entry.name.back() == '/';
    entry.deflated = (st.valid & ZIP_STAT_COMP_METHOD) && st.comp_method == ZIP_CM_DEFLATE &&
                     (st.valid & ZIP_STAT_CRC) && (st.valid & ZIP_STAT_COMP_SIZE);
    entry.crc = (st.valid & ZIP_STAT_CRC) ? st.crc : 0;
    declaredTotal += entry.size;
    reader->entries_.push_back(std::move(entry));
  }
  if (declaredTotal > limits.maxExpandedBytes) {
    *reason = "limit:expanded-size";
    return nullptr;
  }
  if (ratioExceeded(declaredTotal, bytes.size(), limits.maxCompressionRatio)) {
    *reason = "limit:zip-ratio";
    return nullptr;
  }
  return reader;
}

ZipReader::~ZipReader() {
  if (inflater_ != nullptr) libdeflate_free_decompressor(inflater_);
  if (archive_ != nullptr) {
    zip_discard(archive_);  // also frees source_
  } else if (source_ != nullptr) {
    zip_source_free(source_);
  }
}

const ZipEntry* ZipReader::find(std::string_view name) const {
  for (const auto& entry : entries_) {
    if (entry.name == name) return &entry;
  }
  return nullptr;
}

bool ZipReader::read(const ZipEntry& entry, std::string* out, std::string* reason) {
  out->clear();
  // Small members (relationships, content types, images): a std::string, zero-filled once.
  if (!admit(entry, reason)) return false;
  out->resize(entry.size + 1);
  size_t got = 0;
  bool ok = readInto(entry, out->data(), out->size(), &got, reason);
  out->resize(ok ? got : 0);
  return ok;
}

bool ZipReader::read(const ZipEntry& entry, ScratchBuffer* out, std::string* reason) {
  out->clear();
  if (!admit(entry, reason)) return false;
  // Not initialised: the member is written over it (and on failure size() stays 0).
  if (out->capacity() < entry.size + 1) *out = ScratchBuffer::take(entry.size + 1);
  out->resize(entry.size + 1);
  size_t got = 0;
  bool ok = readInto(entry, out->data(), out->size(), &got, reason);
  out->resize(ok ? got : 0);
  return ok;
}

bool ZipReader::admit(const ZipEntry& entry, std::string* reason) const {
  if (entry.encrypted) {
    *reason = "encrypted";
    return false;
  }
  if (entry.size > limits_.maxExpandedBytes - std::min(expanded_, limits_.maxExpandedBytes)) {
    *reason = "limit:expanded-size";
    return false;
  }
  if (ratioExceeded(entry.size, entry.compSize, limits_.maxCompressionRatio)) {
    *reason = "limit:zip-ratio";
    return false;
  }
  return true;
}

// `dst` holds entry.size + 1 bytes: the declared size is untrusted, and a member that produces
// more than it declares must be noticed, never written past the buffer. It is within the
// expansion budget (admit()), so the buffer is sized once and the member is written straight
// into it: no growth, no copy through a bounce buffer.
bool ZipReader::readInto(const ZipEntry& entry, char* dst, size_t capacity, size_t* got, std::string* reason) {
  if (entry.deflated) return readDeflated(entry, dst, capacity, got, reason);
  zip_file_t* file = zip_fopen_index(archive_, entry.index, 0);
  if (file == nullptr) {
    int code = zip_error_code_zip(zip_get_error(archive_));
    *reason = (code == ZIP_ER_NOPASSWD || code == ZIP_ER_WRONGPASSWD || code == ZIP_ER_ENCRNOTSUPP)
                  ? "encrypted"
                  : "parse-error";
    return false;
  }
  bool ok = true;
  uint64_t n64 = 0;
  for (;;) {
    zip_int64_t n = zip_fread(file, dst + n64, capacity - n64);
    if (n < 0) {
      *reason = "parse-error";
      ok = false;
      break;
    }
    if (n == 0) break;
    n64 += static_cast<uint64_t>(n);
    if (n64 > entry.size) {
      *reason = "parse-error";
      ok = false;
      break;
    }
  }
  expanded_ += n64;
  if (ok && expanded_ > limits_.maxExpandedBytes) {
    *reason = "limit:expanded-size";
    ok = false;
  }
  zip_fclose(file);
  if (ok && n64 != entry.size) {
    *reason = "parse-error";
    ok = false;
  }
  *got = ok ? static_cast<size_t>(n64) : 0;
  return ok;
}

// Deflated members: the raw stream is read from libzip and inflated by libdeflate (about twice
// zlib's speed; inflate was the largest cost of the OOXML rebuild and of its second check). The
// output buffer is the declared size plus one: a stream that would produce more fails with
// INSUFFICIENT_SPACE or a size mismatch, one that produces less or another CRC is a parse error.
bool ZipReader::readDeflated(const ZipEntry& entry, char* dst, size_t capacity, size_t* got, std::string* reason) {
  zip_file_t* file = zip_fopen_index(archive_, entry.index, ZIP_FL_COMPRESSED);
  if (file == nullptr) {
    *reason = "parse-error";
    return false;
  }
  ScratchBuffer packed = ScratchBuffer::take(entry.compSize);
  packed.resize(entry.compSize);
  uint64_t read = 0;
  bool ok = true;
  while (read < entry.compSize) {
    zip_int64_t n = zip_fread(file, packed.data() + read, entry.compSize - read);
    if (n <= 0) {
      ok = false;
      break;
    }
    read += static_cast<uint64_t>(n);
  }
  zip_fclose(file);
  if (!ok) {
    *reason = "parse-error";
    return false;
  }
  if (!inflater_) inflater_ = libdeflate_alloc_decompressor();
  if (inflater_ == nullptr) {
    *reason = "internal:inflate";
    return false;
  }
  size_t produced = 0;
  libdeflate_result r =
      libdeflate_deflate_decompress(inflater_, packed.data(), entry.compSize, dst, capacity, &produced);
  expanded_ += produced;
  if (r != LIBDEFLATE_SUCCESS || produced != entry.size || libdeflate_crc32(0, dst, produced) != entry.crc) {
    *reason = "parse-error";
    return false;
  }
  if (expanded_ > limits_.maxExpandedBytes) {
    *reason = "limit:expanded-size";
    return false;
  }
  *got = produced;
  return true;
}

ZipWriter::ZipWriter() = default;

ZipWriter::~ZipWriter() {
  if (compressor_ != nullptr) libdeflate_free_compressor(compressor_);
}

// The archive is written here rather than through libzip: libdeflate compresses a whole buffer
// at level 1 several times faster than zlib, and building the records directly avoids libzip's
// extra copies. This was the largest cost of an OOXML rebuild. What we write is deliberately
// plain: no ZIP64 (outputs are bounded far below 4 GB), no extra fields, UTF-8 names, a fixed
// timestamp, each member stored instead of deflated when deflate does not make it smaller.
// Reading (of untrusted input, and of our own output in the second check) stays with libzip.
//
// Each member is compressed as it is added, into a pooled scratch buffer and from there onto
// the archive, so the caller can reuse its buffer at once and no member is held twice.
void ZipWriter::add(std::string_view name, std::string_view data) {
  if (failed_) return;
  if (central_.size() >= 0xFFFF || name.size() > 0xFFFF || data.size() >= 0xFFFFFFFFu ||
      archive_.size() >= 0xFFFFFFFFu) {
    failed_ = true;
    return;
  }
  if (compressor_ == nullptr) compressor_ = libdeflate_alloc_compressor(1);
  if (compressor_ == nullptr) {
    failed_ = true;
    return;
  }
  Central c{};
  c.name.assign(name);
  c.crc = libdeflate_crc32(0, data.data(), data.size());
  c.size = static_cast<uint32_t>(data.size());
  c.offset = static_cast<uint32_t>(archive_.size());
  size_t bound = libdeflate_deflate_compress_bound(compressor_, data.size());
  ScratchBuffer packed = ScratchBuffer::take(bound);
  size_t n = data.empty() ? 0 : libdeflate_deflate_compress(compressor_, data.data(), data.size(), packed.data(), bound);
  packed.resize(n);  // what was written: tells the pool how much of it is mapped
  bool deflated = n > 0 && n < data.size();
  c.method = deflated ? 8 : 0;
  c.compSize = static_cast<uint32_t>(deflated ? n : data.size());
  putLocalHeader(&archive_, c.name, c.crc, c.compSize, c.size, c.method);
  if (deflated) {
    archive_.append(packed.data(), n);
  } else {
    archive_.append(data);
  }
  central_.push_back(std::move(c));
}

bool ZipWriter::finish(std::string* out, std::string* reason) {
  out->clear();
  auto fail = [&]() {
    out->clear();
    *reason = "internal:zip-write";
    return false;
  };
  if (failed_ || archive_.size() >= 0xFFFFFFFFu) return fail();
  uint32_t centralStart = static_cast<uint32_t>(archive_.size());
  for (const Central& c : central_) putCentralHeader(&archive_, c.name, c.crc, c.compSize, c.size, c.method, c.offset);
  if (archive_.size() >= 0xFFFFFFFFu) return fail();
  uint32_t centralSize = static_cast<uint32_t>(archive_.size()) - centralStart;
  put32(&archive_, 0x06054b50);
  put16(&archive_, 0);  // this disk
  put16(&archive_, 0);  // disk with the central directory
  put16(&archive_, static_cast<uint16_t>(central_.size()));
  put16(&archive_, static_cast<uint16_t>(central_.size()));
  put32(&archive_, centralSize);
  put32(&archive_, centralStart);
  put16(&archive_, 0);  // comment length
  *out = std::move(archive_);
  archive_.clear();
  central_.clear();
  return true;
}

}  // namespace lbg::sanitizer
