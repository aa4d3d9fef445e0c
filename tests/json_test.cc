// The strict JSON reader behind policy documents (src/internal/json.h):
// values and their positions, strings and escapes, integers computed from
// the decimal text, every kind of syntax error with its line and column, and
// properties over random and mutated texts.
#include "internal/json.h"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <iterator>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "fmt/format.h"
#include "gtest/gtest.h"
#include "rapidcheck.h"
#include "rapidcheck/gtest.h"
#include "json_dom.h"
#include "status_matchers.h"

namespace mlsched::internal {
namespace {

using testing_util::FailsMentioning;
using testing_util::FailsWithMessage;

JsonValue MustParse(std::string_view text) {
  absl::StatusOr<JsonValue> v = ParseJson(text);
  EXPECT_TRUE(v.ok()) << v.status() << "\n  text: " << text;
  return v.ok() ? *std::move(v) : JsonValue();
}

absl::Status ParseError(std::string_view text) { return ParseJson(text).status(); }

using testing_util::CompactJson;

// ---------------------------------------------------------------------------
// Values

TEST(JsonParser, ReadsEveryKindOfValue) {
  const JsonValue v = MustParse(
      R"({"n": null, "t": true, "f": false, "i": -12, "x": 1.5e3, "s": "hi", "a": [1, [2]], "o": {}})");
  ASSERT_TRUE(v.is_object());
  EXPECT_TRUE(v.Find("n")->is_null());
  EXPECT_TRUE(v.Find("t")->is_bool());
  EXPECT_TRUE(v.Find("t")->bool_value());
  EXPECT_FALSE(v.Find("f")->bool_value());
  EXPECT_EQ(v.Find("i")->number_text(), "-12");
  EXPECT_EQ(v.Find("x")->number_text(), "1.5e3");
  EXPECT_EQ(v.Find("s")->string_value(), "hi");
  ASSERT_TRUE(v.Find("a")->is_array());
  ASSERT_EQ(v.Find("a")->elements().size(), 2u);
  EXPECT_TRUE(v.Find("a")->elements()[1].is_array());
  EXPECT_TRUE(v.Find("o")->is_object());
  EXPECT_TRUE(v.Find("o")->members().empty());
}

TEST(JsonParser, ReadsScalarsAtTopLevel) {
  EXPECT_TRUE(MustParse("null").is_null());
  EXPECT_EQ(MustParse(" 42 ").number_text(), "42");
  EXPECT_EQ(MustParse("\"x\"").string_value(), "x");
  EXPECT_TRUE(MustParse("\t\r\n[]\n").is_array());
}

TEST(JsonParser, KeepsObjectMembersInDocumentOrder) {
  const JsonValue v = MustParse(R"({"zeta": 1, "alpha": 2, "mid": 3})");
  ASSERT_EQ(v.members().size(), 3u);
  EXPECT_EQ(v.members()[0].key, "zeta");
  EXPECT_EQ(v.members()[1].key, "alpha");
  EXPECT_EQ(v.members()[2].key, "mid");
}

TEST(JsonParser, FindReturnsNullForMissingKeysAndNonObjects) {
  const JsonValue v = MustParse(R"({"a": [1]})");
  EXPECT_EQ(v.Find("b"), nullptr);
  EXPECT_EQ(v.Find("a")->Find("a"), nullptr);
}

TEST(JsonParser, UncheckedViewsOfAnotherKindAreEmpty) {
  const JsonValue v = MustParse("[1]");
  EXPECT_EQ(v.string_value(), "");
  EXPECT_EQ(v.number_text(), "");
  EXPECT_FALSE(v.bool_value());
  EXPECT_TRUE(v.members().empty());
}

TEST(JsonParser, RecordsLineAndColumnOfEveryValueAndKey) {
  const JsonValue v = MustParse("{\n  \"a\": 1,\n  \"bb\":\n    [true, \"x\"]\n}");
  EXPECT_EQ(v.position(), (JsonPosition{1, 1}));
  EXPECT_EQ(v.members()[0].key_position, (JsonPosition{2, 3}));
  EXPECT_EQ(v.members()[0].value.position(), (JsonPosition{2, 8}));
  EXPECT_EQ(v.members()[1].key_position, (JsonPosition{3, 3}));
  const JsonValue& array = v.members()[1].value;
  EXPECT_EQ(array.position(), (JsonPosition{4, 5}));
  EXPECT_EQ(array.elements()[0].position(), (JsonPosition{4, 6}));
  EXPECT_EQ(array.elements()[1].position(), (JsonPosition{4, 12}));
}

TEST(JsonParser, CountsColumnsInCharactersNotBytes) {
  // "é" is two bytes and "😀" four; each is one column.
  const JsonValue v = MustParse("[\"é😀\", 7]");
  EXPECT_EQ(v.elements()[1].position(), (JsonPosition{1, 8}));
}

TEST(JsonParser, CountsCarriageReturnLineFeedAsOneLineBreak) {
  const JsonValue v = MustParse("[\r\n1,\r\n  2]");
  EXPECT_EQ(v.elements()[0].position(), (JsonPosition{2, 1}));
  EXPECT_EQ(v.elements()[1].position(), (JsonPosition{3, 3}));
}

TEST(JsonParser, SkipsALeadingByteOrderMark) {
  const JsonValue v = MustParse("\xEF\xBB\xBF[1]");
  ASSERT_TRUE(v.is_array());
  EXPECT_EQ(v.elements()[0].position(), (JsonPosition{1, 2}));
}

TEST(JsonParser, AcceptsNestingOfExactlyTheMaximumDepth) {
  const std::string text = std::string(kMaxJsonDepth, '[') + std::string(kMaxJsonDepth, ']');
  EXPECT_TRUE(ParseJson(text).ok());
  std::string objects;
  for (int i = 0; i < kMaxJsonDepth - 1; ++i) objects += "{\"a\":";
  objects += "{}" + std::string(kMaxJsonDepth - 1, '}');
  EXPECT_TRUE(ParseJson(objects).ok());
}

// ---------------------------------------------------------------------------
// Strings

TEST(JsonStrings, DecodesEveryShortEscape) {
  EXPECT_EQ(MustParse(R"("\" \\ \/ \b \f \n \r \t")").string_value(), "\" \\ / \b \f \n \r \t");
}

TEST(JsonStrings, DecodesUnicodeEscapesToUtf8) {
  EXPECT_EQ(MustParse(R"("\u0041\u00e9\u20AC")").string_value(), "A\xC3\xA9\xE2\x82\xAC");
}

TEST(JsonStrings, CombinesSurrogatePairsIntoOneCharacter) {
  EXPECT_EQ(MustParse(R"("\uD83D\uDE00")").string_value(), "\xF0\x9F\x98\x80");  // U+1F600
  EXPECT_EQ(MustParse(R"("\udbff\udfff")").string_value(), "\xF4\x8F\xBF\xBF");  // U+10FFFF
}

TEST(JsonStrings, KeepsAnEscapedNulCharacter) {
  EXPECT_EQ(MustParse(R"("a\u0000b")").string_value(), std::string("a\0b", 3));
}

TEST(JsonStrings, CopiesValidUtf8AsItIs) {
  const std::string text = "\"\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xEF\xBF\xBF\"";
  EXPECT_EQ(MustParse(text).string_value(), text.substr(1, text.size() - 2));
}

TEST(JsonStrings, QuoteEscapesWhatJsonRequires) {
  EXPECT_EQ(JsonQuote("a\"b\\c\n\x01"), R"("a\"b\\c\n\u0001")");
  EXPECT_EQ(JsonQuote(std::string("\0", 1)), R"("\u0000")");
  EXPECT_EQ(JsonQuote("\xC3\xA9"), "\"\xC3\xA9\"");
}

// ---------------------------------------------------------------------------
// Checked access

TEST(JsonAccess, AsInt64AcceptsNumbersThatAreExactlyIntegers) {
  const std::vector<std::pair<std::string, std::int64_t>> cases = {
      {"0", 0},
      {"-0", 0},
      {"42", 42},
      {"-42", -42},
      {"1e3", 1000},
      {"1E+3", 1000},
      {"2.50e1", 25},
      {"1.0", 1},
      {"100e-2", 1},
      {"0.000", 0},
      {"0e999999999999999999999", 0},
      {"9223372036854775807", std::numeric_limits<std::int64_t>::max()},
      {"-9223372036854775808", std::numeric_limits<std::int64_t>::min()},
      {"9.223372036854775807e18", std::numeric_limits<std::int64_t>::max()},
  };
  for (const auto& [text, expected] : cases) {
    absl::StatusOr<std::int64_t> n = MustParse(text).AsInt64();
    ASSERT_TRUE(n.ok()) << text << ": " << n.status();
    EXPECT_EQ(*n, expected) << text;
  }
}

TEST(JsonAccess, AsInt64RejectsFractionsAndOutOfRangeNumbers) {
  for (std::string_view text : {"1.5", "-0.1", "1e-1", "1e-400", "12345.6789e2"}) {
    EXPECT_TRUE(FailsWithMessage(MustParse(text).AsInt64().status(), "not an integer")) << text;
  }
  for (std::string_view text :
       {"9223372036854775808", "-9223372036854775809", "1e19", "1e400", "1e999999999999999999"}) {
    EXPECT_TRUE(
        FailsWithMessage(MustParse(text).AsInt64().status(), "outside the 64-bit integer range"))
        << text;
  }
}

TEST(JsonAccess, CheckedAccessorsNameTheKindTheyGot) {
  EXPECT_TRUE(
      FailsWithMessage(MustParse("\"3\"").AsInt64().status(), "expected an integer, got a string"));
  EXPECT_TRUE(
      FailsWithMessage(MustParse("[]").AsDouble().status(), "expected a number, got an array"));
  EXPECT_TRUE(
      FailsWithMessage(MustParse("1").AsBool().status(), "expected a boolean, got a number"));
  EXPECT_TRUE(
      FailsWithMessage(MustParse("null").AsString().status(), "expected a string, got null"));
  EXPECT_TRUE(
      FailsWithMessage(MustParse("{}").AsBool().status(), "expected a boolean, got an object"));
  EXPECT_EQ(*MustParse("true").AsBool(), true);
  EXPECT_EQ(*MustParse("\"s\"").AsString(), "s");
}

TEST(JsonAccess, AsDoubleRoundsAndUnderflowsToZero) {
  EXPECT_EQ(*MustParse("1.5").AsDouble(), 1.5);
  EXPECT_EQ(*MustParse("-2e-3").AsDouble(), -0.002);
  EXPECT_EQ(*MustParse("1e-400").AsDouble(), 0.0);
  const double negative_zero = *MustParse("-1e-400").AsDouble();
  EXPECT_EQ(negative_zero, 0.0);
  EXPECT_TRUE(std::signbit(negative_zero));
  EXPECT_TRUE(
      FailsWithMessage(MustParse("1e400").AsDouble().status(), "outside the range of a double"));
}

TEST(JsonAccess, SummaryShowsScalarsAndAbbreviatesContainersAndLongStrings) {
  EXPECT_EQ(MustParse("null").Summary(), "null");
  EXPECT_EQ(MustParse("false").Summary(), "false");
  EXPECT_EQ(MustParse("-1.50").Summary(), "-1.50");
  EXPECT_EQ(MustParse(std::string(60, '9')).Summary(), std::string(40, '9') + "...");
  EXPECT_EQ(MustParse(R"("a\"b")").Summary(), R"("a\"b")");
  EXPECT_EQ(MustParse("[]").Summary(), "[]");
  EXPECT_EQ(MustParse("[1]").Summary(), "[...]");
  EXPECT_EQ(MustParse("{}").Summary(), "{}");
  EXPECT_EQ(MustParse(R"({"a":1})").Summary(), "{...}");
  EXPECT_EQ(MustParse("\"" + std::string(50, 'x') + "\"").Summary(),
            "\"" + std::string(40, 'x') + "...\"");
  // Never cut inside a UTF-8 sequence: 39 ASCII characters, then "é".
  EXPECT_EQ(MustParse("\"" + std::string(39, 'x') + "\xC3\xA9yy\"").Summary(),
            "\"" + std::string(39, 'x') + "...\"");
  EXPECT_EQ(MustParse("[1]").KindName(), "an array");
}

// ---------------------------------------------------------------------------
// Errors, each with its line and column

struct BadText {
  std::string text;
  std::string message;
};

TEST(JsonErrors, SayWhereAndWhyForEverySyntaxError) {
  const std::vector<BadText> cases = {
      {"", "line 1, column 1: unexpected end of input (expected a value)"},
      {"   ", "line 1, column 4: unexpected end of input (expected a value)"},
      {"[1,", "line 1, column 4: unexpected end of input (expected a value)"},
      {"[1", "line 1, column 3: unexpected end of input (expected ',' or ']')"},
      {"{\"a\": 1", "line 1, column 8: unexpected end of input (expected ',' or '}')"},
      {"{\"a\": 1,}", "line 1, column 9: trailing comma before '}'"},
      {"[1,]", "line 1, column 4: trailing comma before ']'"},
      {"[1 2]", "line 1, column 4: unexpected '2' (expected ',' or ']' after an array element)"},
      {"{\"a\": 1 \"b\": 2}",
       "line 1, column 9: unexpected '\"' (expected ',' or '}' after an object member)"},
      {"{\"a\" 1}", "line 1, column 6: unexpected '1' (expected ':' after the key)"},
      {"{a: 1}", "line 1, column 2: unexpected 'a' (expected a string key)"},
      {"{'a': 1}", "line 1, column 2: unexpected \"'\" (expected a string key)"},
      {"{,}", "line 1, column 2: unexpected ',' (expected a string key)"},
      {"{\"a\": 1, \"a\": 2}",
       "line 1, column 10: duplicate key \"a\" (first at line 1, column 2)"},
      {"1 2", "line 1, column 3: unexpected '2' after the JSON value"},
      {"{} x", "line 1, column 4: unexpected 'x' after the JSON value"},
      {"[] \x01", "line 1, column 4: unexpected byte 0x01 after the JSON value"},
      {"01", "line 1, column 2: leading zeros are not allowed in numbers"},
      {"-01", "line 1, column 3: leading zeros are not allowed in numbers"},
      {"-", "line 1, column 2: unexpected end of input (expected a digit after '-')"},
      {"-x", "line 1, column 2: unexpected 'x' (expected a digit after '-')"},
      {"1.", "line 1, column 3: unexpected end of input (expected a digit after '.')"},
      {"1.e5", "line 1, column 3: unexpected 'e' (expected a digit after '.')"},
      {"1e", "line 1, column 3: unexpected end of input (expected a digit in the exponent)"},
      {"1e+", "line 1, column 4: unexpected end of input (expected a digit in the exponent)"},
      {".5", "line 1, column 1: unexpected '.' (expected a value)"},
      {"+1", "line 1, column 1: unexpected '+' (expected a value)"},
      {"NaN",
       "line 1, column 1: unknown word 'NaN' (expected true, false, null, a number, a string, an "
       "array or an object)"},
      {"[tru]",
       "line 1, column 2: unknown word 'tru' (expected true, false, null, a number, a string, an "
       "array or an object)"},
      {"nulll",
       "line 1, column 1: unknown word 'nulll' (expected true, false, null, a number, a string, an "
       "array or an object)"},
      {std::string(30, 'a'),
       "line 1, column 1: unknown word 'aaaaaaaaaaaaaaaaaaaa...' (expected true, false, null, a "
       "number, a string, an array or an object)"},
      {"// comment\n{}", "line 1, column 1: unexpected '/' (expected a value)"},
      {"\"abc", "line 1, column 5: unterminated string (opened at line 1, column 1)"},
      {"\"a\nb\"",
       "line 1, column 3: control character U+000A in a string (write it as an escape)"},
      {"\"a\tb\"",
       "line 1, column 3: control character U+0009 in a string (write it as an escape)"},
      {"\"\\x\"", "line 1, column 3: unknown escape '\\x'"},
      {"\"\\", "line 1, column 3: unexpected end of input in an escape"},
      {"\"\\u12G4\"", "line 1, column 6: unexpected 'G' in a \\u escape (expected 4 hex digits)"},
      {"\"\\u12", "line 1, column 6: unexpected end of input in a \\u escape"},
      {"\"\\uD800\"", "line 1, column 2: \\uD800 is a high surrogate without a low one"},
      {"\"\\uD800\\u0041\"", "line 1, column 2: \\uD800 is a high surrogate without a low one"},
      {"\"\\uD800x\"", "line 1, column 2: \\uD800 is a high surrogate without a low one"},
      {"\"\\uDC00\"", "line 1, column 2: \\uDC00 is a low surrogate without a high one"},
      {"\"\xC3\x28\"", "line 1, column 2: invalid UTF-8 in a string"},
      {"\"\xC0\xAF\"", "line 1, column 2: invalid UTF-8 in a string (byte 0xC0)"},
      {"\"\xED\xA0\x80\"", "line 1, column 2: invalid UTF-8 in a string"},      // a surrogate
      {"\"\xF4\x90\x80\x80\"", "line 1, column 2: invalid UTF-8 in a string"},  // > U+10FFFF
      {"\"\xE0\x80\x80\"", "line 1, column 2: invalid UTF-8 in a string"},      // overlong
      {"\"\x80\"", "line 1, column 2: invalid UTF-8 in a string (byte 0x80)"},
      {"\"ab\xE2\x82", "line 1, column 4: truncated UTF-8 sequence in a string"},
      {"{\n  \"a\": [1,\n    2,,\n  ]\n}", "line 3, column 7: unexpected ',' (expected a value)"},
      {"[\"\xC3\xA9\", x]",
       "line 1, column 7: unknown word 'x' (expected true, false, null, a "
       "number, a string, an array or an object)"},
      {"\xEF\xBB\xBF[x]",
       "line 1, column 2: unknown word 'x' (expected true, false, null, a "
       "number, a string, an array or an object)"},
  };
  for (const BadText& c : cases) {
    EXPECT_TRUE(FailsWithMessage(ParseError(c.text), c.message)) << "text: " << c.text;
  }
}

TEST(JsonErrors, RejectsNestingDeeperThanTheMaximum) {
  const std::string arrays =
      std::string(kMaxJsonDepth + 1, '[') + std::string(kMaxJsonDepth + 1, ']');
  EXPECT_TRUE(FailsWithMessage(ParseError(arrays),
                               "line 1, column 65: arrays and objects nest deeper than 64 levels"));
  std::string mixed;
  for (int i = 0; i < kMaxJsonDepth; ++i) mixed += i % 2 ? "{\"k\":" : "[";
  mixed += "{}";
  EXPECT_TRUE(FailsMentioning(ParseError(mixed), {"nest deeper than 64 levels"}));
}

TEST(JsonErrors, HostileDepthFailsCleanlyInsteadOfOverflowingTheStack) {
  EXPECT_TRUE(FailsMentioning(ParseError(std::string(1'000'000, '[')), {"nest deeper"}));
}

TEST(JsonErrors, DuplicateKeysCompareTheDecodedText) {
  EXPECT_TRUE(
      FailsWithMessage(ParseError(R"({"ab": 1, "a\u0062": 2})"),
                       "line 1, column 11: duplicate key \"ab\" (first at line 1, column 2)"));
  // Different objects may reuse keys.
  EXPECT_TRUE(ParseJson(R"({"a": {"a": 1}, "b": {"a": 2}})").ok());
}

// ---------------------------------------------------------------------------
// Properties

// A random JSON text with random whitespace; values nest at most `depth`.
std::string GenJsonText(int depth) {
  static const std::string kSpace[] = {"", " ", "\n", "\t", "\r\n", "  "};
  const auto ws = [] { return kSpace[*rc::gen::inRange(0, 6)]; };
  const int kind = *rc::gen::inRange(0, depth > 0 ? 7 : 5);
  switch (kind) {
    case 0: return *rc::gen::element<std::string>("null", "true", "false");
    case 1: return std::to_string(*rc::gen::arbitrary<std::int64_t>());
    case 2: return *rc::gen::element<std::string>("0.5", "-1e-7", "3E+2", "-0", "12.25e1", "1e400");
    case 3:
    case 4: {
      std::string s;
      for (char c : *rc::gen::container<std::string>(rc::gen::inRange<char>(0x20, 0x7F))) s += c;
      s += *rc::gen::element<std::string>("", "\xC3\xA9", "\xF0\x9F\x98\x80", "\x01", "\"", "\\");
      return JsonQuote(s);
    }
    case 5: {
      const int n = *rc::gen::inRange(0, 4);
      std::string out = "[" + ws();
      for (int i = 0; i < n; ++i) out += (i ? "," + ws() : "") + GenJsonText(depth - 1) + ws();
      return out + "]";
    }
    default: {
      const int n = *rc::gen::inRange(0, 4);
      std::string out = "{" + ws();
      for (int i = 0; i < n; ++i) {
        out += (i ? "," + ws() : "") + JsonQuote(fmt::format("k{}", i)) + ws() + ":" + ws() +
               GenJsonText(depth - 1) + ws();
      }
      return out + "}";
    }
  }
}

// The byte offset of a (line, column) position in `text`.
std::size_t OffsetOf(std::string_view text, JsonPosition at) {
  std::size_t i = 0;
  for (int line = 1; line < at.line; ++line) i = text.find('\n', i) + 1;
  for (int column = 1; column < at.column; ++column) {
    ++i;
    while (i < text.size() && (static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) ++i;
  }
  return i;
}

// Every value's position is the first character of its text.
void CheckPositions(std::string_view text, const JsonValue& v) {
  const std::size_t at = OffsetOf(text, v.position());
  RC_ASSERT(at < text.size());
  const char c = text[at];
  switch (v.kind()) {
    case JsonValue::Kind::kNull: RC_ASSERT(c == 'n'); break;
    case JsonValue::Kind::kBool: RC_ASSERT(c == (v.bool_value() ? 't' : 'f')); break;
    case JsonValue::Kind::kNumber:
      RC_ASSERT(text.substr(at, v.number_text().size()) == v.number_text());
      break;
    case JsonValue::Kind::kString: RC_ASSERT(c == '"'); break;
    case JsonValue::Kind::kArray:
      RC_ASSERT(c == '[');
      for (const JsonValue& e : v.elements()) CheckPositions(text, e);
      break;
    case JsonValue::Kind::kObject:
      RC_ASSERT(c == '{');
      for (const JsonMember& m : v.members()) {
        RC_ASSERT(text[OffsetOf(text, m.key_position)] == '"');
        CheckPositions(text, m.value);
      }
      break;
  }
}

RC_GTEST_PROP(JsonProperties, ValidTextsParseAndEveryPositionPointsAtItsValue, ()) {
  const std::string text = GenJsonText(*rc::gen::inRange(0, 5));
  absl::StatusOr<JsonValue> v = ParseJson(text);
  RC_ASSERT(v.ok());
  CheckPositions(text, *v);
}

RC_GTEST_PROP(JsonProperties, SerializingAParsedValueAndParsingAgainGivesTheSameValue, ()) {
  const std::string text = GenJsonText(*rc::gen::inRange(0, 5));
  absl::StatusOr<JsonValue> v = ParseJson(text);
  RC_ASSERT(v.ok());
  const std::string once = CompactJson(*v);
  absl::StatusOr<JsonValue> again = ParseJson(once);
  RC_ASSERT(again.ok());
  RC_ASSERT(CompactJson(*again) == once);
}

RC_GTEST_PROP(JsonProperties, QuotedStringsOfAnyCharactersReadBackUnchanged, ()) {
  // Code points of every UTF-8 length, surrogates excluded.
  const auto points = *rc::gen::container<std::vector<std::uint32_t>>(rc::gen::oneOf(
      rc::gen::inRange<std::uint32_t>(0, 0x80), rc::gen::inRange<std::uint32_t>(0x80, 0x800),
      rc::gen::inRange<std::uint32_t>(0x800, 0xD800),
      rc::gen::inRange<std::uint32_t>(0xE000, 0x10000),
      rc::gen::inRange<std::uint32_t>(0x10000, 0x110000)));
  std::string s;
  for (std::uint32_t cp : points) {
    if (cp < 0x80) {
      s += static_cast<char>(cp);
    } else if (cp < 0x800) {
      s += static_cast<char>(0xC0 | (cp >> 6));
      s += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      s += static_cast<char>(0xE0 | (cp >> 12));
      s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      s += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      s += static_cast<char>(0xF0 | (cp >> 18));
      s += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      s += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }
  absl::StatusOr<JsonValue> v = ParseJson(JsonQuote(s));
  RC_ASSERT(v.ok());
  RC_ASSERT(v->string_value() == s);
}

RC_GTEST_PROP(JsonProperties, IntegersReadBackExactly, (std::int64_t n)) {
  RC_ASSERT(*MustParse(std::to_string(n)).AsInt64() == n);
  RC_ASSERT(*MustParse(std::to_string(n) + ".000").AsInt64() == n);
  if (n % 1000 == 0) RC_ASSERT(*MustParse(fmt::format("{}e3", n / 1000)).AsInt64() == n);
}

// An error's position lies inside the text (or just past its end).
void CheckErrorPosition(std::string_view text, const absl::Status& s) {
  RC_ASSERT(s.code() == absl::StatusCode::kInvalidArgument);
  int line = 0, column = 0;
  RC_ASSERT(std::sscanf(std::string(s.message()).c_str(), "line %d, column %d: ", &line, &column) ==
            2);
  RC_ASSERT(line >= 1);
  RC_ASSERT(column >= 1);
  const std::size_t at = OffsetOf(text, {line, column});
  RC_ASSERT(at <= text.size());
}

RC_GTEST_PROP(JsonProperties, RandomBytesNeverCrashTheParserAndErrorsPointInsideTheText, ()) {
  const auto bytes = *rc::gen::container<std::string>(rc::gen::arbitrary<char>());
  absl::StatusOr<JsonValue> v = ParseJson(bytes);
  if (!v.ok()) CheckErrorPosition(bytes, v.status());
}

RC_GTEST_PROP(JsonProperties, MutatedValidTextsNeverCrashTheParser, ()) {
  std::string text = GenJsonText(*rc::gen::inRange(1, 5));
  static const std::string kInserts[] = {"{",  "}",  "[",   "]",       ",",    ":",
                                         "\"", "\\", "\\u", "\\uD83D", "-",    "0",
                                         "e",  ".",  "\n",  "\xC3",    "\x80", std::string(1, '\0'),
                                         "tru"};
  const int edits = *rc::gen::inRange(1, 4);
  for (int e = 0; e < edits && !text.empty(); ++e) {
    const std::size_t at = *rc::gen::inRange<std::size_t>(0, text.size());
    switch (*rc::gen::inRange(0, 3)) {
      case 0: text.erase(at, 1); break;
      case 1:
        text.insert(at, kInserts[*rc::gen::inRange<std::size_t>(0, std::size(kInserts))]);
        break;
      default: text[at] = *rc::gen::arbitrary<char>(); break;
    }
  }
  absl::StatusOr<JsonValue> v = ParseJson(text);
  if (v.ok()) {
    CheckPositions(text, *v);
  } else {
    CheckErrorPosition(text, v.status());
  }
}

}  // namespace
}  // namespace mlsched::internal
