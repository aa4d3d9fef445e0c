// A small, strict JSON reader (RFC 8259) for configuration documents.
//
// mlsched depends on Debian packages only and carries no JSON library; this
// parser covers what configuration needs and nothing more. ParseJson() builds
// a DOM of JsonValue: null, booleans, numbers, strings, arrays and objects.
// Every value remembers where it starts (1-based line and column, the column
// counted in characters, not bytes), so that callers can point at the
// offending spot in their own messages.
//
// Strict means: exactly one value per text, surrounded only by JSON
// whitespace (a leading UTF-8 byte order mark is skipped); no comments, no
// trailing commas, no single quotes, no NaN or Infinity, no leading zeros;
// strings are valid UTF-8 without raw control characters, and \u escapes
// that are unpaired surrogates are errors; duplicate keys in one object are
// errors; nesting deeper than kMaxJsonDepth is an error. Object members keep
// their document order.
//
// Numbers keep their text. AsInt64() accepts any number that is exactly an
// integer in the int64 range ("3", "-0", "1e3", "2.50e1"), computed from the
// decimal text, never through a double; AsDouble() rounds to nearest.
//
// Errors are absl::InvalidArgumentError "line L, column C: <why>". No
// exceptions; the recursion is bounded by kMaxJsonDepth.
//
//   absl::StatusOr<JsonValue> doc = ParseJson(R"({"depth": 4})");
//   if (const JsonValue* depth = doc->Find("depth")) {
//     absl::StatusOr<std::int64_t> n = depth->AsInt64();  // 4
//   }
//
// Thread-safety: a JsonValue is a plain value; const access from many threads
// is safe.
#ifndef MLSCHED_INTERNAL_JSON_H_
#define MLSCHED_INTERNAL_JSON_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace mlsched::internal {

// Arrays and objects may nest this deep; the top-level value is at depth 1.
inline constexpr int kMaxJsonDepth = 64;

struct JsonPosition {
  int line = 1;    // 1-based
  int column = 1;  // 1-based, in characters (UTF-8 continuation bytes do not count)
  friend bool operator==(const JsonPosition&, const JsonPosition&) = default;
};

struct JsonMember;

class JsonValue {
 public:
  enum class Kind { kNull, kBool, kNumber, kString, kArray, kObject };

  JsonValue() = default;  // null at line 1, column 1

  Kind kind() const { return kind_; }
  JsonPosition position() const { return position_; }
  bool is_null() const { return kind_ == Kind::kNull; }
  bool is_bool() const { return kind_ == Kind::kBool; }
  bool is_number() const { return kind_ == Kind::kNumber; }
  bool is_string() const { return kind_ == Kind::kString; }
  bool is_array() const { return kind_ == Kind::kArray; }
  bool is_object() const { return kind_ == Kind::kObject; }

  // Unchecked views; each is empty (false, "", no elements) for a value of
  // another kind.
  bool bool_value() const { return bool_; }
  // The unescaped text of a string (UTF-8).
  const std::string& string_value() const;
  // The number as written in the document ("-1.5e3").
  const std::string& number_text() const;
  const std::vector<JsonValue>& elements() const { return elements_; }
  const std::vector<JsonMember>& members() const { return members_; }

  // The member called `key` of an object, or null (also for non-objects).
  const JsonValue* Find(std::string_view key) const;

  // Checked access. Errors (kInvalidArgument) say why, not where: callers
  // know the path and position() and put them in front.
  absl::StatusOr<bool> AsBool() const;
  absl::StatusOr<std::string> AsString() const;
  // Numbers that are exactly an integer in [INT64_MIN, INT64_MAX].
  absl::StatusOr<std::int64_t> AsInt64() const;
  // Numbers whose magnitude fits a double (underflow gives 0).
  absl::StatusOr<double> AsDouble() const;

  // "null", "a boolean", "a number", "a string", "an array", "an object".
  std::string_view KindName() const;
  // A short JSON rendering for error messages: scalars as written (strings
  // quoted; strings and numbers cut after 40 characters, marked "..."),
  // containers as {...} and [...].
  std::string Summary() const;

  // Builders, for readers of other formats that produce this DOM (YAML:
  // internal/yaml.h). Number() takes text that IsJsonNumber() accepts.
  static JsonValue Null(JsonPosition at);
  static JsonValue Bool(bool value, JsonPosition at);
  static JsonValue Number(std::string text, JsonPosition at);
  static JsonValue String(std::string text, JsonPosition at);
  static JsonValue Array(std::vector<JsonValue> elements, JsonPosition at);
  static JsonValue Object(std::vector<JsonMember> members, JsonPosition at);

 private:
  friend class JsonParser;
  Kind kind_ = Kind::kNull;
  JsonPosition position_;
  bool bool_ = false;
  std::string text_;  // string value, or number text
  std::vector<JsonValue> elements_;
  std::vector<JsonMember> members_;
};

struct JsonMember {
  std::string key;
  JsonPosition key_position;  // of the opening quote of the key
  JsonValue value;
};

// Parses one JSON text.
absl::StatusOr<JsonValue> ParseJson(std::string_view text);

// Whether `text` is a number in JSON's grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
bool IsJsonNumber(std::string_view text);

// `text` as a JSON string literal, quotes included. Control characters,
// '"' and '\' are escaped; other bytes are copied as they are.
std::string JsonQuote(std::string_view text);

}  // namespace mlsched::internal

#endif  // MLSCHED_INTERNAL_JSON_H_
