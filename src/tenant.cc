#include "mlsched/tenant.h"

#include "fmt/format.h"

namespace mlsched {

absl::Status TenantSpec::Validate() const {
  auto bad = [&](std::string_view field, std::string_view why) {
    return absl::InvalidArgumentError(fmt::format("tenant \"{}\": {}: {}", name, field, why));
  };
  if (name.empty()) return bad("name", "must not be empty");
  if (name.size() > 253) return bad("name", "longer than 253 characters");
  if (parent == name) return bad(fmt::format("parent = \"{}\"", parent), "a tenant cannot be its own parent");
  if (weight < 1 || weight > 1'000'000) return bad(fmt::format("weight = {}", weight), "must be in [1, 1000000]");
  auto check = [&](const ResourceVector& v, std::string_view field) -> absl::Status {
    for (int i = 0; i < kMaxResourceKinds; ++i) {
      const std::int64_t q = v.Get(ResourceKind(static_cast<std::uint8_t>(i)));
      if (q < 0) return bad(fmt::format("{}[{}] = {}", field, i, q), "quotas must be >= 0");
    }
    return absl::OkStatus();
  };
  if (absl::Status s = check(guarantee, "guarantee"); !s.ok()) return s;
  if (borrowing_limit) {
    if (parent.empty()) {
      return bad("borrowing_limit",
                 "an organisation (a tenant without parent) borrows from the whole cluster; "
                 "it cannot have a borrowing limit");
    }
    if (absl::Status s = check(*borrowing_limit, "borrowing_limit"); !s.ok()) return s;
  }
  if (lending_limit) {
    if (absl::Status s = check(*lending_limit, "lending_limit"); !s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace mlsched
