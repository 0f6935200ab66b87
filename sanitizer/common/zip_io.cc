#include "sanitizer/common/zip_io.h"

#include <zip.h>

#include <cstring>

#include "sanitizer/common/archive_rules.h"

namespace lbg::sanitizer {
namespace {

// Fixed timestamp (1980-01-01, the DOS epoch) so that the same input always rebuilds to the same
// bytes and the output hash in the report is reproducible.
constexpr time_t kFixedMtime = 315532800;

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
  zip_file_t* file = zip_fopen_index(archive_, entry.index, 0);
  if (file == nullptr) {
    int code = zip_error_code_zip(zip_get_error(archive_));
    *reason = (code == ZIP_ER_NOPASSWD || code == ZIP_ER_WRONGPASSWD || code == ZIP_ER_ENCRNOTSUPP)
                  ? "encrypted"
                  : "parse-error";
    return false;
  }
  // The declared size is untrusted: never read more than it says (plus one byte to notice a lie).
  out->reserve(std::min<uint64_t>(entry.size, 16u << 20));
  char buffer[64 * 1024];
  bool ok = true;
  for (;;) {
    zip_int64_t n = zip_fread(file, buffer, sizeof(buffer));
    if (n < 0) {
      *reason = "parse-error";
      ok = false;
      break;
    }
    if (n == 0) break;
    out->append(buffer, static_cast<size_t>(n));
    expanded_ += static_cast<uint64_t>(n);
    if (out->size() > entry.size) {
      *reason = "parse-error";
      ok = false;
      break;
    }
    if (expanded_ > limits_.maxExpandedBytes) {
      *reason = "limit:expanded-size";
      ok = false;
      break;
    }
  }
  zip_fclose(file);
  if (ok && out->size() != entry.size) {
    *reason = "parse-error";
    ok = false;
  }
  if (!ok) out->clear();
  return ok;
}

void ZipWriter::add(std::string name, std::string data) {
  members_.emplace_back(std::move(name), std::move(data));
}

bool ZipWriter::finish(std::string* out, std::string* reason) {
  out->clear();
  if (members_.empty()) {
    // libzip writes nothing for an empty archive; an empty ZIP is just the end record.
    static const char kEmpty[22] = {'P', 'K', 5, 6};
    out->assign(kEmpty, sizeof(kEmpty));
    return true;
  }
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* sink = zip_source_buffer_create(nullptr, 0, 0, &error);
  if (sink == nullptr) {
    zip_error_fini(&error);
    *reason = "internal:zip-write";
    return false;
  }
  zip_source_keep(sink);  // we read the bytes back after zip_close()
  zip_t* archive = zip_open_from_source(sink, ZIP_TRUNCATE, &error);
  zip_error_fini(&error);
  if (archive == nullptr) {
    zip_source_free(sink);
    zip_source_free(sink);
    *reason = "internal:zip-write";
    return false;
  }
  bool ok = true;
  for (const auto& [name, data] : members_) {
    zip_source_t* src = zip_source_buffer(archive, data.data(), data.size(), 0);
    if (src == nullptr) {
      ok = false;
      break;
    }
    zip_int64_t index = zip_file_add(archive, name.c_str(), src, ZIP_FL_ENC_UTF_8);
    if (index < 0) {
      zip_source_free(src);
      ok = false;
      break;
    }
    // Level 1: on a gateway the CPU per file matters more than a few percent of output size.
    zip_set_file_compression(archive, static_cast<zip_uint64_t>(index), ZIP_CM_DEFLATE, 1);
    zip_file_set_mtime(archive, static_cast<zip_uint64_t>(index), kFixedMtime, 0);
  }
  if (!ok) {
    zip_discard(archive);
    zip_source_free(sink);
    *reason = "internal:zip-write";
    return false;
  }
  if (zip_close(archive) != 0) {
    zip_discard(archive);
    zip_source_free(sink);
    *reason = "internal:zip-write";
    return false;
  }
  if (zip_source_open(sink) != 0) {
    zip_source_free(sink);
    *reason = "internal:zip-write";
    return false;
  }
  zip_source_seek(sink, 0, SEEK_END);
  zip_int64_t size = zip_source_tell(sink);
  zip_source_seek(sink, 0, SEEK_SET);
  if (size > 0) {
    out->resize(static_cast<size_t>(size));
    zip_int64_t got = zip_source_read(sink, out->data(), static_cast<zip_uint64_t>(size));
    if (got != size) ok = false;
  }
  zip_source_close(sink);
  zip_source_free(sink);
  if (!ok) {
    out->clear();
    *reason = "internal:zip-write";
  }
  return ok;
}

}  // namespace lbg::sanitizer
