// Recursive descent over the RFC 8259 grammar, one byte at a time, keeping
// the line and column of the cursor. Assumptions: inputs are configuration
// documents (kilobytes), so clarity beats speed; recursion is bounded by
// kMaxJsonDepth, so the stack cannot overflow on hostile input.
#include "internal/json.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "fmt/format.h"

namespace mlsched::internal {

namespace {

const std::string& EmptyString() {
  static const std::string* const kEmpty = new std::string();
  return *kEmpty;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsWhitespace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool IsWordChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || IsDigit(c) || c == '_';
}

// The decimal text of a JSON number taken apart: the value is
// (negative ? -1 : 1) * digits * 10^exponent, where `digits` has no leading
// zeros (empty for zero) and no trailing zeros.
struct Decimal {
  bool negative = false;
  std::string digits;
  std::int64_t exponent = 0;
};

// `text` is known to match the JSON number grammar.
Decimal Decompose(std::string_view text) {
  Decimal d;
  std::size_t i = 0;
  if (text[i] == '-') {
    d.negative = true;
    ++i;
  }
  std::int64_t fraction_digits = 0;
  bool in_fraction = false;
  for (; i < text.size() && text[i] != 'e' && text[i] != 'E'; ++i) {
    if (text[i] == '.') {
      in_fraction = true;
      continue;
    }
    if (in_fraction) ++fraction_digits;                // also for zeros dropped below
    if (d.digits.empty() && text[i] == '0') continue;  // leading zero (of the digit string)
    d.digits.push_back(text[i]);
  }
  std::int64_t exponent = 0;
  if (i < text.size()) {
    ++i;  // 'e' or 'E'
    bool negative_exponent = false;
    if (text[i] == '+' || text[i] == '-') negative_exponent = text[i++] == '-';
    // Saturates: 10^(+-10^12) is out of every range we care about, and the
    // text is shorter than 10^12 digits.
    constexpr std::int64_t kSaturated = 1'000'000'000'000;
    for (; i < text.size(); ++i) {
      exponent = std::min<std::int64_t>(kSaturated, exponent * 10 + (text[i] - '0'));
    }
    if (negative_exponent) exponent = -exponent;
  }
  d.exponent = exponent - fraction_digits;
  while (!d.digits.empty() && d.digits.back() == '0') {
    d.digits.pop_back();
    ++d.exponent;
  }
  if (d.digits.empty()) d.exponent = 0;
  return d;
}

}  // namespace

// ---------------------------------------------------------------------------
// Parser

class JsonParser {
 public:
  explicit JsonParser(std::string_view text) : text_(text) {}

  absl::StatusOr<JsonValue> Parse() {
    // RFC 8259 section 8.1: a parser may ignore a byte order mark.
    if (text_.substr(0, 3) == "\xEF\xBB\xBF") pos_ = 3;
    JsonValue root;
    if (absl::Status s = ParseValue(root, 0); !s.ok()) return s;
    SkipWhitespace();
    if (!AtEnd()) return Error(fmt::format("unexpected {} after the JSON value", Describe()));
    return root;
  }

 private:
  bool AtEnd() const { return pos_ >= text_.size(); }
  char Peek() const { return text_[pos_]; }
  JsonPosition Here() const { return {line_, column_}; }

  void Advance() {
    const auto byte = static_cast<unsigned char>(text_[pos_++]);
    if (byte == '\n') {
      ++line_;
      column_ = 1;
    } else if ((byte & 0xC0) != 0x80) {  // not a UTF-8 continuation byte
      ++column_;
    }
  }

  void SkipWhitespace() {
    while (!AtEnd() && IsWhitespace(Peek())) Advance();
  }

  // The character under the cursor, for messages.
  std::string Describe() const {
    if (AtEnd()) return "end of input";
    const auto byte = static_cast<unsigned char>(Peek());
    if (byte == '\'') return "\"'\"";
    if (byte >= 0x20 && byte < 0x7F) return fmt::format("'{}'", static_cast<char>(byte));
    return fmt::format("byte 0x{:02X}", byte);
  }

  static absl::Status ErrorAt(JsonPosition at, std::string_view why) {
    return absl::InvalidArgumentError(
        fmt::format("line {}, column {}: {}", at.line, at.column, why));
  }
  absl::Status Error(std::string_view why) const { return ErrorAt(Here(), why); }

