#include "sanitizer/pdf/content_stream.h"

#include <vector>

#include "sanitizer/pdf/inline_image.h"

namespace lbg::sanitizer::pdf {
namespace {

bool isWhite(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' || c == '\0'; }

bool isDelimiter(char c) {
  return c == '(' || c == ')' || c == '<' || c == '>' || c == '[' || c == ']' || c == '{' || c == '}' ||
         c == '/' || c == '%';
}

bool isRegular(char c) { return !isWhite(c) && !isDelimiter(c); }

bool isHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return c - 'A' + 10;
}

// PDF numbers: optional sign, digits with at most one '.', at least one digit ("4.", "-.5").
bool isNumber(std::string_view s) {
  size_t i = (!s.empty() && (s[0] == '+' || s[0] == '-')) ? 1 : 0;
  bool digit = false, dot = false;
  for (; i < s.size(); ++i) {
    if (s[i] >= '0' && s[i] <= '9') {
      digit = true;
    } else if (s[i] == '.' && !dot) {
      dot = true;
    } else {
      return false;
    }
  }
  return digit;
}

bool isObjectKeyword(std::string_view s) { return s == "true" || s == "false" || s == "null"; }

// Bounds on one operation: real content nests arrays and dictionaries a few levels at most, and a
// TJ array of a long line has a few thousand elements.
constexpr size_t kMaxDepth = 32;
constexpr size_t kMaxOperandTokens = 1 << 16;

// Operand signature of each allowed operator: n number, s string, a array, N name, p properties
// (dictionary or name). Colour operators with a variable count are checked in code.
struct OperatorSpec {
  const char* op;
  const char* operands;
};

constexpr OperatorSpec kOperators[] = {
    // General and special graphics state.
    {"w", "n"}, {"J", "n"}, {"j", "n"}, {"M", "n"}, {"d", "an"}, {"ri", "N"}, {"i", "n"}, {"gs", "N"},
    {"q", ""}, {"Q", ""}, {"cm", "nnnnnn"},
    // Path construction, painting, clipping.
    {"m", "nn"}, {"l", "nn"}, {"c", "nnnnnn"}, {"v", "nnnn"}, {"y", "nnnn"}, {"h", ""}, {"re", "nnnn"},
    {"S", ""}, {"s", ""}, {"f", ""}, {"F", ""}, {"f*", ""}, {"B", ""}, {"B*", ""}, {"b", ""}, {"b*", ""},
    {"n", ""}, {"W", ""}, {"W*", ""},
    // Text objects, state, positioning, showing; Type 3 glyph metrics.
    {"BT", ""}, {"ET", ""}, {"Tc", "n"}, {"Tw", "n"}, {"Tz", "n"}, {"TL", "n"}, {"Tf", "Nn"}, {"Tr", "n"},
    {"Ts", "n"}, {"Td", "nn"}, {"TD", "nn"}, {"Tm", "nnnnnn"}, {"T*", ""}, {"Tj", "s"}, {"TJ", "a"},
    {"'", "s"}, {"\"", "nns"}, {"d0", "nn"}, {"d1", "nnnnnn"},
    // Colour (SC/sc/SCN/scn checked in code).
    {"CS", "N"}, {"cs", "N"}, {"SC", "*"}, {"SCN", "*"}, {"sc", "*"}, {"scn", "*"}, {"G", "n"}, {"g", "n"},
    {"RG", "nnn"}, {"rg", "nnn"}, {"K", "nnnn"}, {"k", "nnnn"},
    // Shading, XObjects (Do checked against the resources), inline images (BI/ID/EI in code).
    {"sh", "N"}, {"Do", "N"}, {"BI", ""},
    // Marked content (properties checked for actions), compatibility sections.
    {"MP", "N"}, {"DP", "Np"}, {"BMC", "N"}, {"BDC", "Np"}, {"EMC", ""}, {"BX", ""}, {"EX", ""},
};

const OperatorSpec* findOperator(std::string_view op) {
  for (const auto& spec : kOperators) {
    if (op == spec.op) return &spec;
  }
  return nullptr;
}

// Keys and values that make marked-content properties active (actions, scripts, links out).
bool isActionName(const std::string& name) {
  static const char* kNames[] = {"A",          "AA",       "JS",        "JavaScript", "OpenAction", "Launch",
                                 "URI",        "SubmitForm", "ImportData", "GoToR",     "GoToE",      "Next",
                                 "Rendition",  "RichMediaExecute", "Movie", "Sound",    "EmbeddedFile", "EF"};
  for (const char* k : kNames) {
    if (name == k) return true;
  }
  return false;
}

// One operand: a single token, or an array / dictionary spanning tokens [first, last].
struct Operand {
  char kind;  // n s a N d k (keyword true/false/null)
  size_t first, last;
};

}  // namespace

bool ContentTokenizer::fail(const char* why) {
  error_ = std::string(why) + " at byte " + std::to_string(pos_);
  pos_ = data_.size();
  return false;
}

bool ContentTokenizer::readLiteralString(Token* token) {
  size_t start = pos_;
  int depth = 0;
  for (; pos_ < data_.size(); ++pos_) {
    char c = data_[pos_];
    if (c == '\\') {
      ++pos_;  // the escaped byte (or the first of an octal escape, or a line end) cannot close
      continue;
    }
    if (c == '(') ++depth;
    if (c == ')' && --depth == 0) {
      ++pos_;
      token->type = TokenType::LiteralString;
      token->text = data_.substr(start, pos_ - start);
      return true;
    }
  }
  pos_ = start;
  return fail("unterminated string");
}

bool ContentTokenizer::readHexString(Token* token) {
  size_t start = pos_++;
  for (; pos_ < data_.size(); ++pos_) {
    char c = data_[pos_];
    if (c == '>') {
      ++pos_;
      token->type = TokenType::HexString;
      token->text = data_.substr(start, pos_ - start);
      return true;
    }
    if (!isHex(c) && !isWhite(c)) return fail("bad hex string");
  }
  return fail("unterminated hex string");
}

bool ContentTokenizer::readInlineImageData(Token* token) {
  afterId_ = false;
  // Exactly one white-space byte separates ID from the data.
  if (pos_ >= data_.size() || !isWhite(data_[pos_])) return fail("no white space after ID");
  size_t start = ++pos_;
  for (size_t i = start; i + 2 < data_.size(); ++i) {
    if (isWhite(data_[i]) && data_[i + 1] == 'E' && data_[i + 2] == 'I' &&
        (i + 3 == data_.size() || isWhite(data_[i + 3]) || isDelimiter(data_[i + 3]))) {
      token->type = TokenType::InlineImageData;
      token->text = data_.substr(start, i - start);
      pos_ = i + 1;  // "EI" is read as the next keyword
      return true;
    }
  }
  return fail("inline image without EI");
}

bool ContentTokenizer::next(Token* token) {
  if (!error_.empty()) return false;
  if (afterId_) return readInlineImageData(token);
  while (pos_ < data_.size()) {
    char c = data_[pos_];
    if (isWhite(c)) {
      ++pos_;
    } else if (c == '%') {
      while (pos_ < data_.size() && data_[pos_] != '\n' && data_[pos_] != '\r') ++pos_;
    } else {
      break;
    }
  }
  if (pos_ >= data_.size()) return false;
  size_t start = pos_;
  char c = data_[pos_];
  auto single = [&](TokenType type, size_t length) {
    token->type = type;
    token->text = data_.substr(start, length);
    pos_ += length;
    return true;
  };
  switch (c) {
    case '(':
      return readLiteralString(token);
    case '<':
      if (pos_ + 1 < data_.size() && data_[pos_ + 1] == '<') return single(TokenType::DictOpen, 2);
      return readHexString(token);
    case '>':
      if (pos_ + 1 < data_.size() && data_[pos_ + 1] == '>') return single(TokenType::DictClose, 2);
      return fail("stray '>'");
    case '[':
      return single(TokenType::ArrayOpen, 1);
    case ']':
      return single(TokenType::ArrayClose, 1);
    case ')':
      return fail("stray ')'");
    case '{':
    case '}':
      return fail("procedure braces");
    case '/': {
      ++pos_;
      while (pos_ < data_.size() && isRegular(data_[pos_])) ++pos_;
      token->type = TokenType::Name;
      token->text = data_.substr(start, pos_ - start);
      return true;
    }
    default:
      break;
  }
  while (pos_ < data_.size() && isRegular(data_[pos_])) ++pos_;
  token->text = data_.substr(start, pos_ - start);
  token->type = isNumber(token->text) ? TokenType::Number : TokenType::Keyword;
  if (token->type == TokenType::Keyword && token->text == "ID") afterId_ = true;
  return true;
}

bool decodeName(std::string_view token, std::string* name) {
  name->clear();
  size_t i = (!token.empty() && token[0] == '/') ? 1 : 0;
  for (; i < token.size(); ++i) {
    if (token[i] != '#') {
      name->push_back(token[i]);
      continue;
    }
    if (i + 2 >= token.size() || !isHex(token[i + 1]) || !isHex(token[i + 2])) return false;
    name->push_back(static_cast<char>(hexValue(token[i + 1]) * 16 + hexValue(token[i + 2])));
    i += 2;
  }
  return true;
}

bool isAllowedOperator(std::string_view op) { return findOperator(op) != nullptr; }

namespace {

class Filter {
 public:
  Filter(std::string_view content, const ContentResources& resources)
      : tokenizer_(content), resources_(resources) {}

