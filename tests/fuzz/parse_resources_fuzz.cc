// libFuzzer harness for ParseResources (build with `make fuzz`, clang only).
// Invariants: no crash, no sanitizer report; accepted texts round-trip.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "mlsched/resources.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  mlsched::ResourceCatalog catalog;
  (void)catalog.Register("rdma");
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto parsed = mlsched::ParseResources(catalog, text);
  if (!parsed.ok()) return 0;
  const auto again = mlsched::ParseResources(catalog, mlsched::FormatResources(catalog, *parsed));
  if (!again.ok() || !(*again == *parsed)) std::abort();
  return 0;
}
