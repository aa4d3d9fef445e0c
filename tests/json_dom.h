// A compact rendering of the configuration DOM (src/internal/json.h), for
// tests that compare values: what the JSON and YAML readers produced, without
// positions.
#ifndef MLSCHED_TESTS_JSON_DOM_H_
#define MLSCHED_TESTS_JSON_DOM_H_

#include <string>

#include "internal/json.h"

namespace mlsched::testing_util {

inline std::string CompactJson(const internal::JsonValue& v) {
  using internal::JsonQuote;
  using Kind = internal::JsonValue::Kind;
  switch (v.kind()) {
    case Kind::kNull: return "null";
    case Kind::kBool: return v.bool_value() ? "true" : "false";
    case Kind::kNumber: return v.number_text();
    case Kind::kString: return JsonQuote(v.string_value());
    case Kind::kArray: {
      std::string out = "[";
      for (std::size_t i = 0; i < v.elements().size(); ++i) out += (i ? "," : "") + CompactJson(v.elements()[i]);
      return out + "]";
    }
    case Kind::kObject: {
      std::string out = "{";
      for (std::size_t i = 0; i < v.members().size(); ++i)
        out += (i ? "," : "") + JsonQuote(v.members()[i].key) + ":" + CompactJson(v.members()[i].value);
      return out + "}";
    }
  }
  return "?";
}

}  // namespace mlsched::testing_util

#endif  // MLSCHED_TESTS_JSON_DOM_H_