 private:
  ContentFilterResult failed(std::string why = "") {
    ContentFilterResult r;
    r.error = why.empty() ? error_ : std::move(why);
    return r;
  }

  bool error(std::string why) {
    error_ = std::move(why);
    return false;
  }

  bool step(const Token& token) {
    if (expectImageData_) {
      if (token.type != TokenType::InlineImageData) return error("ID without data");
      expectImageData_ = false;
      imageData_ = token.text;
      expectEi_ = true;
      return true;
    }
    if (expectEi_) {
      if (token.type != TokenType::Keyword || token.text != "EI") return error("inline image without EI");
      expectEi_ = false;
      emitInlineImage();
      return true;
    }
    switch (token.type) {
      case TokenType::ArrayOpen:
      case TokenType::DictOpen:
        if (nesting_.size() >= kMaxDepth) return error("nesting too deep");
        nesting_.push_back(token.type);
        break;
      case TokenType::ArrayClose:
      case TokenType::DictClose: {
        TokenType open = token.type == TokenType::ArrayClose ? TokenType::ArrayOpen : TokenType::DictOpen;
        if (nesting_.empty() || nesting_.back() != open) return error("unbalanced array or dictionary");
        nesting_.pop_back();
        break;
      }
      case TokenType::Keyword:
        if (isObjectKeyword(token.text)) break;
        if (!nesting_.empty()) return error("operator inside an array or dictionary");
        return operation(token.text);
      case TokenType::InlineImageData:
        return error("inline image data outside BI/ID");
      default:
        break;
    }
    if (tokens_.size() >= kMaxOperandTokens) return error("too many operands");
    tokens_.push_back(token);
    return true;
  }

