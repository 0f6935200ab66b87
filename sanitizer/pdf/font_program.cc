#include "sanitizer/pdf/font_program.h"

#include <ft2build.h>
#include FT_FREETYPE_H

namespace lbg::sanitizer::pdf {

bool fontProgramLoads(std::string_view program, const FormatLimits& limits) {
  if (program.empty() || program.size() > (64u << 20)) return false;
  FT_Library library = nullptr;
  if (FT_Init_FreeType(&library) != 0) return false;
  bool ok = false;
  FT_Face face = nullptr;
  if (FT_New_Memory_Face(library, reinterpret_cast<const FT_Byte*>(program.data()),
                         static_cast<FT_Long>(program.size()), 0, &face) == 0) {
    ok = face->num_faces == 1 && face->num_glyphs > 0 && face->num_glyphs <= kMaxCheckedGlyphs;
    // Loading each outline runs the charstring / glyf parser over every glyph, which is where a
    // crafted font breaks a reader; hinting stays off (the bytecode interpreter is not our reader's).
    for (FT_Long g = 0; ok && g < face->num_glyphs; ++g) {
      if ((g & 1023) == 1023 && limits.expired()) ok = false;
      if (ok && FT_Load_Glyph(face, static_cast<FT_UInt>(g), FT_LOAD_NO_SCALE | FT_LOAD_NO_HINTING) != 0) ok = false;
    }
    FT_Done_Face(face);
  }
  FT_Done_FreeType(library);
  return ok;
}

}  // namespace lbg::sanitizer::pdf
