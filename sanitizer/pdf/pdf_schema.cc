#include "sanitizer/pdf/pdf_schema.h"

#include <qpdf/Pipeline.hh>
#include <qpdf/QPDFObjectHandle.hh>

#include <cstring>
#include <map>
#include <set>
#include <stdexcept>
#include <utility>

#include "sanitizer/pdf/capped_sink.h"
#include "sanitizer/pdf/tounicode_cmap.h"

namespace lbg::sanitizer::pdf {
namespace {

// Arrays longer than this are not metrics, paths or trees a document needs (a CID font's /W of
// 65536 glyphs stays under it); direct dictionaries nest at most this deep.
constexpr int kMaxArray = 1 << 17;
constexpr int kMaxDirectDepth = 32;

enum class Kind : uint8_t {
  Annotation,
  Field,  // a field dictionary, or a widget annotation merged with its field
  Appearance,
  AppearanceStates,
  FormXObject,
  Group,
  MK,
  BorderStyle,
  BorderEffect,
  Action,
  Outline,  // the outline root or an item, told apart by /Title
  Font,
  FontDescriptor,
  Encoding,
  CIDSystemInfo,
  AcroForm,
  NamesDict,
  DestTree,
  DestDict,
  OCProperties,
  OCConfig,
  OC,  // an optional-content group or membership dictionary
  Struct,  // the structure tree root, an element, or a marked-content / object reference
  ParentTree,
  RoleMap,
  Attribute,
  CharProcs,
  Resources,
  FontMap,
  XObjectMap,
  GStateMap,
  ColourSpaceMap,
  PatternMap,
  ShadingMap,
  PropertiesMap,
  ExtGState,
  SoftMask,
  Properties,      // a marked-content property list: optional content, or plain values
  TilingPattern,   // stream; content filtered by the content pass
  ShadingPattern,
  Shading,         // types 1 to 3 (dictionaries)
  ShadingStream,   // types 4 to 7: data rewritten from its decoded bytes
  Function,        // types 2 and 3 (dictionaries)
  SampledFunction, // type 0: data rewritten from its decoded bytes
  LabelTree,
  PageLabel,
  ViewerPreferences,
  MarkInfo,
  Info,
  GlyphProc,       // stream; content filtered by the content pass
};

// Kinds that are streams; the last two get their data rewritten here.
bool streamKind(Kind k) {
  return k == Kind::FormXObject || k == Kind::GlyphProc || k == Kind::TilingPattern || k == Kind::ShadingStream || k == Kind::SampledFunction;
}
bool freshDataKind(Kind k) { return k == Kind::ShadingStream || k == Kind::SampledFunction; }

enum class V : uint8_t {
  Num,
  Int,
  Bool,
  Name,
  Str,
  Prim,          // number, name, string or boolean
  PrimOrNums,    // the same, or an array of numbers (layout attributes: /BBox, /Padding, ...)
  NumArr,
  Rect,
  NameOrNames,
  StrArr,
  Dest,
  DestOrD,       // a destination, or a dictionary holding it in /D
  DestOrAction,
  Ref,           // a dictionary (or stream) of `kind`, rebuilt under its own schema
  RefArr,
  RefOrRefArr,
  StreamKeep,    // stream data rebuilt by another pass (font programs)
  StreamKey,     // /Length, /Filter, /DecodeParms of a stream whose data another pass replaces
  Fresh,         // a stream rewritten here from its decoded bytes under an empty dictionary
  NameOrFresh,   // /CIDToGIDMap: /Identity or a fresh stream
  ToUnicode,
  NameOrRef,     // /Encoding: a name or an encoding dictionary
  CidWidths,
  Differences,
  DestNames,
  ParentNums,
  StructK,
  OCOrder,
  RBGroups,
  FieldValue,
  Opt,
  InkList,
  Border,
  Page,
  FormOrStates,  // /AP /N /R /D: one appearance stream, or a dictionary of them by state
  XObject,       // an image (rebuilt by the image pass) or a form XObject; nothing else
  ColourSpace,
  Pattern,
  Shading,
  Function,      // a function, or an array of functions (one per output)
  BoolArr,
  SoftMask,      // /None or a soft-mask dictionary
};

struct Entry {
  const char* key;  // "*": any key
  V value;
  Kind kind = Kind::Annotation;  // for V::Ref and friends
};

struct Schema {
  const char* report;  // "<report>-entry" for a dropped key
  std::vector<Entry> entries;
};

std::vector<Entry> join(std::initializer_list<std::vector<Entry>> parts) {
  std::vector<Entry> out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

bool isName(QPDFObjectHandle h, const char* name) { return h.isName() && h.getName() == name; }

std::string nameOf(QPDFObjectHandle h) { return h.isName() ? h.getName() : std::string(); }

// ---- the tables ----

const std::vector<Entry>& annotCommon() {
  static const std::vector<Entry> k = {
      {"/Type", V::Name},        {"/Subtype", V::Name},  {"/Rect", V::Rect},     {"/Contents", V::Str},
      {"/P", V::Page},           {"/NM", V::Str},        {"/M", V::Str},         {"/F", V::Int},
      {"/AP", V::Ref, Kind::Appearance},                 {"/AS", V::Name},       {"/Border", V::Border},
      {"/C", V::NumArr},         {"/StructParent", V::Int}, {"/OC", V::Ref, Kind::OC}};
  return k;
}

const std::vector<Entry>& markup() {
  static const std::vector<Entry> k = {
      {"/T", V::Str},      {"/Popup", V::Ref, Kind::Annotation}, {"/CA", V::Num},  {"/RC", V::Str},
      {"/CreationDate", V::Str}, {"/Subj", V::Str}, {"/IRT", V::Ref, Kind::Annotation}, {"/RT", V::Name},
      {"/IT", V::Name}};
  return k;
}

const std::vector<Entry>& fieldKeys() {
  static const std::vector<Entry> k = {
      {"/FT", V::Name},  {"/Parent", V::Ref, Kind::Field}, {"/Kids", V::RefArr, Kind::Field},
      {"/T", V::Str},    {"/TU", V::Str},  {"/TM", V::Str},  {"/Ff", V::Int},  {"/V", V::FieldValue},
      {"/DV", V::FieldValue}, {"/DA", V::Str}, {"/Q", V::Int}, {"/DS", V::Str}, {"/RV", V::Str},
      {"/Opt", V::Opt},  {"/TI", V::Int},  {"/I", V::NumArr}, {"/MaxLen", V::Int}};
  return k;
}

const Schema* annotationSchema(const std::string& subtype) {
  static const std::map<std::string, Schema> kBySubtype = [] {
    const std::vector<Entry> bs = {{"/BS", V::Ref, Kind::BorderStyle}};
    const std::vector<Entry> shape = {{"/BS", V::Ref, Kind::BorderStyle}, {"/IC", V::NumArr},
                                      {"/BE", V::Ref, Kind::BorderEffect}, {"/RD", V::NumArr}};
    std::map<std::string, Schema> m;
    m["/Link"] = {"annotation", join({annotCommon(), bs,
                                      {{"/A", V::Ref, Kind::Action}, {"/Dest", V::Dest}, {"/H", V::Name},
                                       {"/QuadPoints", V::NumArr}}})};
    m["/Widget"] = {"annotation", join({annotCommon(), bs, fieldKeys(),
                                        {{"/H", V::Name}, {"/MK", V::Ref, Kind::MK}, {"/A", V::Ref, Kind::Action}}})};
    m["/Text"] = {"annotation", join({annotCommon(), markup(),
                                      {{"/Open", V::Bool}, {"/Name", V::Name}, {"/State", V::Str},
                                       {"/StateModel", V::Str}}})};
    m["/Popup"] = {"annotation", join({annotCommon(), {{"/Parent", V::Ref, Kind::Annotation}, {"/Open", V::Bool}}})};
    m["/FreeText"] = {"annotation", join({annotCommon(), markup(), shape,
                                          {{"/DA", V::Str}, {"/Q", V::Int}, {"/DS", V::Str}, {"/CL", V::NumArr},
                                           {"/LE", V::Name}}})};
    m["/Line"] = {"annotation", join({annotCommon(), markup(), bs,
                                      {{"/L", V::NumArr}, {"/LE", V::NameOrNames}, {"/IC", V::NumArr},
                                       {"/LL", V::Num}, {"/LLE", V::Num}, {"/LLO", V::Num}, {"/Cap", V::Bool},
                                       {"/CP", V::Name}, {"/CO", V::NumArr}}})};
    m["/Square"] = {"annotation", join({annotCommon(), markup(), shape})};
    m["/Circle"] = m["/Square"];
    m["/Polygon"] = {"annotation", join({annotCommon(), markup(), shape,
                                         {{"/Vertices", V::NumArr}, {"/LE", V::NameOrNames}}})};
    m["/PolyLine"] = m["/Polygon"];
    for (const char* s : {"/Highlight", "/Underline", "/Squiggly", "/StrikeOut"}) {
      m[s] = {"annotation", join({annotCommon(), markup(), {{"/QuadPoints", V::NumArr}}})};
    }
    m["/Caret"] = {"annotation", join({annotCommon(), markup(), {{"/RD", V::NumArr}, {"/Sy", V::Name}}})};
    m["/Stamp"] = {"annotation", join({annotCommon(), markup(), {{"/Name", V::Name}}})};
    m["/Ink"] = {"annotation", join({annotCommon(), markup(), bs, {{"/InkList", V::InkList}}})};
    return m;
  }();
  auto it = kBySubtype.find(subtype);
  return it == kBySubtype.end() ? nullptr : &it->second;
}

const Schema* fontSchema(const std::string& subtype) {
  static const std::map<std::string, Schema> kBySubtype = [] {
    const std::vector<Entry> base = {{"/Type", V::Name}, {"/Subtype", V::Name}, {"/BaseFont", V::Name},
                                     {"/ToUnicode", V::ToUnicode}};
    const std::vector<Entry> simple = {{"/Name", V::Name}, {"/FirstChar", V::Int}, {"/LastChar", V::Int},
                                       {"/Widths", V::NumArr}, {"/FontDescriptor", V::Ref, Kind::FontDescriptor},
                                       {"/Encoding", V::NameOrRef, Kind::Encoding}};
    std::map<std::string, Schema> m;
    m["/Type1"] = {"font", join({base, simple})};
    m["/MMType1"] = m["/Type1"];
    m["/TrueType"] = m["/Type1"];
    // CharProcs are content streams: the content pass filters them with the font's resources.
    m["/Type3"] = {"font", join({base, simple,
                                 {{"/FontBBox", V::Rect}, {"/FontMatrix", V::NumArr}, {"/CharProcs", V::Ref, Kind::CharProcs},
                                  {"/Resources", V::Ref, Kind::Resources}}})};
    // An embedded CMap stream as /Encoding is not an encoding dictionary: dropped.
    m["/Type0"] = {"font", join({base, {{"/Encoding", V::NameOrRef, Kind::Encoding},
                                        {"/DescendantFonts", V::RefArr, Kind::Font}}})};
    m["/CIDFontType0"] = {"font", join({base, {{"/CIDSystemInfo", V::Ref, Kind::CIDSystemInfo},
                                               {"/FontDescriptor", V::Ref, Kind::FontDescriptor},
                                               {"/DW", V::Num}, {"/W", V::CidWidths}, {"/DW2", V::NumArr},
                                               {"/W2", V::CidWidths}, {"/CIDToGIDMap", V::NameOrFresh}}})};
    m["/CIDFontType2"] = m["/CIDFontType0"];
    return m;
  }();
  auto it = kBySubtype.find(subtype);
  return it == kBySubtype.end() ? nullptr : &it->second;
}

const Schema& fixedSchema(Kind kind) {
  static const std::map<Kind, Schema> kSchemas = {
      {Kind::Appearance, {"appearance", {{"/N", V::FormOrStates}, {"/R", V::FormOrStates}, {"/D", V::FormOrStates}}}},
      {Kind::AppearanceStates, {"appearance", {{"*", V::Ref, Kind::FormXObject}}}},
      {Kind::FormXObject, {"form-xobject", {{"/Type", V::Name}, {"/Subtype", V::Name}, {"/FormType", V::Int},
                                            {"/BBox", V::Rect}, {"/Matrix", V::NumArr}, {"/Resources", V::Ref, Kind::Resources},
                                            {"/Group", V::Ref, Kind::Group}, {"/OC", V::Ref, Kind::OC},
                                            {"/StructParent", V::Int}, {"/StructParents", V::Int},
                                            {"/Length", V::StreamKey}, {"/Filter", V::StreamKey},
                                            {"/DecodeParms", V::StreamKey}}}},
      {Kind::Group, {"group", {{"/Type", V::Name}, {"/S", V::Name}, {"/CS", V::Name}, {"/I", V::Bool}, {"/K", V::Bool}}}},
      {Kind::MK, {"appearance-characteristics", {{"/R", V::Int}, {"/BC", V::NumArr}, {"/BG", V::NumArr},
                                                 {"/CA", V::Str}, {"/RC", V::Str}, {"/AC", V::Str},
                                                 {"/I", V::Ref, Kind::FormXObject}, {"/RI", V::Ref, Kind::FormXObject},
                                                 {"/IX", V::Ref, Kind::FormXObject}, {"/TP", V::Int}}}},
      {Kind::BorderStyle, {"border-style", {{"/Type", V::Name}, {"/W", V::Num}, {"/S", V::Name}, {"/D", V::NumArr}}}},
      {Kind::BorderEffect, {"border-effect", {{"/S", V::Name}, {"/I", V::Num}}}},
      {Kind::FontDescriptor, {"font-descriptor", {{"/Type", V::Name}, {"/FontName", V::Name}, {"/FontFamily", V::Str},
                                                  {"/FontStretch", V::Name}, {"/FontWeight", V::Num}, {"/Flags", V::Int},
                                                  {"/FontBBox", V::Rect}, {"/ItalicAngle", V::Num}, {"/Ascent", V::Num},
                                                  {"/Descent", V::Num}, {"/Leading", V::Num}, {"/CapHeight", V::Num},
                                                  {"/XHeight", V::Num}, {"/StemV", V::Num}, {"/StemH", V::Num},
                                                  {"/AvgWidth", V::Num}, {"/MaxWidth", V::Num}, {"/MissingWidth", V::Num},
                                                  {"/FontFile", V::StreamKeep}, {"/FontFile2", V::StreamKeep},
                                                  {"/FontFile3", V::StreamKeep}, {"/CharSet", V::Str}, {"/Lang", V::Name},
                                                  {"/CIDSet", V::Fresh}}}},
      {Kind::Encoding, {"encoding", {{"/Type", V::Name}, {"/BaseEncoding", V::Name}, {"/Differences", V::Differences}}}},
      {Kind::CIDSystemInfo, {"cid-system-info", {{"/Registry", V::Str}, {"/Ordering", V::Str}, {"/Supplement", V::Int}}}},
      {Kind::AcroForm, {"acroform", {{"/Fields", V::RefArr, Kind::Field}, {"/NeedAppearances", V::Bool},
                                     {"/SigFlags", V::Int}, {"/CO", V::RefArr, Kind::Field}, {"/DR", V::Ref, Kind::Resources},
                                     {"/DA", V::Str}, {"/Q", V::Int}}}},
      {Kind::Field, {"form-field", fieldKeys()}},
      {Kind::NamesDict, {"names", {{"/Dests", V::Ref, Kind::DestTree}}}},
      {Kind::DestTree, {"dests", {{"/Kids", V::RefArr, Kind::DestTree}, {"/Names", V::DestNames}, {"/Limits", V::StrArr}}}},
      {Kind::DestDict, {"dests", {{"*", V::DestOrD}}}},
      {Kind::OCProperties, {"optional-content", {{"/OCGs", V::RefArr, Kind::OC}, {"/D", V::Ref, Kind::OCConfig},
                                                 {"/Configs", V::RefArr, Kind::OCConfig}}}},
      {Kind::OCConfig, {"optional-content", {{"/Name", V::Str}, {"/Creator", V::Str}, {"/BaseState", V::Name},
                                             {"/ON", V::RefArr, Kind::OC}, {"/OFF", V::RefArr, Kind::OC},
                                             {"/Intent", V::NameOrNames}, {"/Order", V::OCOrder}, {"/ListMode", V::Name},
                                             {"/RBGroups", V::RBGroups}, {"/Locked", V::RefArr, Kind::OC}}}},
      {Kind::LabelTree, {"page-labels", {{"/Kids", V::RefArr, Kind::LabelTree}, {"/Nums", V::ParentNums, Kind::PageLabel},
                                         {"/Limits", V::NumArr}}}},
      {Kind::PageLabel, {"page-labels", {{"/Type", V::Name}, {"/S", V::Name}, {"/P", V::Str}, {"/St", V::Int}}}},
      {Kind::ViewerPreferences, {"viewer-preferences", {{"/HideToolbar", V::Bool}, {"/HideMenubar", V::Bool},
                                                        {"/HideWindowUI", V::Bool}, {"/FitWindow", V::Bool},
                                                        {"/CenterWindow", V::Bool}, {"/DisplayDocTitle", V::Bool},
                                                        {"/NonFullScreenPageMode", V::Name}, {"/Direction", V::Name},
                                                        {"/ViewArea", V::Name}, {"/ViewClip", V::Name},
                                                        {"/PrintArea", V::Name}, {"/PrintClip", V::Name},
                                                        {"/PrintScaling", V::Name}, {"/Duplex", V::Name},
                                                        {"/PickTrayByPDFSize", V::Bool}, {"/PrintPageRange", V::NumArr},
                                                        {"/NumCopies", V::Int}, {"/Enforce", V::NameOrNames}}}},
      // The document information dictionary: the standard entries only (custom keys are private data,
      // as XMP metadata is).
      {Kind::Info, {"info", {{"/Title", V::Str}, {"/Author", V::Str}, {"/Subject", V::Str}, {"/Keywords", V::Str},
                             {"/Creator", V::Str}, {"/Producer", V::Str}, {"/CreationDate", V::Str},
                             {"/ModDate", V::Str}, {"/Trapped", V::Name}}}},
      {Kind::MarkInfo, {"mark-info", {{"/Marked", V::Bool}, {"/UserProperties", V::Bool}, {"/Suspects", V::Bool}}}},
      {Kind::ParentTree, {"structure", {{"/Kids", V::RefArr, Kind::ParentTree}, {"/Nums", V::ParentNums, Kind::Struct},
                                        {"/Limits", V::NumArr}}}},
      {Kind::RoleMap, {"structure", {{"*", V::Name}}}},
      {Kind::Attribute, {"structure", {{"*", V::PrimOrNums}}}},
      // Glyph procedures are content streams: the content pass filters them (pdf_content.h).
      {Kind::CharProcs, {"font", {{"*", V::Ref, Kind::GlyphProc}}}},
      {Kind::GlyphProc, {"font", {{"/Length", V::StreamKey}, {"/Filter", V::StreamKey}, {"/DecodeParms", V::StreamKey}}}},
      // Resource dictionaries: each category is a map of names to objects of one kind. Halftones,
      // transfer, black-generation and undercolour functions are device controls a screen reader
      // ignores: dropped with anything else unknown.
      {Kind::Resources, {"resources", {{"/Font", V::Ref, Kind::FontMap}, {"/XObject", V::Ref, Kind::XObjectMap},
                                       {"/ExtGState", V::Ref, Kind::GStateMap},
                                       {"/ColorSpace", V::Ref, Kind::ColourSpaceMap},
                                       {"/Pattern", V::Ref, Kind::PatternMap}, {"/Shading", V::Ref, Kind::ShadingMap},
                                       {"/Properties", V::Ref, Kind::PropertiesMap}, {"/ProcSet", V::NameOrNames}}}},
      {Kind::FontMap, {"font", {{"*", V::Ref, Kind::Font}}}},
      {Kind::XObjectMap, {"xobject", {{"*", V::XObject}}}},
      {Kind::GStateMap, {"graphics-state", {{"*", V::Ref, Kind::ExtGState}}}},
      {Kind::ColourSpaceMap, {"colour-space", {{"*", V::ColourSpace}}}},
      {Kind::PatternMap, {"pattern", {{"*", V::Pattern}}}},
      {Kind::ShadingMap, {"shading", {{"*", V::Shading}}}},
      {Kind::PropertiesMap, {"properties", {{"*", V::Ref, Kind::Properties}}}},
      {Kind::ExtGState, {"graphics-state", {{"/Type", V::Name}, {"/LW", V::Num}, {"/LC", V::Int}, {"/LJ", V::Int},
                                            {"/ML", V::Num}, {"/D", V::Border}, {"/RI", V::Name}, {"/OP", V::Bool},
                                            {"/op", V::Bool}, {"/OPM", V::Int}, {"/FL", V::Num}, {"/SM", V::Num},
                                            {"/SA", V::Bool}, {"/BM", V::NameOrNames}, {"/SMask", V::SoftMask},
                                            {"/CA", V::Num}, {"/ca", V::Num}, {"/AIS", V::Bool}, {"/TK", V::Bool}}}},
      {Kind::SoftMask, {"graphics-state", {{"/Type", V::Name}, {"/S", V::Name}, {"/G", V::Ref, Kind::FormXObject},
                                           {"/BC", V::NumArr}}}},
      {Kind::TilingPattern, {"pattern", {{"/Type", V::Name}, {"/PatternType", V::Int}, {"/PaintType", V::Int},
                                         {"/TilingType", V::Int}, {"/BBox", V::Rect}, {"/XStep", V::Num},
                                         {"/YStep", V::Num}, {"/Resources", V::Ref, Kind::Resources},
                                         {"/Matrix", V::NumArr}, {"/Length", V::StreamKey}, {"/Filter", V::StreamKey},
                                         {"/DecodeParms", V::StreamKey}}}},
      {Kind::ShadingPattern, {"pattern", {{"/Type", V::Name}, {"/PatternType", V::Int}, {"/Shading", V::Shading},
                                          {"/Matrix", V::NumArr}, {"/ExtGState", V::Ref, Kind::ExtGState}}}},
      {Kind::Shading, {"shading", {{"/ShadingType", V::Int}, {"/ColorSpace", V::ColourSpace}, {"/Background", V::NumArr},
                                   {"/BBox", V::Rect}, {"/AntiAlias", V::Bool}, {"/Domain", V::NumArr},
                                   {"/Coords", V::NumArr}, {"/Matrix", V::NumArr}, {"/Function", V::Function},
                                   {"/Extend", V::BoolArr}}}},
      {Kind::ShadingStream, {"shading", {{"/ShadingType", V::Int}, {"/ColorSpace", V::ColourSpace},
                                         {"/Background", V::NumArr}, {"/BBox", V::Rect}, {"/AntiAlias", V::Bool},
                                         {"/BitsPerCoordinate", V::Int}, {"/BitsPerComponent", V::Int},
                                         {"/BitsPerFlag", V::Int}, {"/Decode", V::NumArr}, {"/VerticesPerRow", V::Int},
                                         {"/Function", V::Function}, {"/Length", V::StreamKey},
                                         {"/Filter", V::StreamKey}, {"/DecodeParms", V::StreamKey}}}},
  };
  return kSchemas.at(kind);
}

const Schema& exponentialFunction() {
  static const Schema k = {"function", {{"/FunctionType", V::Int}, {"/Domain", V::NumArr}, {"/Range", V::NumArr},
                                        {"/C0", V::NumArr}, {"/C1", V::NumArr}, {"/N", V::Num}}};
  return k;
}
const Schema& stitchingFunction() {
  static const Schema k = {"function", {{"/FunctionType", V::Int}, {"/Domain", V::NumArr}, {"/Range", V::NumArr},
                                        {"/Functions", V::Function}, {"/Bounds", V::NumArr}, {"/Encode", V::NumArr}}};
  return k;
}
const Schema& sampledFunction() {
  static const Schema k = {"function", {{"/FunctionType", V::Int}, {"/Domain", V::NumArr}, {"/Range", V::NumArr},
                                        {"/Size", V::NumArr}, {"/BitsPerSample", V::Int}, {"/Order", V::Int},
                                        {"/Encode", V::NumArr}, {"/Decode", V::NumArr}, {"/Length", V::StreamKey},
                                        {"/Filter", V::StreamKey}, {"/DecodeParms", V::StreamKey}}};
  return k;
}
const Schema& propertyList() {
  static const Schema k = {"properties", {{"*", V::Prim}}};
  return k;
}

const Schema& gotoAction() {
  static const Schema k = {"action", {{"/Type", V::Name}, {"/S", V::Name}, {"/D", V::Dest}}};
  return k;
}
const Schema& namedAction() {
  static const Schema k = {"action", {{"/Type", V::Name}, {"/S", V::Name}, {"/N", V::Name}}};
  return k;
}
const Schema& outlineRoot() {
  static const Schema k = {"outline", {{"/Type", V::Name}, {"/First", V::Ref, Kind::Outline},
                                       {"/Last", V::Ref, Kind::Outline}, {"/Count", V::Int}}};
  return k;
}
const Schema& outlineItem() {
  static const Schema k = {"outline", {{"/Title", V::Str}, {"/Parent", V::Ref, Kind::Outline},
                                       {"/Prev", V::Ref, Kind::Outline}, {"/Next", V::Ref, Kind::Outline},
                                       {"/First", V::Ref, Kind::Outline}, {"/Last", V::Ref, Kind::Outline},
                                       {"/Count", V::Int}, {"/Dest", V::Dest}, {"/A", V::Ref, Kind::Action},
                                       {"/C", V::NumArr}, {"/F", V::Int}}};
  return k;
}
const Schema& ocGroup() {
  static const Schema k = {"optional-content", {{"/Type", V::Name}, {"/Name", V::Str}, {"/Intent", V::NameOrNames}}};
  return k;
}
const Schema& ocMembership() {
  static const Schema k = {"optional-content", {{"/Type", V::Name}, {"/OCGs", V::RefOrRefArr, Kind::OC}, {"/P", V::Name}}};
  return k;
}
const Schema& structRoot() {
  static const Schema k = {"structure", {{"/Type", V::Name}, {"/K", V::StructK}, {"/ParentTree", V::Ref, Kind::ParentTree},
                                         {"/ParentTreeNextKey", V::Int}, {"/RoleMap", V::Ref, Kind::RoleMap}}};
  return k;
}
const Schema& structElem() {
  static const Schema k = {"structure", {{"/Type", V::Name}, {"/S", V::Name}, {"/P", V::Ref, Kind::Struct},
                                         {"/ID", V::Str}, {"/Pg", V::Page}, {"/K", V::StructK},
                                         {"/A", V::RefOrRefArr, Kind::Attribute}, {"/R", V::Int}, {"/T", V::Str},
                                         {"/Lang", V::Str}, {"/Alt", V::Str}, {"/E", V::Str}, {"/ActualText", V::Str}}};
  return k;
}
const Schema& markedRef() {
  static const Schema k = {"structure", {{"/Type", V::Name}, {"/Pg", V::Page}, {"/MCID", V::Int}}};
  return k;
}
const Schema& objectRef() {
  static const Schema k = {"structure", {{"/Type", V::Name}, {"/Pg", V::Page}, {"/Obj", V::Ref, Kind::Annotation}}};
  return k;
}

// The schema for `h` read as `kind`, or null when such an object is not allowed at all (then
// *what names it for the report).
const Schema* schemaFor(Kind kind, QPDFObjectHandle h, std::string* what) {
  const bool stream = h.isStream();
  QPDFObjectHandle dict = stream ? h.getDict() : h;
  if (!dict.isDictionary()) return *what = "not a dictionary", nullptr;
  if (stream != streamKind(kind)) return *what = stream ? "stream" : "not a stream", nullptr;
  const std::string subtype = nameOf(dict.getKey("/Subtype"));
  const std::string type = nameOf(dict.getKey("/Type"));
  *what = subtype.empty() ? type : subtype;
  switch (kind) {
    case Kind::Annotation:
      return annotationSchema(subtype);
    case Kind::Field:
      if (subtype == "/Widget") return annotationSchema(subtype);
      return subtype.empty() ? &fixedSchema(Kind::Field) : nullptr;
    case Kind::Action: {
      const std::string s = nameOf(dict.getKey("/S"));
      *what = s;
      if (s == "/GoTo") return &gotoAction();
      if (s == "/Named") return &namedAction();
      return nullptr;
    }
    case Kind::Outline:
      return dict.hasKey("/Title") ? &outlineItem() : &outlineRoot();
    case Kind::Font:
      return fontSchema(subtype);
    case Kind::FormXObject:
      return subtype.empty() || subtype == "/Form" ? &fixedSchema(kind) : nullptr;
    case Kind::OC:
      if (type == "/OCMD") return &ocMembership();
      return type == "/OCG" ? &ocGroup() : nullptr;
    case Kind::Properties:
      if (type == "/OCMD") return &ocMembership();
      return type == "/OCG" ? &ocGroup() : &propertyList();
    case Kind::TilingPattern:
    case Kind::ShadingPattern: {
      QPDFObjectHandle t = dict.getKey("/PatternType");
      const int want = kind == Kind::TilingPattern ? 1 : 2;
      return t.isInteger() && t.getIntValue() == want ? &fixedSchema(kind) : nullptr;
    }
    case Kind::Shading:
    case Kind::ShadingStream: {
      QPDFObjectHandle t = dict.getKey("/ShadingType");
      const bool ok = t.isInteger() && (kind == Kind::Shading ? t.getIntValue() >= 1 && t.getIntValue() <= 3
                                                               : t.getIntValue() >= 4 && t.getIntValue() <= 7);
      return ok ? &fixedSchema(kind) : nullptr;
    }
    case Kind::Function:
    case Kind::SampledFunction: {
      // Type 4 (PostScript calculator) functions are programs: refused, not interpreted.
      QPDFObjectHandle t = dict.getKey("/FunctionType");
      *what = t.isInteger() ? "type " + std::to_string(t.getIntValue()) : "no type";
      if (!t.isInteger()) return nullptr;
      if (kind == Kind::SampledFunction) return t.getIntValue() == 0 ? &sampledFunction() : nullptr;
      if (t.getIntValue() == 2) return &exponentialFunction();
      return t.getIntValue() == 3 ? &stitchingFunction() : nullptr;
    }
    case Kind::Struct:
      if (type == "/StructTreeRoot") return &structRoot();
      if (type == "/MCR") return &markedRef();
      if (type == "/OBJR") return &objectRef();
      return dict.getKey("/S").isName() ? &structElem() : nullptr;
    default:
      return &fixedSchema(kind);
  }
}

// What a refused object of `kind` is reported as.
std::string objectReport(Kind kind) {
  switch (kind) {
    case Kind::Annotation:
    case Kind::Field:
      return "annotation";
    case Kind::Action:
      return "action";
    case Kind::Outline:
      return "outline";
    case Kind::Font:
      return "font";
    case Kind::FormXObject:
      return "form-xobject";
    case Kind::OC:
      return "optional-content";
    case Kind::Struct:
      return "structure";
    case Kind::Properties:
      return "properties";
    case Kind::TilingPattern:
    case Kind::ShadingPattern:
      return "pattern";
    case Kind::Shading:
    case Kind::ShadingStream:
      return "shading";
    case Kind::Function:
    case Kind::SampledFunction:
      return "function";
    default:
      return fixedSchema(kind).report;
  }
}

// Kinds that may share one object (a widget is also its field; the structure tree's parts point
// at each other). An object read as two kinds of different families is refused the second time:
// a /Parent naming the catalog must not get the catalog rebuilt as a form field.
int family(Kind kind) {
  if (kind == Kind::Field) return static_cast<int>(Kind::Annotation);
  if (kind == Kind::Properties) return static_cast<int>(Kind::OC);
  return static_cast<int>(kind);
}

QPDFObjectHandle freshNumber(QPDFObjectHandle v) {
  return v.isInteger() ? QPDFObjectHandle::newInteger(v.getIntValue()) : QPDFObjectHandle::newReal(v.getNumericValue(), 6);
}

QPDFObjectHandle freshPrimitive(QPDFObjectHandle v) {
  if (v.isNumber()) return freshNumber(v);
  if (v.isName()) return QPDFObjectHandle::newName(v.getName());
  if (v.isString()) return QPDFObjectHandle::newString(v.getStringValue());
  if (v.isBool()) return QPDFObjectHandle::newBool(v.getBoolValue());
  return QPDFObjectHandle::newNull();
}

bool arrayOk(QPDFObjectHandle v) { return v.isArray() && v.getArrayNItems() <= kMaxArray; }

QPDFObjectHandle numberArray(QPDFObjectHandle v) {
  if (!arrayOk(v)) return QPDFObjectHandle::newNull();
  QPDFObjectHandle out = QPDFObjectHandle::newArray();
  for (int i = 0; i < v.getArrayNItems(); ++i) {
    QPDFObjectHandle item = v.getArrayItem(i);
    if (!item.isNumber()) return QPDFObjectHandle::newNull();
    out.appendItem(freshNumber(item));
  }
  return out;
}

class Rebuilder {
 public:
  Rebuilder(QPDF& pdf, const FormatLimits& limits, std::vector<RemovedItem>& removed)
      : pdf_(pdf), limits_(limits), removed_(removed), budget_(limits.maxExpandedBytes) {}

  bool run(std::string* reason);

 private:
  struct Work {
    QPDFObjectHandle h;
    Kind kind;
  };

  bool tick() { return (++steps_ & 1023) != 0 || !limits_.expired(); }
  static std::string where(QPDFObjectHandle h) { return "obj " + std::to_string(h.getObjectID()); }

  void rebuild(QPDFObjectHandle h, Kind kind, const std::string& at, int depth);
  QPDFObjectHandle value(const Entry& e, QPDFObjectHandle v, const std::string& at, int depth);
  QPDFObjectHandle ref(Kind kind, QPDFObjectHandle v, const std::string& at, int depth);
  QPDFObjectHandle refArray(Kind kind, QPDFObjectHandle v, const std::string& at, int depth);
  QPDFObjectHandle dest(QPDFObjectHandle v);
  QPDFObjectHandle colourSpace(QPDFObjectHandle v, const std::string& at, int depth);
  QPDFObjectHandle fresh(QPDFObjectHandle v);
  QPDFObjectHandle toUnicode(QPDFObjectHandle v, const std::string& at);
  bool decode(QPDFObjectHandle stream, std::string* out);
  // Keeps `key` of `dict` only as `e` accepts it (used for the roots in the catalog and pages).
  void rebuildEntry(QPDFObjectHandle dict, const char* key, const Entry& e, const std::string& at,
                    const char* report = "catalog-entry");

  QPDF& pdf_;
  const FormatLimits& limits_;
  std::vector<RemovedItem>& removed_;
  uint64_t budget_;
  size_t steps_ = 0;
  std::vector<Work> work_;
  std::map<QPDFObjGen, int> family_;
  std::set<std::pair<QPDFObjGen, int>> done_;
  std::set<QPDFObjGen> pages_;
  std::set<QPDFObjGen> structural_;  // catalog, page tree nodes and pages: never rebuilt here
};

bool Rebuilder::decode(QPDFObjectHandle stream, std::string* out) {
  CappedSink sink(out, budget_);
  bool filtered = false;
  if (!stream.pipeStreamData(&sink, &filtered, 0, qpdf_dl_generalized, true) || !filtered) return false;
  budget_ -= out->size();
  return true;
}

QPDFObjectHandle Rebuilder::fresh(QPDFObjectHandle v) {
  std::string data;
  if (!v.isStream() || !decode(v, &data)) return QPDFObjectHandle::newNull();
  return QPDFObjectHandle::newStream(&pdf_, data);
}

QPDFObjectHandle Rebuilder::toUnicode(QPDFObjectHandle v, const std::string& at) {
  std::string data, cmap;
  if (!v.isStream() || !decode(v, &data) || !rebuildToUnicode(data, &cmap)) {
    addRemoved(removed_, "tounicode", at);
    return QPDFObjectHandle::newNull();
  }
  return QPDFObjectHandle::newStream(&pdf_, cmap);
}

// Destinations: a name or string (named), or [page /Fit...] with numbers or nulls; page numbers
// (integers) are what remote destinations use, which disarm() already removed, so not accepted.
QPDFObjectHandle Rebuilder::dest(QPDFObjectHandle v) {
  if (v.isName() || v.isString()) return freshPrimitive(v);
  if (!v.isArray() || v.getArrayNItems() < 2 || v.getArrayNItems() > 6) return QPDFObjectHandle::newNull();
  QPDFObjectHandle page = v.getArrayItem(0);
  if (!page.isIndirect() || !pages_.count(page.getObjGen())) return QPDFObjectHandle::newNull();
  static const std::set<std::string> kFits = {"/XYZ", "/Fit", "/FitH", "/FitV", "/FitR", "/FitB", "/FitBH", "/FitBV"};
  QPDFObjectHandle fit = v.getArrayItem(1);
  if (!fit.isName() || !kFits.count(fit.getName())) return QPDFObjectHandle::newNull();
  QPDFObjectHandle out = QPDFObjectHandle::newArray({page, QPDFObjectHandle::newName(fit.getName())});
  for (int i = 2; i < v.getArrayNItems(); ++i) {
    QPDFObjectHandle item = v.getArrayItem(i);
    if (item.isNumber()) {
      out.appendItem(freshNumber(item));
    } else if (item.isNull()) {
      out.appendItem(QPDFObjectHandle::newNull());
    } else {
      return QPDFObjectHandle::newNull();
    }
  }
  return out;
}

// Colour spaces rebuilt as fresh arrays: device and pattern names as they are; ICC-based and
// calibrated spaces become the device space of their component count (the profile is not carried,
// as for images); Lab keeps its numbers; Indexed keeps its table as a string; Separation and
// DeviceN keep their names, alternate space and tint function (attributes dropped).
QPDFObjectHandle Rebuilder::colourSpace(QPDFObjectHandle v, const std::string& at, int depth) {
  const QPDFObjectHandle null = QPDFObjectHandle::newNull();
  if (v.isName()) return freshPrimitive(v);
  if (!v.isArray() || v.getArrayNItems() < 1 || v.getArrayNItems() > 5 || depth > 4) return null;
  const std::string family = nameOf(v.getArrayItem(0));
  const int n = v.getArrayNItems();
  auto device = [](int components) {
    return QPDFObjectHandle::newName(components == 1 ? "/DeviceGray" : components == 3 ? "/DeviceRGB" : "/DeviceCMYK");
  };
  if (family == "/ICCBased" && n == 2 && v.getArrayItem(1).isStream()) {
    QPDFObjectHandle components = v.getArrayItem(1).getDict().getKey("/N");
    if (!components.isInteger() || (components.getIntValue() != 1 && components.getIntValue() != 3 &&
                                     components.getIntValue() != 4)) {
      return null;
    }
    addRemoved(removed_, "icc-profile", at);
    return device(static_cast<int>(components.getIntValue()));
  }
  if (family == "/CalGray" && n == 2) return device(1);
  if (family == "/CalRGB" && n == 2) return device(3);
  if (family == "/Lab" && n == 2 && v.getArrayItem(1).isDictionary()) {
    QPDFObjectHandle params = QPDFObjectHandle::newDictionary();
    for (const char* key : {"/WhitePoint", "/BlackPoint", "/Range"}) {
      QPDFObjectHandle a = numberArray(v.getArrayItem(1).getKey(key));
      if (!a.isNull()) params.replaceKey(key, a);
    }
    if (!params.hasKey("/WhitePoint")) return null;
    return QPDFObjectHandle::newArray({QPDFObjectHandle::newName("/Lab"), params});
  }
  if (family == "/Pattern" && n == 2) {
    QPDFObjectHandle base = colourSpace(v.getArrayItem(1), at, depth + 1);
    return base.isNull() ? null : QPDFObjectHandle::newArray({QPDFObjectHandle::newName("/Pattern"), base});
  }
  if ((family == "/Indexed" || family == "/I") && n == 4) {
    QPDFObjectHandle base = colourSpace(v.getArrayItem(1), at, depth + 1);
    QPDFObjectHandle hival = v.getArrayItem(2), lookup = v.getArrayItem(3);
    if (base.isNull() || !hival.isInteger() || hival.getIntValue() < 0 || hival.getIntValue() > 255) return null;
    std::string table;
    if (lookup.isString()) {
      table = lookup.getStringValue();
    } else if (!lookup.isStream() || !decode(lookup, &table)) {
      return null;
    }
    if (table.size() > 256 * 32) table.resize(256 * 32);
    return QPDFObjectHandle::newArray({QPDFObjectHandle::newName("/Indexed"), base,
                                       QPDFObjectHandle::newInteger(hival.getIntValue()), QPDFObjectHandle::newString(table)});
  }
  if ((family == "/Separation" && n == 4 && v.getArrayItem(1).isName()) ||
      (family == "/DeviceN" && (n == 4 || n == 5) && v.getArrayItem(1).isArray())) {
    QPDFObjectHandle names = value(Entry{"", V::NameOrNames}, v.getArrayItem(1), at, depth);
    QPDFObjectHandle alternate = colourSpace(v.getArrayItem(2), at, depth + 1);
    QPDFObjectHandle tint = value(Entry{"", V::Function}, v.getArrayItem(3), at, depth);
    if (names.isNull() || alternate.isNull() || tint.isNull()) return null;
    return QPDFObjectHandle::newArray({QPDFObjectHandle::newName(family), names, alternate, tint});
  }
  return null;
}

QPDFObjectHandle Rebuilder::ref(Kind kind, QPDFObjectHandle v, const std::string& at, int depth) {
  const Schema* schema = nullptr;
  std::string what;
  if (v.isIndirect() && structural_.count(v.getObjGen())) return QPDFObjectHandle::newNull();
  if (v.isDictionary() || v.isStream()) schema = schemaFor(kind, v, &what);
  if (schema == nullptr) {
    // A value of the wrong type is reported as the holder's dropped entry; an object of a kind or
    // subtype that is not allowed is reported as itself.
    if (v.isDictionary() || v.isStream()) {
      addRemoved(removed_, objectReport(kind), (v.isIndirect() ? where(v) : at) + " (" + what + ")");
    }
    return QPDFObjectHandle::newNull();
  }
  if (!v.isIndirect()) {
    if (depth >= kMaxDirectDepth) return QPDFObjectHandle::newNull();
    rebuild(v, kind, at, depth + 1);
    return v;
  }
  auto [it, inserted] = family_.emplace(v.getObjGen(), family(kind));
  if (!inserted && it->second != family(kind)) return QPDFObjectHandle::newNull();
  if (done_.insert({v.getObjGen(), static_cast<int>(kind)}).second) work_.push_back(Work{v, kind});
  return v;
}

QPDFObjectHandle Rebuilder::refArray(Kind kind, QPDFObjectHandle v, const std::string& at, int depth) {
  if (!arrayOk(v)) return QPDFObjectHandle::newNull();
  QPDFObjectHandle out = QPDFObjectHandle::newArray();
  for (int i = 0; i < v.getArrayNItems(); ++i) {
    QPDFObjectHandle item = ref(kind, v.getArrayItem(i), at, depth);
    if (!item.isNull()) out.appendItem(item);
  }
  return out;
}

QPDFObjectHandle Rebuilder::value(const Entry& e, QPDFObjectHandle v, const std::string& at, int depth) {
  const QPDFObjectHandle null = QPDFObjectHandle::newNull();
  switch (e.value) {
    case V::Num:
      return v.isNumber() ? freshNumber(v) : null;
    case V::Int:
      return v.isInteger() ? freshNumber(v) : null;
    case V::Bool:
      return v.isBool() ? freshPrimitive(v) : null;
    case V::Name:
      return v.isName() ? freshPrimitive(v) : null;
    case V::Str:
      return v.isString() ? freshPrimitive(v) : null;
    case V::Prim:
      return freshPrimitive(v);
    case V::PrimOrNums:
      return v.isArray() ? numberArray(v) : freshPrimitive(v);
    case V::NumArr:
      return numberArray(v);
    case V::Rect: {
      QPDFObjectHandle a = numberArray(v);
      return a.isArray() && a.getArrayNItems() == 4 ? a : null;
    }
    case V::NameOrNames:
    case V::StrArr: {
      const bool names = e.value == V::NameOrNames;
      if (names && v.isName()) return freshPrimitive(v);
      if (!arrayOk(v)) return null;
      QPDFObjectHandle out = QPDFObjectHandle::newArray();
      for (int i = 0; i < v.getArrayNItems(); ++i) {
        QPDFObjectHandle item = v.getArrayItem(i);
        if (names ? !item.isName() : !item.isString()) return null;
        out.appendItem(freshPrimitive(item));
      }
      return out;
    }
    case V::Dest:
      return dest(v);
    case V::DestOrD:
      if (v.isDictionary()) {
        QPDFObjectHandle d = dest(v.getKey("/D"));
        if (d.isNull()) return null;
        QPDFObjectHandle out = QPDFObjectHandle::newDictionary();
        out.replaceKey("/D", d);
        return out;
      }
      return dest(v);
    case V::DestOrAction:
      return v.isDictionary() ? ref(Kind::Action, v, at, depth) : dest(v);
    case V::Ref:
      return ref(e.kind, v, at, depth);
    case V::RefArr:
      return refArray(e.kind, v, at, depth);
    case V::RefOrRefArr:
      return v.isArray() ? refArray(e.kind, v, at, depth) : ref(e.kind, v, at, depth);
    case V::StreamKeep:
      return v.isStream() ? v : null;
    case V::StreamKey:
      return v.isNull() ? null : v;
    case V::Fresh:
      return fresh(v);
    case V::NameOrFresh:
      return isName(v, "/Identity") ? freshPrimitive(v) : fresh(v);
    case V::ToUnicode:
      return toUnicode(v, at);
    case V::NameOrRef:
      return v.isName() ? freshPrimitive(v) : ref(e.kind, v, at, depth);
    case V::CidWidths:
    case V::InkList: {
      // /W: c [w1 w2 ...] or c1 c2 w; /InkList: arrays of coordinates.
      if (!arrayOk(v)) return null;
      QPDFObjectHandle out = QPDFObjectHandle::newArray();
      for (int i = 0; i < v.getArrayNItems(); ++i) {
        QPDFObjectHandle item = v.getArrayItem(i);
        QPDFObjectHandle kept = item.isArray() ? numberArray(item)
                                : item.isNumber() && e.value == V::CidWidths ? freshNumber(item) : null;
        if (kept.isNull()) return null;
        out.appendItem(kept);
      }
      return out;
    }
    case V::Differences:
    case V::Border:
    case V::FieldValue:
    case V::Opt: {
      if (e.value == V::FieldValue && (v.isString() || v.isName())) return freshPrimitive(v);
      if (!arrayOk(v)) return null;
      QPDFObjectHandle out = QPDFObjectHandle::newArray();
      for (int i = 0; i < v.getArrayNItems(); ++i) {
        QPDFObjectHandle item = v.getArrayItem(i);
        QPDFObjectHandle kept = null;
        if (e.value == V::Differences && (item.isInteger() || item.isName())) kept = freshPrimitive(item);
        if (e.value == V::Border) kept = item.isNumber() ? freshNumber(item) : numberArray(item);
        if (e.value == V::FieldValue && item.isString()) kept = freshPrimitive(item);
        if (e.value == V::Opt) {
          if (item.isString()) kept = freshPrimitive(item);
          if (item.isArray() && item.getArrayNItems() == 2 && item.getArrayItem(0).isString() &&
              item.getArrayItem(1).isString()) {
            kept = QPDFObjectHandle::newArray({freshPrimitive(item.getArrayItem(0)), freshPrimitive(item.getArrayItem(1))});
          }
        }
        if (kept.isNull()) return null;
        out.appendItem(kept);
      }
      return out;
    }
    case V::DestNames: {
      if (!arrayOk(v) || v.getArrayNItems() % 2 != 0) return null;
      QPDFObjectHandle out = QPDFObjectHandle::newArray();
      for (int i = 0; i + 1 < v.getArrayNItems(); i += 2) {
        QPDFObjectHandle key = v.getArrayItem(i);
        QPDFObjectHandle d = value(Entry{"", V::DestOrD}, v.getArrayItem(i + 1), at, depth);
        if (!key.isString() || d.isNull()) continue;  // one bad destination does not lose the others
        out.appendItem(freshPrimitive(key));
        out.appendItem(d);
      }
      return out;
    }
    case V::ParentNums: {
      if (!arrayOk(v) || v.getArrayNItems() % 2 != 0) return null;
      QPDFObjectHandle out = QPDFObjectHandle::newArray();
      for (int i = 0; i + 1 < v.getArrayNItems(); i += 2) {
        QPDFObjectHandle key = v.getArrayItem(i), item = v.getArrayItem(i + 1);
        if (!key.isInteger()) continue;
        QPDFObjectHandle kept = null;
        if (e.kind == Kind::Struct && item.isArray() && arrayOk(item)) {
          // Marked-content ids index this array: entries keep their places, a refused one is null.
          kept = QPDFObjectHandle::newArray();
          for (int j = 0; j < item.getArrayNItems(); ++j) kept.appendItem(ref(Kind::Struct, item.getArrayItem(j), at, depth));
        } else {
          kept = ref(e.kind, item, at, depth);
        }
        if (kept.isNull()) continue;
        out.appendItem(freshNumber(key));
        out.appendItem(kept);
      }
      return out;
    }
    case V::StructK: {
      if (v.isInteger()) return freshNumber(v);
      if (!v.isArray()) return ref(Kind::Struct, v, at, depth);
      if (!arrayOk(v)) return null;
      QPDFObjectHandle out = QPDFObjectHandle::newArray();
      for (int i = 0; i < v.getArrayNItems(); ++i) {
        QPDFObjectHandle item = v.getArrayItem(i);
        QPDFObjectHandle kept = item.isInteger() ? freshNumber(item) : ref(Kind::Struct, item, at, depth);
        if (!kept.isNull()) out.appendItem(kept);
      }
      return out;
    }
    case V::OCOrder:
    case V::RBGroups: {
      // /Order: nested arrays of groups and labels; /RBGroups: arrays of groups.
      if (!arrayOk(v) || depth >= kMaxDirectDepth) return null;
      QPDFObjectHandle out = QPDFObjectHandle::newArray();
      for (int i = 0; i < v.getArrayNItems(); ++i) {
        QPDFObjectHandle item = v.getArrayItem(i);
        QPDFObjectHandle kept = null;
        if (item.isArray()) {
          kept = e.value == V::RBGroups ? refArray(Kind::OC, item, at, depth) : value(e, item, at, depth + 1);
        } else if (e.value == V::OCOrder && item.isString()) {
          kept = freshPrimitive(item);
        } else if (e.value == V::OCOrder) {
          kept = ref(Kind::OC, item, at, depth);
        }
        if (!kept.isNull()) out.appendItem(kept);
      }
      return out;
    }
    case V::XObject: {
      QPDFObjectHandle subtype = v.isStream() ? v.getDict().getKey("/Subtype") : QPDFObjectHandle::newNull();
      if (isName(subtype, "/Image")) return v;  // rebuilt by the image pass (pdf_resources.h)
      if (isName(subtype, "/Form")) return ref(Kind::FormXObject, v, at, depth);
      addRemoved(removed_, "xobject", (v.isIndirect() ? where(v) : at) + (subtype.isName() ? " (" + subtype.getName() + ")" : ""));
      return null;
    }
    case V::ColourSpace:
      return colourSpace(v, at, depth);
    case V::Pattern:
      return ref(v.isStream() ? Kind::TilingPattern : Kind::ShadingPattern, v, at, depth);
    case V::Shading:
      return ref(v.isStream() ? Kind::ShadingStream : Kind::Shading, v, at, depth);
    case V::Function:
      if (v.isArray()) {
        if (!arrayOk(v) || v.getArrayNItems() > 32) return null;
        QPDFObjectHandle out = QPDFObjectHandle::newArray();
        for (int i = 0; i < v.getArrayNItems(); ++i) {
          QPDFObjectHandle f = ref(v.getArrayItem(i).isStream() ? Kind::SampledFunction : Kind::Function,
                                   v.getArrayItem(i), at, depth);
          if (f.isNull()) return null;  // one output missing would shift the others
          out.appendItem(f);
        }
        return out;
      }
      return ref(v.isStream() ? Kind::SampledFunction : Kind::Function, v, at, depth);
    case V::BoolArr: {
      if (!arrayOk(v)) return null;
      QPDFObjectHandle out = QPDFObjectHandle::newArray();
      for (int i = 0; i < v.getArrayNItems(); ++i) {
        if (!v.getArrayItem(i).isBool()) return null;
        out.appendItem(freshPrimitive(v.getArrayItem(i)));
      }
      return out;
    }
    case V::SoftMask:
      return isName(v, "/None") ? freshPrimitive(v) : ref(Kind::SoftMask, v, at, depth);
    case V::FormOrStates:
      return ref(v.isStream() ? Kind::FormXObject : Kind::AppearanceStates, v, at, depth);
    case V::Page:
      return v.isIndirect() && pages_.count(v.getObjGen()) ? v : null;
  }
  return null;
}

void Rebuilder::rebuild(QPDFObjectHandle h, Kind kind, const std::string& at, int depth) {
  std::string what;
  const Schema* schema = schemaFor(kind, h, &what);
  if (schema == nullptr) return;  // checked by ref() before
  QPDFObjectHandle dict = h.isStream() ? h.getDict() : h;
  // Sampled functions and mesh shadings: the data is read before the dictionary that says how
  // to decode it is rebuilt, then written back unfiltered.
  std::string data;
  const bool decoded = freshDataKind(kind) && decode(h, &data);
  if (freshDataKind(kind) && !decoded) addRemoved(removed_, objectReport(kind), at + " (data)");
  std::vector<std::pair<std::string, QPDFObjectHandle>> kept;
  for (const std::string& key : dict.getKeys()) {
    const Entry* entry = nullptr;
    for (const Entry& e : schema->entries) {
      if (key == e.key || std::strcmp(e.key, "*") == 0) {
        entry = &e;
        break;
      }
    }
    QPDFObjectHandle v = entry == nullptr ? QPDFObjectHandle::newNull() : value(*entry, dict.getKey(key), at + " " + key, depth);
    if (v.isNull()) {
      addRemoved(removed_, std::string(schema->report) + "-entry", at + " " + key);
    } else {
      kept.emplace_back(key, v);
    }
  }
  for (const std::string& key : dict.getKeys()) dict.removeKey(key);
  for (auto& [key, v] : kept) dict.replaceKey(key, v);
  if (freshDataKind(kind)) h.replaceStreamData(data, QPDFObjectHandle::newNull(), QPDFObjectHandle::newNull());
  // The passes that rebuild font programs and form content find their objects by type.
  if (kind == Kind::Font) dict.replaceKey("/Type", QPDFObjectHandle::newName("/Font"));
  if (kind == Kind::FontDescriptor) dict.replaceKey("/Type", QPDFObjectHandle::newName("/FontDescriptor"));
  if (kind == Kind::FormXObject) {
    dict.replaceKey("/Type", QPDFObjectHandle::newName("/XObject"));
    dict.replaceKey("/Subtype", QPDFObjectHandle::newName("/Form"));
  }
}

void Rebuilder::rebuildEntry(QPDFObjectHandle dict, const char* key, const Entry& e, const std::string& at,
                             const char* report) {
  if (!dict.isDictionary() || !dict.hasKey(key)) return;
  QPDFObjectHandle v = value(e, dict.getKey(key), at + " " + key, 0);
  if (v.isNull()) {
    dict.removeKey(key);
    addRemoved(removed_, report, at + " " + key);
  } else {
    dict.replaceKey(key, v);
  }
}

bool Rebuilder::run(std::string* reason) {
  QPDFObjectHandle root = pdf_.getRoot();
  structural_.insert(root.getObjGen());
  std::vector<QPDFObjectHandle> pages = pdf_.getAllPages();
  for (QPDFObjectHandle page : pages) {
    pages_.insert(page.getObjGen());
    structural_.insert(page.getObjGen());
    // Page tree nodes up from each page (pdf_allowlist.cc rewrote /Parent to the real node).
    QPDFObjectHandle node = page.getKey("/Parent");
    for (int i = 0; i < 256 && node.isDictionary() && node.isIndirect(); ++i) {
      if (!structural_.insert(node.getObjGen()).second) break;
      node = node.getKey("/Parent");
    }
  }
  rebuildEntry(root, "/Outlines", Entry{"", V::Ref, Kind::Outline}, "catalog");
  rebuildEntry(root, "/Names", Entry{"", V::Ref, Kind::NamesDict}, "catalog");
  rebuildEntry(root, "/Dests", Entry{"", V::Ref, Kind::DestDict}, "catalog");
  rebuildEntry(root, "/AcroForm", Entry{"", V::Ref, Kind::AcroForm}, "catalog");
  rebuildEntry(root, "/StructTreeRoot", Entry{"", V::Ref, Kind::Struct}, "catalog");
  rebuildEntry(root, "/OCProperties", Entry{"", V::Ref, Kind::OCProperties}, "catalog");
  rebuildEntry(root, "/OpenAction", Entry{"", V::DestOrAction}, "catalog");
  rebuildEntry(root, "/PageLabels", Entry{"", V::Ref, Kind::LabelTree}, "catalog");
  rebuildEntry(root, "/ViewerPreferences", Entry{"", V::Ref, Kind::ViewerPreferences}, "catalog");
  rebuildEntry(root, "/MarkInfo", Entry{"", V::Ref, Kind::MarkInfo}, "catalog");
  for (const char* key : {"/Version", "/PageLayout", "/PageMode", "/Type"}) {
    rebuildEntry(root, key, Entry{"", V::Name}, "catalog");
  }
  rebuildEntry(root, "/Lang", Entry{"", V::Str}, "catalog");
  // The trailer: what the writer regenerates, and /Info; anything else is dropped.
  QPDFObjectHandle trailer = pdf_.getTrailer();
  static const std::set<std::string> kTrailerKeys = {"/Root", "/Info", "/Size", "/ID", "/Prev", "/Encrypt", "/XRefStm",
                                                     "/Type", "/Index", "/W", "/Filter", "/DecodeParms", "/Length"};
  for (const std::string& key : trailer.getKeys()) {
    if (kTrailerKeys.count(key)) continue;
    trailer.removeKey(key);
    addRemoved(removed_, "trailer-entry", "trailer " + key);
  }
  rebuildEntry(trailer, "/Info", Entry{"", V::Ref, Kind::Info}, "trailer", "trailer-entry");
  // Inheritable attributes on page tree nodes (pages are done below).
  for (const QPDFObjGen& og : structural_) {
    if (pages_.count(og) || og == root.getObjGen()) continue;
    QPDFObjectHandle node = pdf_.getObject(og);
    for (const char* key : {"/MediaBox", "/CropBox"}) rebuildEntry(node, key, Entry{"", V::Rect}, "page tree", "page-entry");
    rebuildEntry(node, "/Rotate", Entry{"", V::Int}, "page tree", "page-entry");
  }
  for (size_t i = 0; i < pages.size(); ++i) {
    const std::string at = "page " + std::to_string(i + 1);
    rebuildEntry(pages[i], "/Annots", Entry{"", V::RefArr, Kind::Annotation}, at, "page-entry");
    rebuildEntry(pages[i], "/Group", Entry{"", V::Ref, Kind::Group}, at, "page-entry");
    for (const char* key : {"/MediaBox", "/CropBox", "/BleedBox", "/TrimBox", "/ArtBox"}) {
      rebuildEntry(pages[i], key, Entry{"", V::Rect}, at, "page-entry");
    }
    for (const char* key : {"/Rotate", "/StructParents"}) rebuildEntry(pages[i], key, Entry{"", V::Int}, at, "page-entry");
    rebuildEntry(pages[i], "/UserUnit", Entry{"", V::Num}, at, "page-entry");
    rebuildEntry(pages[i], "/Tabs", Entry{"", V::Name}, at, "page-entry");
  }
  // Fonts: every /Font entry of every resource dictionary; form XObjects wherever they are.
  for (QPDFObjectHandle object : pdf_.getAllObjects()) {
    if (!tick()) return *reason = "limit:timeout", false;
    std::vector<QPDFObjectHandle> stack{object};
    while (!stack.empty()) {
      if (!tick()) return *reason = "limit:timeout", false;
      QPDFObjectHandle h = stack.back();
      stack.pop_back();
      QPDFObjectHandle dict = h.isStream() ? h.getDict() : h;
      if (h.isStream() && h.isIndirect() && isName(dict.getKey("/Subtype"), "/Form")) {
        ref(Kind::FormXObject, h, where(h), 0);
      }
      if (dict.isDictionary()) {
        // Resource dictionaries wherever they are (pages and page tree nodes included: those are
        // not rebuilt here, their resources are).
        QPDFObjectHandle resources = dict.getKey("/Resources");
        if (resources.isDictionary() && !ref(Kind::Resources, resources, where(object) + " /Resources", 0).isDictionary()) {
          dict.removeKey("/Resources");
        }
        for (const auto& key : dict.getKeys()) {
          QPDFObjectHandle child = dict.getKey(key);
          if (!child.isIndirect() && (child.isDictionary() || child.isArray())) stack.push_back(child);
        }
      } else if (h.isArray()) {
        for (int i = 0; i < h.getArrayNItems(); ++i) {
          QPDFObjectHandle child = h.getArrayItem(i);
          if (!child.isIndirect() && (child.isDictionary() || child.isArray())) stack.push_back(child);
        }
      }
    }
  }
  while (!work_.empty()) {
    if (!tick()) return *reason = "limit:timeout", false;
    Work w = work_.back();
    work_.pop_back();
    rebuild(w.h, w.kind, where(w.h), 0);
  }
  return true;
}

}  // namespace

bool rebuildDictionaries(QPDF& pdf, const FormatLimits& limits, std::vector<RemovedItem>& removed,
                         std::string* reason) {
  try {
    Rebuilder rebuilder(pdf, limits, removed);
    return rebuilder.run(reason);
  } catch (std::length_error const&) {
    *reason = "limit:expanded-size";
    return false;
  }
}

}  // namespace lbg::sanitizer::pdf
