// YAML configuration documents, read into the JSON DOM (internal/json.h) so
// that one reader of each configuration format's meaning serves both.
//
// A YAML document (one; a stream of several is an error) becomes the JSON
// value it stands for under the YAML 1.2 core schema:
//   - mappings are objects (keys must be scalars; a key repeated in one
//     mapping is an error, as in the JSON reader), sequences are arrays;
//   - a plain (unquoted) scalar is null if it is "null", "Null", "NULL", "~"
//     or empty; a boolean if it is "true", "True", "TRUE", "false", "False"
//     or "FALSE"; a number if it is a JSON number ("3", "-1.5e3"); anything
//     else is a string ("10m", "fifo"). Quoted scalars are strings;
//   - explicit tags !!str, !!int, !!float, !!bool and !!null are honoured
//     (a value that does not read as the tag says is an error: !!int takes
//     JSON integers only, !!float any JSON number); other tags are errors. YAML 1.1 spellings ("yes", "0x1F", "1_000") are strings.
// Anchors and aliases are expanded, to at most kMaxYamlValues values in all
// (so a small document cannot expand into a huge one), nesting at most
// kMaxJsonDepth deep (an alias counts the depth of the value it copies).
// Documents are read through yaml-cpp's event parser, not its LoadAll()
// (0.7 loops forever on some bad input; see README). Every value keeps its 1-based line and column.
//
// Errors are absl::InvalidArgumentError "line L, column C: <why>", as the
// JSON reader's. yaml-cpp's exceptions never leave this file.
#ifndef MLSCHED_INTERNAL_YAML_H_
#define MLSCHED_INTERNAL_YAML_H_

#include <string_view>

#include "absl/status/statusor.h"
#include "internal/json.h"

namespace mlsched::internal {

inline constexpr int kMaxYamlValues = 100'000;

absl::StatusOr<JsonValue> ParseYamlAsJson(std::string_view text);

// Whether a configuration text is JSON (its first character other than
// whitespace or a byte order mark is '{', or it has none) rather than YAML.
bool LooksLikeJsonObject(std::string_view text);

}  // namespace mlsched::internal

#endif  // MLSCHED_INTERNAL_YAML_H_
