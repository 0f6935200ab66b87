// GIF through giflib's low-level record API (not DGifSlurp, which would hold every frame of an
// animation in memory): the first image is composed onto a transparent canvas of the logical
// screen size; extensions (comments, application blocks such as NETSCAPE loops, XMP) are read and
// discarded; later frames are not decoded. A GIF is a picture here, not an animation.

#include <gif_lib.h>

#include <cstring>

#include "sanitizer/image/raster.h"

namespace lbg::sanitizer::image {
namespace {

struct Reader {
  std::string_view bytes;
  size_t pos = 0;
};

int readFromMemory(GifFileType* gif, GifByteType* buffer, int length) {
  auto* r = static_cast<Reader*>(gif->UserData);
  if (length <= 0) return 0;
  size_t n = std::min<size_t>(static_cast<size_t>(length), r->bytes.size() - r->pos);
  std::memcpy(buffer, r->bytes.data() + r->pos, n);
  r->pos += n;
  return static_cast<int>(n);
}

struct GifCloser {
  GifFileType* gif;
  ~GifCloser() {
    int error = 0;
    if (gif != nullptr) DGifCloseFile(gif, &error);
  }
};

// Skips the remaining sub-blocks of an extension. False on a read error.
bool skipExtension(GifFileType* gif, GifByteType* block) {
  while (block != nullptr) {
    if (DGifGetExtensionNext(gif, &block) != GIF_OK) return false;
  }
  return true;
}

// Reads the frame at the current image descriptor onto the canvas.
DecodeError drawFrame(GifFileType* gif, int transparent, uint32_t maxPixels, Raster* out) {
  const GifImageDesc& desc = gif->Image;
  if (desc.Width <= 0 || desc.Height <= 0 || desc.Left < 0 || desc.Top < 0) return "parse-error";
  if (!pixelsWithin(static_cast<uint64_t>(desc.Width), static_cast<uint64_t>(desc.Height), maxPixels)) {
    return "limit:image-pixels";
  }
  const ColorMapObject* map = desc.ColorMap != nullptr ? desc.ColorMap : gif->SColorMap;
  if (map == nullptr || map->Colors == nullptr || map->ColorCount <= 0) return "parse-error";
  std::vector<GifPixelType> line(static_cast<size_t>(desc.Width));
  // Interlaced rows arrive in four passes: every 8th from 0, every 8th from 4, every 4th from 2,
  // every 2nd from 1.
  static const int kStart[] = {0, 4, 2, 1};
  static const int kStep[] = {8, 8, 4, 2};
  int passes = desc.Interlace ? 4 : 1;
  for (int pass = 0; pass < passes; ++pass) {
    int start = desc.Interlace ? kStart[pass] : 0;
    int step = desc.Interlace ? kStep[pass] : 1;
    for (int row = start; row < desc.Height; row += step) {
      if (DGifGetLine(gif, line.data(), desc.Width) != GIF_OK) return "parse-error";
      uint64_t y = static_cast<uint64_t>(desc.Top) + static_cast<uint64_t>(row);
      if (y >= out->height) continue;  // outside the logical screen: not shown by viewers either
      for (int col = 0; col < desc.Width; ++col) {
        uint64_t x = static_cast<uint64_t>(desc.Left) + static_cast<uint64_t>(col);
        int index = line[static_cast<size_t>(col)];
        // An index past the palette is left transparent rather than read out of bounds.
        if (x >= out->width || index == transparent || index >= map->ColorCount) continue;
        uint8_t* px = &out->rgba[(y * out->width + x) * 4];
        const GifColorType& c = map->Colors[index];
        px[0] = c.Red;
        px[1] = c.Green;
        px[2] = c.Blue;
        px[3] = 255;
      }
    }
  }
  return "";
}

}  // namespace

DecodeError decodeGif(std::string_view bytes, uint32_t maxPixels, Raster* out, bool* droppedFrames) {
  *droppedFrames = false;
  Reader reader{bytes, 0};
  int error = 0;
  GifCloser closer{DGifOpen(&reader, readFromMemory, &error)};
  GifFileType* gif = closer.gif;
  if (gif == nullptr) return "parse-error";
  if (!pixelsWithin(static_cast<uint64_t>(std::max(gif->SWidth, 0)), static_cast<uint64_t>(std::max(gif->SHeight, 0)),
                    maxPixels)) {
    return gif->SWidth <= 0 || gif->SHeight <= 0 ? "parse-error" : "limit:image-pixels";
  }
  out->width = static_cast<uint32_t>(gif->SWidth);
  out->height = static_cast<uint32_t>(gif->SHeight);
  out->rgba.assign(static_cast<size_t>(out->width) * out->height * 4, 0);
  int transparent = -1;
  bool drawn = false;
  for (;;) {
    GifRecordType type;
    if (DGifGetRecordType(gif, &type) != GIF_OK) return drawn ? "" : "parse-error";
    if (type == TERMINATE_RECORD_TYPE) return drawn ? "" : "parse-error";
    if (type == EXTENSION_RECORD_TYPE) {
      int code = 0;
      GifByteType* block = nullptr;
      if (DGifGetExtension(gif, &code, &block) != GIF_OK) return drawn ? "" : "parse-error";
      // Graphic control extension: block[0] is its length (4), bit 0 of block[1] flags a
      // transparent colour whose index is block[4].
      if (code == GRAPHICS_EXT_FUNC_CODE && block != nullptr && block[0] >= 4) {
        transparent = (block[1] & 1) ? block[4] : -1;
      }
      if (!skipExtension(gif, block)) return drawn ? "" : "parse-error";
      continue;
    }
    if (type != IMAGE_DESC_RECORD_TYPE) return drawn ? "" : "parse-error";
    if (drawn) {
      *droppedFrames = true;  // an animation: only the first frame is kept
      return "";
    }
    if (DGifGetImageDesc(gif) != GIF_OK) return "parse-error";
    DecodeError why = drawFrame(gif, transparent, maxPixels, out);
    if (!why.empty()) return why;
    drawn = true;
  }
}

}  // namespace lbg::sanitizer::image