  // Splits tokens_ into top-level operands.
  bool operands(std::vector<Operand>* out) const {
    for (size_t i = 0; i < tokens_.size(); ++i) {
      const Token& t = tokens_[i];
      Operand o{'n', i, i};
      switch (t.type) {
        case TokenType::Number: o.kind = 'n'; break;
        case TokenType::LiteralString:
        case TokenType::HexString: o.kind = 's'; break;
        case TokenType::Name: o.kind = 'N'; break;
        case TokenType::Keyword: o.kind = 'k'; break;
        case TokenType::ArrayOpen:
        case TokenType::DictOpen: {
          o.kind = t.type == TokenType::ArrayOpen ? 'a' : 'd';
          size_t depth = 0;
          for (; i < tokens_.size(); ++i) {
            TokenType ty = tokens_[i].type;
            if (ty == TokenType::ArrayOpen || ty == TokenType::DictOpen) ++depth;
            if ((ty == TokenType::ArrayClose || ty == TokenType::DictClose) && --depth == 0) break;
          }
          o.last = i;
          break;
        }
        default:
          return false;
      }
      out->push_back(o);
    }
    return true;
  }

  // Arrays given to TJ and d hold numbers and strings only, no nesting.
  bool flatArray(const Operand& o) const {
    for (size_t i = o.first + 1; i < o.last; ++i) {
      TokenType ty = tokens_[i].type;
      if (ty != TokenType::Number && ty != TokenType::LiteralString && ty != TokenType::HexString) return false;
    }
    return true;
  }

  bool matches(const OperatorSpec& spec, const std::vector<Operand>& ops) const {
    std::string_view sig = spec.operands;
    if (sig == "*") {
      // sc/SC: 1-4 colour components (32 covers DeviceN); scn/SCN: components and/or a pattern name last.
      bool named = std::string_view(spec.op) == "scn" || std::string_view(spec.op) == "SCN";
      size_t numbers = ops.size();
      if (named && !ops.empty() && ops.back().kind == 'N') --numbers;
      if (numbers > 32 || (numbers == 0 && (!named || ops.empty()))) return false;
      for (size_t i = 0; i < numbers; ++i) {
        if (ops[i].kind != 'n') return false;
      }
      return true;
    }
    if (ops.size() != sig.size()) return false;
    for (size_t i = 0; i < sig.size(); ++i) {
      char want = sig[i], have = ops[i].kind;
      if (want == 'p' ? (have != 'd' && have != 'N') : want != have) return false;
      if (have == 'a' && !flatArray(ops[i])) return false;
    }
    return true;
  }

