// libFuzzer harness for policy documents: bytes -> ParsePolicyDocument
// (build with `make fuzz`, clang only). Covers the JSON reader
// (src/internal/json.cc), the YAML reader (src/internal/yaml.cc: any text
// not starting with '{') and the config reader behind both.
// Invariants: no crash, no sanitizer report; a rejected document is
// kInvalidArgument; an accepted one passes the Validate() checks, and its
// policies survive FormatPolicySet -> ParsePolicySet.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "mlsched/policy/config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  mlsched::ResourceCatalog catalog;
  (void)catalog.Register("rdma");
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto doc = mlsched::ParsePolicyDocument(text, catalog);
  if (!doc.ok()) {
    if (doc.status().code() != absl::StatusCode::kInvalidArgument) std::abort();
    return 0;
  }
  if (!doc->policies.Validate().ok()) std::abort();
  for (const mlsched::TenantSpec& tenant : doc->tenants) {
    if (!tenant.Validate().ok()) std::abort();
  }
  const std::string formatted = mlsched::FormatPolicySet(doc->policies);
  const auto again = mlsched::ParsePolicySet(formatted);
  if (!again.ok() || mlsched::FormatPolicySet(*again) != formatted) std::abort();
  return 0;
}