  absl::Status ParseValue(JsonValue& out, int depth) {
    SkipWhitespace();
    out.position_ = Here();
    if (AtEnd()) return Error("unexpected end of input (expected a value)");
    const char c = Peek();
    if (c == '{') return ParseObject(out, depth + 1);
    if (c == '[') return ParseArray(out, depth + 1);
    if (c == '"') {
      out.kind_ = JsonValue::Kind::kString;
      return ParseString(out.text_);
    }
    if (c == '-' || IsDigit(c)) {
      out.kind_ = JsonValue::Kind::kNumber;
      return ParseNumber(out.text_);
    }
    if (IsWordChar(c)) return ParseLiteral(out);
    return Error(fmt::format("unexpected {} (expected a value)", Describe()));
  }

  absl::Status CheckDepth(int depth) const {
    if (depth > kMaxJsonDepth) {
      return Error(fmt::format("arrays and objects nest deeper than {} levels", kMaxJsonDepth));
    }
    return absl::OkStatus();
  }

  absl::Status ParseObject(JsonValue& out, int depth) {
    if (absl::Status s = CheckDepth(depth); !s.ok()) return s;
    out.kind_ = JsonValue::Kind::kObject;
    Advance();  // '{'
    SkipWhitespace();
    if (!AtEnd() && Peek() == '}') {
      Advance();
      return absl::OkStatus();
    }
    absl::flat_hash_map<std::string, JsonPosition> seen;
    while (true) {
      SkipWhitespace();
      if (AtEnd() || Peek() != '"') {
        if (!AtEnd() && Peek() == '}' && !out.members_.empty())
          return Error("trailing comma before '}'");
        return Error(fmt::format("unexpected {} (expected a string key)", Describe()));
      }
      JsonMember member;
      member.key_position = Here();
      if (absl::Status s = ParseString(member.key); !s.ok()) return s;
      if (auto [it, inserted] = seen.try_emplace(member.key, member.key_position); !inserted) {
        return ErrorAt(member.key_position,
                       fmt::format("duplicate key {} (first at line {}, column {})",
                                   JsonQuote(member.key), it->second.line, it->second.column));
      }
      SkipWhitespace();
      if (AtEnd() || Peek() != ':') {
        return Error(fmt::format("unexpected {} (expected ':' after the key)", Describe()));
      }
      Advance();
      if (absl::Status s = ParseValue(member.value, depth); !s.ok()) return s;
      out.members_.push_back(std::move(member));
      SkipWhitespace();
      if (AtEnd()) return Error("unexpected end of input (expected ',' or '}')");
      if (Peek() == '}') {
        Advance();
        return absl::OkStatus();
      }
      if (Peek() != ',') {
        return Error(
            fmt::format("unexpected {} (expected ',' or '}}' after an object member)", Describe()));
      }
      Advance();
    }
  }

  absl::Status ParseArray(JsonValue& out, int depth) {
    if (absl::Status s = CheckDepth(depth); !s.ok()) return s;
    out.kind_ = JsonValue::Kind::kArray;
    Advance();  // '['
    SkipWhitespace();
    if (!AtEnd() && Peek() == ']') {
      Advance();
      return absl::OkStatus();
    }
    while (true) {
      SkipWhitespace();
      if (!AtEnd() && Peek() == ']' && !out.elements_.empty())
        return Error("trailing comma before ']'");
      JsonValue element;
      if (absl::Status s = ParseValue(element, depth); !s.ok()) return s;
      out.elements_.push_back(std::move(element));
      SkipWhitespace();
      if (AtEnd()) return Error("unexpected end of input (expected ',' or ']')");
      if (Peek() == ']') {
        Advance();
        return absl::OkStatus();
      }
      if (Peek() != ',') {
        return Error(
            fmt::format("unexpected {} (expected ',' or ']' after an array element)", Describe()));
      }
      Advance();
    }
  }

  // Four hex digits after "\u"; the cursor is on the first.
  absl::Status ParseHex4(std::uint32_t& out) {
    out = 0;
    for (int i = 0; i < 4; ++i) {
      if (AtEnd()) return Error("unexpected end of input in a \\u escape");
      const char c = Peek();
      std::uint32_t digit;
      if (IsDigit(c)) {
        digit = c - '0';
      } else if (c >= 'a' && c <= 'f') {
        digit = c - 'a' + 10;
      } else if (c >= 'A' && c <= 'F') {
        digit = c - 'A' + 10;
      } else {
        return Error(
            fmt::format("unexpected {} in a \\u escape (expected 4 hex digits)", Describe()));
      }
      out = out * 16 + digit;
      Advance();
    }
    return absl::OkStatus();
  }

