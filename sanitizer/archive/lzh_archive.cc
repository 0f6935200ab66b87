#include "sanitizer/archive/lzh_archive.h"

#include <iconv.h>
#include <lhasa.h>

#include <array>
#include <cstring>
#include <memory>
#include <set>

#include "sanitizer/common/archive_rules.h"
#include "sanitizer/common/zip_io.h"

namespace lbg::sanitizer::archive {
namespace {

// lhasa pulls bytes through this stream; `consumed` is not used for accounting (lhasa may read
// ahead), only to serve reads.
struct MemoryStream {
  std::string_view bytes;
  size_t pos = 0;
};

int streamRead(void* handle, void* buffer, size_t length) {
  auto* s = static_cast<MemoryStream*>(handle);
  size_t n = std::min(length, s->bytes.size() - s->pos);
  std::memcpy(buffer, s->bytes.data() + s->pos, n);
  s->pos += n;
  return static_cast<int>(n);
}

int streamSkip(void* handle, size_t length) {
  auto* s = static_cast<MemoryStream*>(handle);
  if (length > s->bytes.size() - s->pos) return 0;
  s->pos += length;
  return 1;
}

void streamClose(void*) {}

const LHAInputStreamType kStreamType = {streamRead, streamSkip, streamClose};

bool methodAllowed(std::string_view m) {
  static const char* kMethods[] = {"-lh0-", "-lh1-", "-lh4-", "-lh5-", "-lh6-", "-lh7-", "-lz4-", "-lz5-", "-lzs-"};
  for (const char* k : kMethods) {
    if (m == k) return true;
  }
  return false;
}

// CRC-16/ARC (reflected 0x8005, initial 0): the checksum LHA stores for each member.
uint16_t crc16(std::string_view data) {
  static const auto table = [] {
    std::array<uint16_t, 256> t{};
    for (unsigned i = 0; i < 256; ++i) {
      uint16_t c = static_cast<uint16_t>(i);
      for (int k = 0; k < 8; ++k) c = (c & 1) ? static_cast<uint16_t>((c >> 1) ^ 0xA001) : static_cast<uint16_t>(c >> 1);
      t[i] = c;
    }
    return t;
  }();
  uint16_t crc = 0;
  for (unsigned char b : data) crc = static_cast<uint16_t>((crc >> 8) ^ table[(crc ^ b) & 0xFF]);
  return crc;
}

bool validUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (len == 0 || i + len > s.size()) return false;
    for (size_t k = 1; k < len; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    i += len;
  }
  return true;
}

// UTF-8 as is; otherwise Shift_JIS (CP932) converted; "" when it is neither.
std::string toUtf8Name(const std::string& raw) {
  if (validUtf8(raw)) return raw;
  iconv_t cd = iconv_open("UTF-8", "CP932");
  if (cd == reinterpret_cast<iconv_t>(-1)) return "";
  std::string in = raw, out(raw.size() * 4 + 4, '\0');
  char* inPtr = in.data();
  char* outPtr = out.data();
  size_t inLeft = in.size(), outLeft = out.size();
  size_t rc = iconv(cd, &inPtr, &inLeft, &outPtr, &outLeft);
  iconv_close(cd);
  if (rc == static_cast<size_t>(-1) || inLeft != 0) return "";
  out.resize(out.size() - outLeft);
  return out;
}

bool propagates(const std::string& reason) {
  return reason.rfind("limit:", 0) == 0 || reason == "encrypted" || reason == "internal-error";
}

struct ReaderDeleter {
  void operator()(LHAReader* r) const { lha_reader_free(r); }
};
struct StreamDeleter {
  void operator()(LHAInputStream* s) const { lha_input_stream_free(s); }
};

}  // namespace

