// YAML to the JSON DOM: see internal/yaml.h.
#include "internal/yaml.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/mark.h>
#include <yaml-cpp/parser.h>

#include <algorithm>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "fmt/format.h"

namespace mlsched::internal {
namespace {

constexpr std::string_view kCoreTag = "tag:yaml.org,2002:";

JsonPosition PositionOf(const YAML::Mark& m) {
  // yaml-cpp counts from 0; a mark of -1 (no position) becomes line 1.
  return {.line = m.line >= 0 ? m.line + 1 : 1, .column = m.column >= 0 ? m.column + 1 : 1};
}

absl::Status ErrorAt(JsonPosition at, std::string_view why) {
  return absl::InvalidArgumentError(fmt::format("line {}, column {}: {}", at.line, at.column, why));
}

bool IsNullWord(std::string_view s) { return s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL"; }
bool IsTrueWord(std::string_view s) { return s == "true" || s == "True" || s == "TRUE"; }
bool IsFalseWord(std::string_view s) { return s == "false" || s == "False" || s == "FALSE"; }

// Aborts the parse from inside an event: the first error wins.
struct Abort {
  absl::Status status;
};

// An empty tag or "?" is a plain node; "!" a quoted scalar (or a
// collection with the non-specific tag).
bool Plain(const std::string& tag) { return tag.empty() || tag == "?"; }

absl::Status UnsupportedTag(const std::string& tag, JsonPosition at) {
  return ErrorAt(at, fmt::format("unsupported tag {} (only !!str, !!int, !!float, !!bool, !!null, !!seq and !!map)",
                                 JsonQuote(tag)));
}

absl::StatusOr<JsonValue> ResolveScalar(const std::string& text, const std::string& tag, JsonPosition at) {
  if (tag == "!") return JsonValue::String(text, at);  // quoted: always a string
  if (Plain(tag)) {                                    // resolved by the core schema
    if (IsNullWord(text)) return JsonValue::Null(at);
    if (IsTrueWord(text)) return JsonValue::Bool(true, at);
    if (IsFalseWord(text)) return JsonValue::Bool(false, at);
    if (IsJsonNumber(text)) return JsonValue::Number(text, at);
    return JsonValue::String(text, at);
  }
  if (tag.rfind(kCoreTag, 0) != 0) return UnsupportedTag(tag, at);
  const std::string_view kind = std::string_view(tag).substr(kCoreTag.size());
  if (kind == "str") return JsonValue::String(text, at);
  if (kind == "null") {
    if (IsNullWord(text)) return JsonValue::Null(at);
  } else if (kind == "bool") {
    if (IsTrueWord(text)) return JsonValue::Bool(true, at);
    if (IsFalseWord(text)) return JsonValue::Bool(false, at);
  } else if (kind == "int") {
    if (IsJsonNumber(text) && text.find_first_of(".eE") == std::string::npos) return JsonValue::Number(text, at);
  } else if (kind == "float") {
    if (IsJsonNumber(text)) return JsonValue::Number(text, at);
  } else {
    return ErrorAt(at, fmt::format("tag !!{} does not fit a scalar", kind));
  }
  return ErrorAt(at, fmt::format("{} is not a valid !!{}", JsonQuote(text), kind));
}

// Builds the DOM from yaml-cpp's parse events (its Node layer is not used:
// yaml-cpp 0.7's LoadAll() loops forever on some bad input, and the events
// give the tags and positions directly). Errors throw Abort.
class Builder : public YAML::EventHandler {
 public:
  JsonValue TakeRoot() { return std::move(root_); }
  JsonPosition start() const { return start_; }

  void OnDocumentStart(const YAML::Mark& mark) override { start_ = PositionOf(mark); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    Count(1, PositionOf(mark));
    Complete(JsonValue::Null(PositionOf(mark)), "", /*scalar=*/true, anchor, 1, 1);
  }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    const auto it = anchors_.find(anchor);
    if (it == anchors_.end()) throw Abort{ErrorAt(PositionOf(mark), "an alias of an unknown anchor")};
    Count(it->second.values, PositionOf(mark));
    // An alias puts a copy of its anchor's whole value here: its depth counts.
    CheckDepth(static_cast<int>(stack_.size()) + it->second.height, PositionOf(mark));
    Complete(it->second.value, it->second.text, it->second.scalar, 0, it->second.values, it->second.height);
  }
  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    const JsonPosition at = PositionOf(mark);
    Count(1, at);
    absl::StatusOr<JsonValue> v = ResolveScalar(value, tag, at);
    if (!v.ok()) throw Abort{v.status()};
    Complete(*std::move(v), value, /*scalar=*/true, anchor, 1, 1);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    Open(mark, tag, anchor, "seq", /*map=*/false);
  }
  void OnSequenceEnd() override { Close(); }
  void OnMapStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    Open(mark, tag, anchor, "map", /*map=*/true);
  }
  void OnMapEnd() override { Close(); }