  bool dictHasAction(const Operand& o) const {
    std::string name;
    for (size_t i = o.first; i <= o.last; ++i) {
      if (tokens_[i].type != TokenType::Name) continue;
      if (!decodeName(tokens_[i].text, &name) || isActionName(name)) return true;
    }
    return false;
  }

  bool operation(std::string_view op) {
    std::vector<Operand> ops;
    if (!operands(&ops)) return error("bad operands");
    if (op == "ID") return error("ID without BI");
    if (op == "EI") return error("EI without BI/ID");
    if (inInlineImage_) return error("operator inside an inline image dictionary");
    const OperatorSpec* spec = findOperator(op);
    if (spec == nullptr) {
      ++result_.dropped["content-operator"];
    } else if (!matches(*spec, ops)) {
      ++result_.dropped["content-operands"];
    } else if (op == "BI") {
      inInlineImage_ = true;
    } else if (op == "Do") {
      std::string name;
      if (decodeName(tokens_[0].text, &name) && resources_.xobjectAllowed && resources_.xobjectAllowed(name)) {
        emit(op);
      } else {
        ++result_.dropped["content-xobject"];
      }
    } else if (op == "BDC" || op == "DP") {
      std::string name;
      bool allowed = ops[1].kind == 'd' ? !dictHasAction(ops[1])
                                        : decodeName(tokens_[ops[1].first].text, &name) &&
                                              resources_.propertiesAllowed && resources_.propertiesAllowed(name);
      if (allowed) {
        emit(op);
      } else {
        // The marker stays (BDC/EMC must stay balanced), its properties go.
        ++result_.dropped["marked-content-action"];
        tokens_.resize(1);
        emit(op == "BDC" ? "BMC" : "MP");
      }
    } else {
      emit(op);
    }
    tokens_.clear();
    return true;
  }

  // Inline images arrive as BI, then key/value tokens collected until "ID" (which the tokeniser
  // hands over as an operator), then the data, then EI.
  bool inlineImageDictionary() {
    std::vector<Operand> ops;
    if (!operands(&ops) || ops.size() % 2 != 0) return error("bad inline image dictionary");
    for (size_t i = 0; i < ops.size(); i += 2) {
      if (ops[i].kind != 'N') return error("bad inline image dictionary");
    }
    return true;
  }

  // Rebuilt from its decoded pixels (inline_image.h), or dropped and counted.
  void emitInlineImage() {
    std::string rebuilt, why;
    if (rebuildInlineImage(imageTokens_, imageData_, &rebuilt, &why)) {
      result_.output += rebuilt;
    } else {
      ++result_.dropped["inline-image"];
    }
    imageTokens_.clear();
  }

  void emit(std::string_view op) {
    std::string& out = result_.output;
    for (const Token& t : tokens_) {
      out.append(t.text);
      out += ' ';
    }
    out.append(op);
    out += '\n';
  }

 public:
  // The ID keyword ends an inline image dictionary; handled before ordinary operators.
  bool stepWithInlineImages(const Token& token) {
    if (inInlineImage_ && token.type == TokenType::Keyword && token.text == "ID" && nesting_.empty()) {
      if (!inlineImageDictionary()) return false;
      imageTokens_ = std::move(tokens_);
      tokens_.clear();
      inInlineImage_ = false;
      expectImageData_ = true;
      return true;
    }
    return step(token);
  }

  ContentFilterResult runAll() {
    Token token;
    while (tokenizer_.next(&token)) {
      if (!stepWithInlineImages(token)) return failed();
    }
    if (!tokenizer_.error().empty()) return failed(tokenizer_.error());
    if (!nesting_.empty()) return failed("unclosed array or dictionary");
    if (inInlineImage_ || expectImageData_ || expectEi_) return failed("unterminated inline image");
    if (!tokens_.empty()) ++result_.dropped["content-operands"];
    result_.ok = true;
    return std::move(result_);
  }

 private:
  ContentTokenizer tokenizer_;
  const ContentResources& resources_;
  ContentFilterResult result_;
  std::vector<Token> tokens_;
  std::vector<Token> imageTokens_;
  std::vector<TokenType> nesting_;
  std::string_view imageData_;
  bool inInlineImage_ = false, expectImageData_ = false, expectEi_ = false;
  std::string error_;
};

}  // namespace

ContentFilterResult filterContentStream(std::string_view content, const ContentResources& resources) {
  return Filter(content, resources).runAll();
}

}  // namespace lbg::sanitizer::pdf
