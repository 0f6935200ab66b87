#include "dataplane/ids/body_decoder.h"

#include <zlib.h>

#include <cstring>
#include <vector>

namespace lbg::ids {

namespace {

// zlib's inflate state (about 7 KB) and its 32 KB window, with room to spare.
constexpr size_t kArena = 64 * 1024;

struct Arena {
  std::vector<uint8_t> bytes = std::vector<uint8_t>(kArena);
  size_t used = 0;
};

voidpf arenaAlloc(voidpf opaque, uInt items, uInt size) {
  auto* a = static_cast<Arena*>(opaque);
  const size_t n = (size_t(items) * size + 63) & ~size_t(63);
  if (n > a->bytes.size() - a->used) return Z_NULL;
  void* p = a->bytes.data() + a->used;
  a->used += n;
  return p;
}

void arenaFree(voidpf, voidpf) {}  // the whole arena is reset before the next body

// RFC 1950's header: CM 8, CINFO ≤ 7 (window ≤ 32 KB), FCHECK. Anything else is raw deflate
// (RFC 1951), which many servers send as "deflate".
bool zlibHeader(std::span<const uint8_t> in) {
  return in.size() >= 2 && (in[0] & 0x0f) == 8 && (in[0] >> 4) <= 7 &&
         ((unsigned(in[0]) << 8) | in[1]) % 31 == 0;
}

}  // namespace

struct BodyDecoder::Layer {
  explicit Layer(uint32_t limit) : out(limit) {}
  Arena arena;
  std::vector<uint8_t> out;
};

BodyDecoder::BodyDecoder(uint32_t limit) : limit_(limit) {
  for (auto& l : layers_) l = std::make_unique<Layer>(limit);
}

BodyDecoder::~BodyDecoder() = default;

bool BodyDecoder::undo(Layer& layer, HttpResponseState::Coding coding,
                       std::span<const uint8_t> in, size_t& produced) {
  produced = 0;
  layer.arena.used = 0;
  z_stream z{};
  z.zalloc = arenaAlloc;
  z.zfree = arenaFree;
  z.opaque = &layer.arena;
  // gzip: 32 + 15 takes a gzip or a zlib header (servers mislabel; a lenient client decodes
  // either, so the IDS reads both).
  const bool gzip = coding == HttpResponseState::Coding::Gzip;
  const int windowBits = gzip ? 32 + MAX_WBITS : zlibHeader(in) ? MAX_WBITS : -MAX_WBITS;
  if (inflateInit2(&z, windowBits) != Z_OK) return false;
  z.next_in = const_cast<Bytef*>(in.data());
  z.avail_in = uInt(in.size());
  z.next_out = layer.out.data();
  z.avail_out = uInt(layer.out.size());
  bool ok = true;
  while (z.avail_out > 0 && z.avail_in > 0) {
    const int rc = inflate(&z, Z_NO_FLUSH);
    if (rc == Z_STREAM_END) {
      // Another gzip member may follow (RFC 1952 2.2; browsers and curl decode them all). Other
      // bytes after the end are ignored by clients, as here.
      if (gzip && z.avail_in >= 2 && z.next_in[0] == 0x1f && z.next_in[1] == 0x8b) {
        if (inflateReset(&z) != Z_OK) {
          ok = false;
          break;
        }
        continue;
      }
      break;
    }
    if (rc == Z_BUF_ERROR) break;  // no progress possible: the input ended inside the stream
    if (rc != Z_OK) {               // Z_DATA_ERROR, Z_NEED_DICT, Z_MEM_ERROR, Z_STREAM_ERROR
      ok = false;
      break;
    }
  }
  produced = layer.out.size() - z.avail_out;
  inflateEnd(&z);
  return ok;
}

BodyDecoder::Result BodyDecoder::decode(std::span<const HttpResponseState::Coding> codings,
                                        std::span<const uint8_t> coded) {
  if (codings.empty() || codings.size() > HttpResponseState::kMaxCodings) return {};
  std::span<const uint8_t> in = coded;
  size_t layer = 0;
  for (size_t i = codings.size(); i-- > 0; ++layer) {
    size_t produced = 0;
    if (!undo(*layers_[layer], codings[i], in, produced)) return {};
    in = {layers_[layer]->out.data(), produced};
  }
  return {true, in};
}

}  // namespace lbg::ids