  static void AppendUtf8(std::uint32_t cp, std::string& out) {
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }

  // The cursor is on the backslash.
  absl::Status ParseEscape(std::string& out) {
    const JsonPosition start = Here();
    Advance();  // '\'
    if (AtEnd()) return Error("unexpected end of input in an escape");
    const char c = Peek();
    switch (c) {
      case '"': out.push_back('"'); break;
      case '\\': out.push_back('\\'); break;
      case '/': out.push_back('/'); break;
      case 'b': out.push_back('\b'); break;
      case 'f': out.push_back('\f'); break;
      case 'n': out.push_back('\n'); break;
      case 'r': out.push_back('\r'); break;
      case 't': out.push_back('\t'); break;
      case 'u': {
        Advance();
        std::uint32_t unit;
        if (absl::Status s = ParseHex4(unit); !s.ok()) return s;
        if (unit >= 0xDC00 && unit <= 0xDFFF) {
          return ErrorAt(start,
                         fmt::format("\\u{:04X} is a low surrogate without a high one", unit));
        }
        if (unit >= 0xD800 && unit <= 0xDBFF) {
          if (text_.substr(pos_, 2) != "\\u") {
            return ErrorAt(start,
                           fmt::format("\\u{:04X} is a high surrogate without a low one", unit));
          }
          Advance();
          Advance();
          std::uint32_t low;
          if (absl::Status s = ParseHex4(low); !s.ok()) return s;
          if (low < 0xDC00 || low > 0xDFFF) {
            return ErrorAt(start,
                           fmt::format("\\u{:04X} is a high surrogate without a low one", unit));
          }
          unit = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
        }
        AppendUtf8(unit, out);
        return absl::OkStatus();
      }
      default:
        if (c >= 0x20 && c < 0x7F) return Error(fmt::format("unknown escape '\\{}'", c));
        return Error(fmt::format("a backslash followed by {} is no escape", Describe()));
    }
    Advance();
    return absl::OkStatus();
  }

  // One UTF-8 encoded character of 2-4 bytes (Unicode table 3-7: no
  // overlong forms, no surrogates, nothing above U+10FFFF).
  absl::Status CopyUtf8(std::string& out) {
    const auto lead = static_cast<unsigned char>(Peek());
    int continuation;
    unsigned char low = 0x80, high = 0xBF;  // range of the first continuation byte
    if (lead >= 0xC2 && lead <= 0xDF) {
      continuation = 1;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      continuation = 2;
      if (lead == 0xE0) low = 0xA0;
      if (lead == 0xED) high = 0x9F;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      continuation = 3;
      if (lead == 0xF0) low = 0x90;
      if (lead == 0xF4) high = 0x8F;
    } else {
      return Error(fmt::format("invalid UTF-8 in a string ({})", Describe()));
    }
    const JsonPosition start = Here();
    const std::size_t begin = pos_;
    for (int i = 1; i <= continuation; ++i) {
      if (begin + i >= text_.size()) return ErrorAt(start, "truncated UTF-8 sequence in a string");
      const auto byte = static_cast<unsigned char>(text_[begin + i]);
      const bool ok = i == 1 ? (byte >= low && byte <= high) : (byte >= 0x80 && byte <= 0xBF);
      if (!ok) return ErrorAt(start, "invalid UTF-8 in a string");
    }
    out.append(text_.substr(begin, continuation + 1));
    for (int i = 0; i <= continuation; ++i) Advance();
    return absl::OkStatus();
  }

  // The cursor is on the opening quote.
  absl::Status ParseString(std::string& out) {
    const JsonPosition start = Here();
    Advance();  // '"'
    while (true) {
      if (AtEnd()) {
        return Error(fmt::format("unterminated string (opened at line {}, column {})", start.line,
                                 start.column));
      }
      const auto byte = static_cast<unsigned char>(Peek());
      if (byte == '"') {
        Advance();
        return absl::OkStatus();
      }
      if (byte == '\\') {
        if (absl::Status s = ParseEscape(out); !s.ok()) return s;
      } else if (byte < 0x20) {
        return Error(
            fmt::format("control character U+{:04X} in a string (write it as an escape)", byte));
      } else if (byte < 0x80) {
        out.push_back(static_cast<char>(byte));
        Advance();
      } else if (absl::Status s = CopyUtf8(out); !s.ok()) {
        return s;
      }
    }
  }

