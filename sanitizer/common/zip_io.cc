#include "sanitizer/common/zip_io.h"

#include <libdeflate.h>
#include <zip.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "sanitizer/common/archive_rules.h"

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
  if (entry.deflated && !entry.encrypted) return readDeflated(entry, out, reason);
  zip_file_t* file = zip_fopen_index(archive_, entry.index, 0);
  if (file == nullptr) {
    int code = zip_error_code_zip(zip_get_error(archive_));
    *reason = (code == ZIP_ER_NOPASSWD || code == ZIP_ER_WRONGPASSWD || code == ZIP_ER_ENCRNOTSUPP)
                  ? "encrypted"
                  : "parse-error";
    return false;
  }
  // The declared size is untrusted: never read more than it says (plus one byte to notice a lie).
  // It is within the expansion budget (checked above), so the buffer is sized once and libzip
  // inflates straight into it: no growth, no copy through a bounce buffer.
  bool ok = true;
  out->resize(entry.size + 1);
  uint64_t got = 0;
  for (;;) {
    zip_int64_t n = zip_fread(file, out->data() + got, out->size() - got);
    if (n < 0) {
      *reason = "parse-error";
      ok = false;
      break;
    }
    if (n == 0) break;
    got += static_cast<uint64_t>(n);
    if (got > entry.size) {
      *reason = "parse-error";
      ok = false;
      break;
    }
  }
  expanded_ += got;
  if (ok && expanded_ > limits_.maxExpandedBytes) {
    *reason = "limit:expanded-size";
    ok = false;
  }
  out->resize(std::min<uint64_t>(got, entry.size));
  zip_fclose(file);
  if (ok && got != entry.size) {
    *reason = "parse-error";
    ok = false;
  }
  if (!ok) out->clear();
  return ok;
}

// Deflated members: the raw stream is read from libzip and inflated by libdeflate (about twice
// zlib's speed; inflate was the largest cost of the OOXML rebuild and of its second check). The
// output buffer is the declared size: a stream that would produce more fails with
// INSUFFICIENT_SPACE, one that produces less or another CRC is a parse error.
bool ZipReader::readDeflated(const ZipEntry& entry, std::string* out, std::string* reason) {
  zip_file_t* file = zip_fopen_index(archive_, entry.index, ZIP_FL_COMPRESSED);
  if (file == nullptr) {
    *reason = "parse-error";
    return false;
  }
  std::unique_ptr<char[]> packed(new char[entry.compSize == 0 ? 1 : entry.compSize]);
  uint64_t got = 0;
  bool ok = true;
  while (got < entry.compSize) {
    zip_int64_t n = zip_fread(file, packed.get() + got, entry.compSize - got);
    if (n <= 0) {
      ok = false;
      break;
    }
    got += static_cast<uint64_t>(n);
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
  out->resize(entry.size);
  size_t produced = 0;
  libdeflate_result r = libdeflate_deflate_decompress(inflater_, packed.get(), entry.compSize, out->data(), out->size(),
                                                      &produced);
  expanded_ += produced;
  if (r != LIBDEFLATE_SUCCESS || produced != entry.size ||
      libdeflate_crc32(0, out->data(), out->size()) != entry.crc) {
    out->clear();
    *reason = "parse-error";
    return false;
  }
  if (expanded_ > limits_.maxExpandedBytes) {
    out->clear();
    *reason = "limit:expanded-size";
    return false;
  }
  return true;
}

void ZipWriter::add(std::string name, std::string data) {
  members_.emplace_back(std::move(name), std::move(data));
}

// The archive is written here rather than through libzip: libdeflate compresses a whole buffer
// at level 1 several times faster than zlib, and building the records directly avoids libzip's
// extra copies. This was the largest cost of an OOXML rebuild. What we write is deliberately
// plain: no ZIP64 (outputs are bounded far below 4 GB), no extra fields, UTF-8 names, a fixed
// timestamp, each member stored instead of deflated when deflate does not make it smaller.
// Reading (of untrusted input, and of our own output in the second check) stays with libzip.
bool ZipWriter::finish(std::string* out, std::string* reason) {
  out->clear();
  auto fail = [&]() {
    out->clear();
    *reason = "internal:zip-write";
    return false;
  };
  if (members_.size() > 0xFFFF) return fail();
  libdeflate_compressor* compressor = libdeflate_alloc_compressor(1);
  if (compressor == nullptr) return fail();
  struct Central {
    uint32_t crc, compSize, size, offset;
    uint16_t method;
  };
  std::vector<Central> central;
  central.reserve(members_.size());
  // One uninitialised buffer for the largest member's bound (std::string::resize would zero it for
  // every member), and the archive reserved once: no regrowth copies of a 10 MB output.
  size_t maxBound = 0, total = 22;
  for (const auto& [name, data] : members_) {
    maxBound = std::max(maxBound, libdeflate_deflate_compress_bound(compressor, data.size()));
    total += 30 + 46 + 2 * name.size() + data.size();
  }
  std::unique_ptr<char[]> packed(new char[maxBound == 0 ? 1 : maxBound]);
  out->reserve(total);
  bool ok = true;
  for (const auto& [name, data] : members_) {
    if (name.size() > 0xFFFF || data.size() >= 0xFFFFFFFFu || out->size() >= 0xFFFFFFFFu) {
      ok = false;
      break;
    }
    Central c{};
    c.crc = libdeflate_crc32(0, data.data(), data.size());
    c.size = static_cast<uint32_t>(data.size());
    c.offset = static_cast<uint32_t>(out->size());
    size_t n = data.empty() ? 0 : libdeflate_deflate_compress(compressor, data.data(), data.size(), packed.get(), maxBound);
    bool deflated = n > 0 && n < data.size();
    c.method = deflated ? 8 : 0;
    c.compSize = static_cast<uint32_t>(deflated ? n : data.size());
    putLocalHeader(out, name, c.crc, c.compSize, c.size, c.method);
    if (deflated) {
      out->append(packed.get(), n);
    } else {
      out->append(data);
    }
    central.push_back(c);
  }
  libdeflate_free_compressor(compressor);
  if (!ok || out->size() >= 0xFFFFFFFFu) return fail();
  uint32_t centralStart = static_cast<uint32_t>(out->size());
  for (size_t i = 0; i < members_.size(); ++i) {
    const Central& c = central[i];
    putCentralHeader(out, members_[i].first, c.crc, c.compSize, c.size, c.method, c.offset);
  }
  if (out->size() >= 0xFFFFFFFFu) return fail();
  uint32_t centralSize = static_cast<uint32_t>(out->size()) - centralStart;
  put32(out, 0x06054b50);
  put16(out, 0);  // this disk
  put16(out, 0);  // disk with the central directory
  put16(out, static_cast<uint16_t>(members_.size()));
  put16(out, static_cast<uint16_t>(members_.size()));
  put32(out, centralSize);
  put32(out, centralStart);
  put16(out, 0);  // comment length
  return true;
}

}  // namespace lbg::sanitizer