FormatResult sanitizeLzh(std::string_view bytes, const FormatLimits& limits, const MemberSanitizer& member) {
  MemoryStream memory{bytes, 0};
  std::unique_ptr<LHAInputStream, StreamDeleter> stream(lha_input_stream_new(&kStreamType, &memory));
  if (!stream) return FormatResult::fail("internal:lzh");
  std::unique_ptr<LHAReader, ReaderDeleter> reader(lha_reader_new(stream.get()));
  if (!reader) return FormatResult::fail("internal:lzh");
  lha_reader_set_dir_policy(reader.get(), LHA_READER_DIR_PLAIN);

  FormatResult result;
  ZipWriter writer;
  std::set<std::string> names;
  size_t written = 0;
  uint64_t consumed = 0, expanded = 0, headers = 0;
  while (LHAFileHeader* header = lha_reader_next_file(reader.get())) {
    if (limits.expired()) return FormatResult::fail("limit:timeout");
    if (++headers > limits.maxArchiveMembers) return FormatResult::fail("limit:archive-members");
    consumed += header->raw_data_len + header->compressed_length;
    std::string method(header->compress_method);
    if (method == "-lhd-") {
      if (header->symlink_target != nullptr) addRemoved(result.removed, "symlink", header->path ? header->path : "");
      continue;  // directories are implied by member paths
    }
    if (!methodAllowed(method)) return FormatResult::fail("unsupported:lzh-method");
    std::string raw = std::string(header->path ? header->path : "") + (header->filename ? header->filename : "");
    std::string name = toUtf8Name(raw);
    if (name.empty()) name = "member-" + std::to_string(headers);
    if (!safeMemberName(name)) return FormatResult::fail("unsafe-path");
    if (header->length > limits.maxExpandedBytes - std::min(expanded, limits.maxExpandedBytes)) {
      return FormatResult::fail("limit:expanded-size");
    }
    if (ratioExceeded(header->length, header->compressed_length, limits.maxCompressionRatio)) {
      return FormatResult::fail("limit:lzh-ratio");
    }
    // The declared length is untrusted: read at most that much plus one byte to notice a lie.
    std::string data;
    data.reserve(std::min<size_t>(header->length, 16u << 20));
    char buffer[64 * 1024];
    for (;;) {
      size_t want = std::min(sizeof buffer, header->length + 1 - data.size());
      size_t n = lha_reader_read(reader.get(), buffer, want);
      if (n == 0) break;
      data.append(buffer, n);
      if (data.size() > header->length) return FormatResult::fail("parse-error");
      if (limits.expired()) return FormatResult::fail("limit:timeout");
    }
    if (data.size() != header->length || crc16(data) != header->crc) return FormatResult::fail("parse-error");
    expanded += data.size();
    MemberOutcome outcome = member(data, name);
    for (auto& item : outcome.removed) addRemoved(result.removed, item.kind, name + "/" + item.location, item.count);
    if (!outcome.ok) {
      if (propagates(outcome.reason)) return FormatResult::fail(outcome.reason);
      addRemoved(result.removed, "blocked-member:" + outcome.reason, name);
      continue;
    }
    if (!names.insert(outcome.outputName).second) {
      addRemoved(result.removed, "duplicate-member", name);
      continue;
    }
    writer.add(outcome.outputName, std::move(outcome.output));
    ++written;
  }
  // lhasa stops at the end marker (a zero byte) or at anything it cannot read: only the first is an
  // archive we understood completely. Anything else after the members is garbage or a second file.
  uint64_t left = bytes.size() >= consumed ? bytes.size() - consumed : 0;
  if (bytes.size() < consumed || left > 1 || (left == 1 && bytes.back() != '\0')) {
    return FormatResult::fail("parse-error");
  }
  if (headers == 0) return FormatResult::fail("parse-error");
  if (written == 0) return FormatResult::fail("no-content-left");
  std::string reason;
  if (!writer.finish(&result.output, &reason)) return FormatResult::fail(reason);
  addRemoved(result.removed, "archive-format", "lzh rewritten as zip");
  result.ok = true;
  result.outputType = "zip";
  return result;
}

}  // namespace lbg::sanitizer::archive