  // -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
  absl::Status ParseNumber(std::string& out) {
    const std::size_t begin = pos_;
    if (Peek() == '-') Advance();
    if (AtEnd() || !IsDigit(Peek())) {
      return Error(fmt::format("unexpected {} (expected a digit after '-')", Describe()));
    }
    if (Peek() == '0') {
      Advance();
      if (!AtEnd() && IsDigit(Peek())) return Error("leading zeros are not allowed in numbers");
    } else {
      while (!AtEnd() && IsDigit(Peek())) Advance();
    }
    if (!AtEnd() && Peek() == '.') {
      Advance();
      if (AtEnd() || !IsDigit(Peek())) {
        return Error(fmt::format("unexpected {} (expected a digit after '.')", Describe()));
      }
      while (!AtEnd() && IsDigit(Peek())) Advance();
    }
    if (!AtEnd() && (Peek() == 'e' || Peek() == 'E')) {
      Advance();
      if (!AtEnd() && (Peek() == '+' || Peek() == '-')) Advance();
      if (AtEnd() || !IsDigit(Peek())) {
        return Error(fmt::format("unexpected {} (expected a digit in the exponent)", Describe()));
      }
      while (!AtEnd() && IsDigit(Peek())) Advance();
    }
    out.assign(text_.substr(begin, pos_ - begin));
    return absl::OkStatus();
  }

  absl::Status ParseLiteral(JsonValue& out) {
    const JsonPosition start = Here();
    const std::size_t begin = pos_;
    while (!AtEnd() && IsWordChar(Peek())) Advance();
    const std::string_view word = text_.substr(begin, pos_ - begin);
    if (word == "true" || word == "false") {
      out.kind_ = JsonValue::Kind::kBool;
      out.bool_ = word == "true";
      return absl::OkStatus();
    }
    if (word == "null") {
      out.kind_ = JsonValue::Kind::kNull;
      return absl::OkStatus();
    }
    constexpr std::size_t kShown = 20;
    return ErrorAt(start, fmt::format("unknown word '{}{}' (expected true, false, null, a number, "
                                      "a string, an array or an object)",
                                      word.substr(0, kShown), word.size() > kShown ? "..." : ""));
  }

