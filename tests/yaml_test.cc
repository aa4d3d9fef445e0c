// ParseYamlAsJson (src/internal/yaml.h): the core-schema reading of scalars,
// tags, positions, and the limits; and a property: any JSON text read as
// YAML gives the DOM the JSON reader gives.
#include "internal/yaml.h"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <string>
#include <vector>

#include "fmt/format.h"
#include "internal/json.h"
#include "json_dom.h"
#include "status_matchers.h"

namespace mlsched::internal {
namespace {

using ::mlsched::testing_util::FailsWithMessage;

JsonValue Must(std::string_view text) {
  absl::StatusOr<JsonValue> v = ParseYamlAsJson(text);
  EXPECT_TRUE(v.ok()) << v.status() << "\n  text: " << text;
  return v.ok() ? *std::move(v) : JsonValue();
}

absl::Status Error(std::string_view text) { return ParseYamlAsJson(text).status(); }

// The value as compact JSON (kinds and contents, not positions).
using testing_util::CompactJson;

TEST(Yaml, PlainScalarsFollowTheCoreSchema) {
  EXPECT_EQ(CompactJson(Must("a: true\nb: False\nc: TRUE\nd: null\ne: ~\nf:\ng: 3\nh: -1.5e3\ni: 10m\nj: fifo")),
            R"({"a":true,"b":false,"c":true,"d":null,"e":null,"f":null,"g":3,"h":-1.5e3,"i":"10m","j":"fifo"})");
}

TEST(Yaml, YamlOneOneSpellingsAndOddNumbersStayStrings) {
  EXPECT_EQ(CompactJson(Must("[yes, no, on, 0x1F, 1_000, +1, .5, 01, .inf]")),
            R"(["yes","no","on","0x1F","1_000","+1",".5","01",".inf"])");
}

TEST(Yaml, QuotedScalarsAreStrings) {
  EXPECT_EQ(CompactJson(Must("a: 'true'\nb: \"3\"\nc: ''\nd: \"null\"")), R"({"a":"true","b":"3","c":"","d":"null"})");
}

TEST(Yaml, CoreTagsAreHonouredAndCheckedOthersRefused) {
  EXPECT_EQ(CompactJson(Must("[!!str 3, !!int 4, !!float 1.5, !!bool true, !!null null]")), R"(["3",4,1.5,true,null])");
  EXPECT_TRUE(FailsWithMessage(Error("a: !!int ten"), "line 1, column 4: \"ten\" is not a valid !!int"));
  EXPECT_TRUE(FailsWithMessage(Error("a: !!int 1.5"), "line 1, column 4: \"1.5\" is not a valid !!int"));
  EXPECT_TRUE(FailsWithMessage(
      Error("a: !custom 1"),
      "line 1, column 4: unsupported tag \"!custom\" (only !!str, !!int, !!float, !!bool, !!null, !!seq and !!map)"));
}

TEST(Yaml, ValuesKeepTheirLineAndColumn) {
  const JsonValue v = Must("# a comment\nbackfill:\n  reservation_depth: 0\n");
  const JsonValue* b = v.Find("backfill");
  ASSERT_NE(b, nullptr);
  const JsonValue* d = b->Find("reservation_depth");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->position(), (JsonPosition{.line = 3, .column = 22}));
  EXPECT_EQ(v.members()[0].key_position, (JsonPosition{.line = 2, .column = 1}));
}

TEST(Yaml, MappingsKeepDocumentOrderAndRefuseRepeatedKeys) {
  EXPECT_EQ(CompactJson(Must("z: 1\na: 2")), R"({"z":1,"a":2})");
  EXPECT_TRUE(FailsWithMessage(Error("a: 1\nb: 2\na: 3"), "line 3, column 1: duplicate key \"a\""));
}

TEST(Yaml, RefusesNonScalarKeysAndSecondDocuments) {
  EXPECT_TRUE(FailsWithMessage(Error("? [a, b]\n: 1"), "line 1, column 3: a mapping key must be a scalar"));
  EXPECT_TRUE(FailsWithMessage(Error("a: 1\n---\nb: 2"),
                               "line 2, column 1: a second YAML document; a configuration is one document"));
}

TEST(Yaml, InputThatHangsYamlCppLoadAllEnds) {
  // yaml-cpp 0.7's LoadAll() loops forever on these (upstream issue #1040);
  // the reader drives the parser itself and stops after a second document.
  for (std::string_view text : {",", "a: 1\n,", "- !+(.,.)"}) {
    const absl::StatusOr<JsonValue> v = ParseYamlAsJson(text);
    EXPECT_TRUE(v.ok() || v.status().code() == absl::StatusCode::kInvalidArgument) << text;
  }
}

TEST(Yaml, SyntaxErrorsSayLineAndColumn) {
  const absl::Status s = ParseYamlAsJson("a: [1, 2\nb: 3").status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(std::string(s.message()).starts_with("line ")) << s;
}

TEST(Yaml, AliasesExpandWithinALimit) {
  EXPECT_EQ(CompactJson(Must("base: &b {grace: 2m}\ncopy: *b")), R"({"base":{"grace":"2m"},"copy":{"grace":"2m"}})");
  // Nine levels of ten aliases each would be a billion values.
  std::string bomb = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 9; ++i) {
    bomb += fmt::format("a{}: &a{} [", i, i);
    for (int k = 0; k < 10; ++k) bomb += fmt::format("{}*a{}", k ? ", " : "", i - 1);
    bomb += "]\n";
  }
  const absl::Status s = ParseYamlAsJson(bomb).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("more than 100000 values"), std::string_view::npos) << s;
}