 private:
  struct Frame {
    bool map = false;
    JsonPosition at;
    YAML::anchor_t anchor = 0;
    int values = 1;  // values in this collection, itself included (for aliases of it)
    int height = 1;  // levels of nesting it holds, itself included
    std::vector<JsonValue> elements;
    std::vector<JsonMember> members;
    absl::flat_hash_set<std::string> keys;
    bool have_key = false;  // a map's key is read, its value is next
    std::string key;
    JsonPosition key_at;
  };
  struct Anchored {
    JsonValue value;
    std::string text;  // a scalar's text (usable as a key)
    bool scalar = false;
    int values = 1;
    int height = 1;
  };

  void Count(int values, JsonPosition at) {
    values_ += values;
    if (values_ > kMaxYamlValues) {
      throw Abort{ErrorAt(at, fmt::format("more than {} values (after expanding aliases)", kMaxYamlValues))};
    }
  }

  static void CheckDepth(int depth, JsonPosition at) {
    if (depth > kMaxJsonDepth) throw Abort{ErrorAt(at, fmt::format("nested deeper than {} levels", kMaxJsonDepth))};
  }

  void Open(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor, std::string_view kind, bool map) {
    const JsonPosition at = PositionOf(mark);
    Count(1, at);
    if (!Plain(tag) && tag != "!" && tag != fmt::format("{}{}", kCoreTag, kind)) throw Abort{UnsupportedTag(tag, at)};
    CheckDepth(static_cast<int>(stack_.size()) + 1, at);
    stack_.push_back({.map = map, .at = at, .anchor = anchor});
  }

  void Close() {
    Frame f = std::move(stack_.back());
    stack_.pop_back();
    JsonValue v = f.map ? JsonValue::Object(std::move(f.members), f.at) : JsonValue::Array(std::move(f.elements), f.at);
    Complete(std::move(v), "", /*scalar=*/false, f.anchor, f.values, f.height);
  }

  // A node is complete: remember its anchor, and put it where it belongs.
  void Complete(JsonValue v, const std::string& text, bool scalar, YAML::anchor_t anchor, int values, int height) {
    if (anchor != 0)
      anchors_[anchor] = {.value = v, .text = text, .scalar = scalar, .values = values, .height = height};
    if (stack_.empty()) {
      root_ = std::move(v);
      return;
    }
    Frame& parent = stack_.back();
    parent.values += values;
    parent.height = std::max(parent.height, height + 1);
    if (!parent.map) {
      parent.elements.push_back(std::move(v));
      return;
    }
    if (!parent.have_key) {
      if (!scalar) throw Abort{ErrorAt(v.position(), "a mapping key must be a scalar")};
      if (!parent.keys.insert(text).second) throw Abort{ErrorAt(v.position(), fmt::format("duplicate key {}", JsonQuote(text)))};
      parent.have_key = true;
      parent.key = text;
      parent.key_at = v.position();
      return;
    }
    parent.have_key = false;
    parent.members.push_back({.key = std::move(parent.key), .key_position = parent.key_at, .value = std::move(v)});
  }

  JsonValue root_;
  JsonPosition start_;
  std::vector<Frame> stack_;
  absl::flat_hash_map<YAML::anchor_t, Anchored> anchors_;
  int values_ = 0;
};

}  // namespace

bool LooksLikeJsonObject(std::string_view text) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  for (char c : text) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') continue;
    return c == '{';
  }
  return true;  // nothing but blanks: the JSON reader says what is missing
}

absl::StatusOr<JsonValue> ParseYamlAsJson(std::string_view text) {
  try {
    std::istringstream in{std::string(text)};
    YAML::Parser parser(in);
    Builder first;
    if (!parser.HandleNextDocument(first)) return JsonValue::Null({});  // no document at all
    Builder second;
    if (parser.HandleNextDocument(second)) {
      return ErrorAt(second.start(), "a second YAML document; a configuration is one document");
    }
    return first.TakeRoot();
  } catch (const Abort& a) {
    return a.status;
  } catch (const YAML::Exception& e) {
    return ErrorAt(PositionOf(e.mark), e.msg);
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(fmt::format("YAML: {}", e.what()));
  }
}

}  // namespace mlsched::internal