  std::string_view text_;
  std::size_t pos_ = 0;
  int line_ = 1;
  int column_ = 1;
};

absl::StatusOr<JsonValue> ParseJson(std::string_view text) { return JsonParser(text).Parse(); }

// ---------------------------------------------------------------------------
// JsonValue

const std::string& JsonValue::string_value() const {
  return kind_ == Kind::kString ? text_ : EmptyString();
}

const std::string& JsonValue::number_text() const {
  return kind_ == Kind::kNumber ? text_ : EmptyString();
}

JsonValue JsonValue::Null(JsonPosition at) {
  JsonValue v;
  v.position_ = at;
  return v;
}

JsonValue JsonValue::Bool(bool value, JsonPosition at) {
  JsonValue v = Null(at);
  v.kind_ = Kind::kBool;
  v.bool_ = value;
  return v;
}

JsonValue JsonValue::Number(std::string text, JsonPosition at) {
  JsonValue v = Null(at);
  v.kind_ = Kind::kNumber;
  v.text_ = std::move(text);
  return v;
}

JsonValue JsonValue::String(std::string text, JsonPosition at) {
  JsonValue v = Null(at);
  v.kind_ = Kind::kString;
  v.text_ = std::move(text);
  return v;
}

JsonValue JsonValue::Array(std::vector<JsonValue> elements, JsonPosition at) {
  JsonValue v = Null(at);
  v.kind_ = Kind::kArray;
  v.elements_ = std::move(elements);
  return v;
}

JsonValue JsonValue::Object(std::vector<JsonMember> members, JsonPosition at) {
  JsonValue v = Null(at);
  v.kind_ = Kind::kObject;
  v.members_ = std::move(members);
  return v;
}

bool IsJsonNumber(std::string_view t) {
  std::size_t i = 0;
  auto digits = [&] {
    const std::size_t from = i;
    while (i < t.size() && t[i] >= '0' && t[i] <= '9') ++i;
    return i > from;
  };
  if (i < t.size() && t[i] == '-') ++i;
  if (i < t.size() && t[i] == '0') {
    ++i;
  } else if (i >= t.size() || t[i] < '1' || t[i] > '9' || !digits()) {
    return false;
  }
  if (i < t.size() && t[i] == '.') {
    ++i;
    if (!digits()) return false;
  }
  if (i < t.size() && (t[i] == 'e' || t[i] == 'E')) {
    ++i;
    if (i < t.size() && (t[i] == '+' || t[i] == '-')) ++i;
    if (!digits()) return false;
  }
  return i == t.size();
}

const JsonValue* JsonValue::Find(std::string_view key) const {
  for (const JsonMember& m : members_)
    if (m.key == key) return &m.value;
  return nullptr;
}

std::string_view JsonValue::KindName() const {
  switch (kind_) {
    case Kind::kNull: return "null";
    case Kind::kBool: return "a boolean";
    case Kind::kNumber: return "a number";
    case Kind::kString: return "a string";
    case Kind::kArray: return "an array";
    case Kind::kObject: return "an object";
  }
  return "?";
}

absl::StatusOr<bool> JsonValue::AsBool() const {
  if (kind_ != Kind::kBool) {
    return absl::InvalidArgumentError(fmt::format("expected a boolean, got {}", KindName()));
  }
  return bool_;
}

absl::StatusOr<std::string> JsonValue::AsString() const {
  if (kind_ != Kind::kString) {
    return absl::InvalidArgumentError(fmt::format("expected a string, got {}", KindName()));
  }
  return text_;
}

absl::StatusOr<std::int64_t> JsonValue::AsInt64() const {
  if (kind_ != Kind::kNumber) {
    return absl::InvalidArgumentError(fmt::format("expected an integer, got {}", KindName()));
  }
  const Decimal d = Decompose(text_);
  if (d.digits.empty()) return 0;
  if (d.exponent < 0) return absl::InvalidArgumentError("not an integer");
  constexpr auto kOutOfRange = "outside the 64-bit integer range";
  // 10^19 > 2^63: more than 19 digits cannot fit.
  if (static_cast<std::int64_t>(d.digits.size()) + d.exponent > 19)
    return absl::InvalidArgumentError(kOutOfRange);
  std::uint64_t magnitude = 0;  // < 10^19 < 2^64: cannot wrap
  for (char c : d.digits) magnitude = magnitude * 10 + static_cast<std::uint64_t>(c - '0');
  for (std::int64_t i = 0; i < d.exponent; ++i) magnitude *= 10;
  constexpr auto kMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  if (magnitude > kMax + (d.negative ? 1 : 0)) return absl::InvalidArgumentError(kOutOfRange);
  if (!d.negative) return static_cast<std::int64_t>(magnitude);
  if (magnitude == kMax + 1) return std::numeric_limits<std::int64_t>::min();
  return -static_cast<std::int64_t>(magnitude);
}

absl::StatusOr<double> JsonValue::AsDouble() const {
  if (kind_ != Kind::kNumber) {
    return absl::InvalidArgumentError(fmt::format("expected a number, got {}", KindName()));
  }
  double value = 0;
  const char* const end = text_.data() + text_.size();
  const auto [ptr, ec] = std::from_chars(text_.data(), end, value);
  if (ec == std::errc::result_out_of_range) {
    // The value lies in [10^(order-1), 10^order): tiny ones underflow to zero.
    const Decimal d = Decompose(text_);
    if (static_cast<std::int64_t>(d.digits.size()) + d.exponent <= 0) {
      return d.negative ? -0.0 : 0.0;
    }
    return absl::InvalidArgumentError("outside the range of a double");
  }
  if (ec != std::errc() || ptr != end) {
    return absl::InvalidArgumentError("not a number");  // unreachable for parsed values
  }
  return value;
}

std::string JsonValue::Summary() const {
  constexpr std::size_t kShown = 40;
  switch (kind_) {
    case Kind::kNull: return "null";
    case Kind::kBool: return bool_ ? "true" : "false";
    case Kind::kNumber: return text_.size() <= kShown ? text_ : text_.substr(0, kShown) + "...";
    case Kind::kString: {
      if (text_.size() <= kShown) return JsonQuote(text_);
      std::size_t cut = kShown;
      // Never cut inside a UTF-8 sequence.
      while (cut > 0 && (static_cast<unsigned char>(text_[cut]) & 0xC0) == 0x80) --cut;
      std::string quoted = JsonQuote(text_.substr(0, cut));
      quoted.insert(quoted.size() - 1, "...");
      return quoted;
    }
    case Kind::kArray: return elements_.empty() ? "[]" : "[...]";
    case Kind::kObject: return members_.empty() ? "{}" : "{...}";
  }
  return "?";
}

std::string JsonQuote(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  out.push_back('"');
  for (char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\u{:04X}", static_cast<unsigned char>(c));
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
  return out;
}

}  // namespace mlsched::internal