TEST(Yaml, AnAliasCountsTheDepthOfWhatItCopies) {
  // An anchored list 40 deep, aliased 30 levels down, would be 70 deep.
  const std::string deep = std::string(40, '[') + std::string(40, ']');
  const std::string text = "a: &d " + deep + "\nb: " + std::string(29, '[') + "*d" + std::string(29, ']');
  const absl::Status s = ParseYamlAsJson(text).status();
  EXPECT_NE(s.message().find("nested deeper than 64 levels"), std::string_view::npos) << s;
  // Shallow enough, the same alias is fine.
  EXPECT_TRUE(ParseYamlAsJson("a: &d " + deep + "\nb: [[*d]]").ok());
}

TEST(Yaml, NestingIsBounded) {
  const std::string deep = std::string(kMaxJsonDepth + 1, '[') + std::string(kMaxJsonDepth + 1, ']');
  const absl::Status s = ParseYamlAsJson(deep).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("nested deeper than 64 levels"), std::string_view::npos) << s;
}

TEST(Yaml, AnEmptyDocumentIsNull) {
  EXPECT_TRUE(Must("# nothing here\n").is_null());
}

TEST(Yaml, TellsJsonFromYaml) {
  EXPECT_TRUE(LooksLikeJsonObject(" \n{\"a\": 1}"));
  EXPECT_TRUE(LooksLikeJsonObject("\xEF\xBB\xBF{}"));
  EXPECT_TRUE(LooksLikeJsonObject("  \n"));  // nothing: the JSON reader explains
  EXPECT_FALSE(LooksLikeJsonObject("a: 1"));
  EXPECT_FALSE(LooksLikeJsonObject("# {\n{}"));
}

// A random JSON value as compact text.
std::string GenJson(int depth) {
  const int kind = *rc::gen::inRange(0, depth > 3 ? 4 : 6);
  switch (kind) {
    case 0: return "null";
    case 1: return *rc::gen::arbitrary<bool>() ? "true" : "false";
    case 2: {
      const std::int64_t n = *rc::gen::arbitrary<std::int64_t>();
      return *rc::gen::arbitrary<bool>() ? std::to_string(n) : fmt::format("{}.5e{}", n % 1000, n % 20);
    }
    case 3: {
      // Printable ASCII and a few escapes, with YAML-significant characters.
      const std::string s = *rc::gen::container<std::string>(
          rc::gen::elementOf(std::string("abz09 :#-,[]{}'&*!|>%@`?\"\\")));
      return JsonQuote(s);
    }
    case 4: {
      const int n = *rc::gen::inRange(0, 4);
      std::string out = "[";
      for (int i = 0; i < n; ++i) out += (i ? ", " : "") + GenJson(depth + 1);
      return out + "]";
    }
    default: {
      const int n = *rc::gen::inRange(0, 4);
      std::string out = "{";
      for (int i = 0; i < n; ++i) out += fmt::format("{}\"k{}\": {}", i ? ", " : "", i, GenJson(depth + 1));
      return out + "}";
    }
  }
}

RC_GTEST_PROP(YamlProperties, JsonReadAsYamlGivesTheSameValues, ()) {
  const std::string text = GenJson(0);
  const absl::StatusOr<JsonValue> json = ParseJson(text);
  RC_ASSERT(json.ok());
  const absl::StatusOr<JsonValue> yaml = ParseYamlAsJson(text);
  RC_ASSERT(yaml.ok());
  RC_ASSERT(CompactJson(*yaml) == CompactJson(*json));
}

RC_GTEST_PROP(YamlProperties, ArbitraryTextNeverCrashes, ()) {
  const std::string text = *rc::gen::container<std::string>(
      rc::gen::elementOf(std::string("ab: -[]{}&*!|>'\"\n\t#,?~0123456789.")));
  const absl::StatusOr<JsonValue> v = ParseYamlAsJson(text);
  RC_ASSERT(v.ok() || v.status().code() == absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace mlsched::internal
