// Resources: the catalog of kinds, quantity parsing and formatting, and the
// arithmetic of ResourceVector. Also FormatDuration, which lives in
// resources.cc.
#include "mlsched/resources.h"

#include <cstdint>
#include <cstdlib>
#include <limits>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "absl/hash/hash_testing.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "mlsched/time.h"
#include "rapidcheck.h"
#include "rapidcheck/gtest.h"

namespace mlsched {

// How rapidcheck prints a counterexample (found by argument-dependent lookup;
// static so that other test files may define their own).
[[maybe_unused]] static void showValue(const ResourceVector& v, std::ostream& os) {
  os << "{";
  for (int i = 0; i < kMaxResourceKinds; ++i)
    os << (i ? ", " : "") << v.Get(ResourceKind(static_cast<std::uint8_t>(i)));
  os << "}";
}

namespace {

constexpr std::int64_t kKi = std::int64_t{1} << 10;
constexpr std::int64_t kMi = std::int64_t{1} << 20;
constexpr std::int64_t kGi = std::int64_t{1} << 30;
constexpr std::int64_t kTi = std::int64_t{1} << 40;
constexpr std::int64_t kPi = std::int64_t{1} << 50;
constexpr std::int64_t kInt64Max = std::numeric_limits<std::int64_t>::max();

// OK, or a failure saying what was expected.
::testing::AssertionResult FailsWith(const absl::Status& status, absl::StatusCode code,
                                     std::string_view needle) {
  if (status.ok()) {
    return ::testing::AssertionFailure() << "expected " << code << " containing \"" << needle
                                         << "\", got OK";
  }
  const std::string message(status.message());
  if (status.code() != code) {
    return ::testing::AssertionFailure() << "expected code " << code << ", got " << status;
  }
  if (message.find(needle) == std::string::npos) {
    return ::testing::AssertionFailure() << "message \"" << message << "\" does not contain \""
                                         << needle << "\"";
  }
  return ::testing::AssertionSuccess();
}

template <typename T>
::testing::AssertionResult FailsWith(const absl::StatusOr<T>& result, absl::StatusCode code,
                                     std::string_view needle) {
  return FailsWith(result.status(), code, needle);
}

// Parses `text` as `kind`, expecting success.
std::int64_t Quantity(const ResourceCatalog& catalog, ResourceKind kind, std::string_view text) {
  absl::StatusOr<std::int64_t> q = ParseQuantity(catalog, kind, text);
  EXPECT_TRUE(q.ok()) << "\"" << text << "\": " << q.status();
  return q.ok() ? *q : -1;
}

// A catalog with every slot taken: cpu, memory, gpu and five extended kinds.
ResourceCatalog FullCatalog() {
  ResourceCatalog catalog;
  for (std::string_view name : {"rdma", "nvme", "fpga", "ib.port", "vendor.com/mig-1g"}) {
    EXPECT_TRUE(catalog.Register(name).ok()) << name;
  }
  return catalog;
}

ResourceKind Extended(int index) { return ResourceKind(static_cast<std::uint8_t>(index)); }

// ---------------------------------------------------------------------------
// ResourceCatalog

TEST(ResourceCatalog, StartsWithTheThreeBuiltInKinds) {
  ResourceCatalog catalog;
  EXPECT_EQ(catalog.size(), 3);
  EXPECT_EQ(catalog.Find("cpu"), kCpu);
  EXPECT_EQ(catalog.Find("memory"), kMemory);
  EXPECT_EQ(catalog.Find("gpu"), kGpu);
  EXPECT_EQ(catalog.Name(kCpu), "cpu");
  EXPECT_EQ(catalog.Name(kMemory), "memory");
  EXPECT_EQ(catalog.Name(kGpu), "gpu");
}

TEST(ResourceCatalog, FindReturnsNothingForAnUnknownName) {
  ResourceCatalog catalog;
  EXPECT_EQ(catalog.Find("rdma"), std::nullopt);
  EXPECT_EQ(catalog.Find(""), std::nullopt);
  EXPECT_EQ(catalog.Find("CPU"), std::nullopt);  // names are case-sensitive
  EXPECT_EQ(catalog.Find("cpu "), std::nullopt);
}

TEST(ResourceCatalog, RegisterHandsOutTheNextIndexInOrder) {
  ResourceCatalog catalog;
  absl::StatusOr<ResourceKind> rdma = catalog.Register("rdma");
  ASSERT_TRUE(rdma.ok()) << rdma.status();
  EXPECT_EQ(rdma->index(), 3);
  absl::StatusOr<ResourceKind> nvme = catalog.Register("nvme");
  ASSERT_TRUE(nvme.ok()) << nvme.status();
  EXPECT_EQ(nvme->index(), 4);
  EXPECT_EQ(catalog.size(), 5);
  EXPECT_EQ(catalog.Find("rdma"), *rdma);
  EXPECT_EQ(catalog.Find("nvme"), *nvme);
  EXPECT_EQ(catalog.Name(*rdma), "rdma");
  EXPECT_EQ(catalog.Name(*nvme), "nvme");
}

TEST(ResourceCatalog, RegisterAcceptsEveryAllowedCharacter) {
  ResourceCatalog catalog;
  const std::string longest(63, 'q');
  for (std::string_view name : {std::string_view("a"), std::string_view("nvidia.com/mig-1g.5gb"),
                                std::string_view("x_y"), std::string_view("z0-9"),
                                std::string_view(longest)}) {
    EXPECT_TRUE(catalog.Register(name).ok()) << name;
    EXPECT_TRUE(catalog.Find(name).has_value()) << name;
  }
}

TEST(ResourceCatalog, RegisterRejectsMalformedNamesAndNamesThem) {
  const std::string too_long(64, 'a');
  for (std::string_view name : {std::string_view(""), std::string_view("1gpu"),
                                std::string_view("Rdma"), std::string_view("rdMa"),
                                std::string_view("-rdma"), std::string_view(".rdma"),
                                std::string_view("/rdma"), std::string_view("_rdma"),
                                std::string_view("rd ma"), std::string_view("rdma!"),
                                std::string_view("rdma=1"), std::string_view("rdma,x"),
                                std::string_view("caf\xc3\xa9"), std::string_view(too_long)}) {
    ResourceCatalog catalog;
    absl::StatusOr<ResourceKind> r = catalog.Register(name);
    EXPECT_TRUE(FailsWith(r, absl::StatusCode::kInvalidArgument,
                          "resource kind \"" + std::string(name) + "\""))
        << "name \"" << name << "\"";
    EXPECT_EQ(catalog.size(), 3) << name;
  }
}

TEST(ResourceCatalog, RegisterRejectsADuplicateExtendedKind) {
  ResourceCatalog catalog;
  ASSERT_TRUE(catalog.Register("rdma").ok());
  EXPECT_TRUE(FailsWith(catalog.Register("rdma"), absl::StatusCode::kAlreadyExists, "\"rdma\""));
  EXPECT_EQ(catalog.size(), 4);
}

TEST(ResourceCatalog, RegisterRejectsTheNameOfABuiltInKind) {
  ResourceCatalog catalog;
  for (std::string_view name : {"cpu", "memory", "gpu"}) {
    EXPECT_TRUE(FailsWith(catalog.Register(name), absl::StatusCode::kAlreadyExists,
                          "\"" + std::string(name) + "\""));
  }
  EXPECT_EQ(catalog.size(), 3);
}

TEST(ResourceCatalog, RegisterFailsOnceFiveExtendedKindsAreRegistered) {
  ResourceCatalog catalog = FullCatalog();
  EXPECT_EQ(catalog.size(), kMaxResourceKinds);
  EXPECT_TRUE(FailsWith(catalog.Register("tpu"), absl::StatusCode::kResourceExhausted, "\"tpu\""));
  EXPECT_EQ(catalog.size(), kMaxResourceKinds);
  EXPECT_EQ(catalog.Find("tpu"), std::nullopt);
}

TEST(ResourceCatalog, CatalogsAreIndependentOfEachOther) {
  ResourceCatalog a;
  ResourceCatalog b;
  ASSERT_TRUE(a.Register("rdma").ok());
  EXPECT_EQ(b.Find("rdma"), std::nullopt);
  EXPECT_EQ(b.size(), 3);
  absl::StatusOr<ResourceKind> nvme = b.Register("nvme");
  ASSERT_TRUE(nvme.ok());
  EXPECT_EQ(nvme->index(), 3);  // b's first extended slot, regardless of a
}

// ---------------------------------------------------------------------------
// ParseQuantity: accepted forms

TEST(QuantityParsing, AcceptsCpuAsWholeCores) {
  ResourceCatalog catalog;
  EXPECT_EQ(Quantity(catalog, kCpu, "8"), 8000);
  EXPECT_EQ(Quantity(catalog, kCpu, "1"), 1000);
  EXPECT_EQ(Quantity(catalog, kCpu, "96"), 96'000);
}

TEST(QuantityParsing, AcceptsCpuAsFractionalCores) {
  ResourceCatalog catalog;
  EXPECT_EQ(Quantity(catalog, kCpu, "0.5"), 500);
  EXPECT_EQ(Quantity(catalog, kCpu, "1.25"), 1250);
  EXPECT_EQ(Quantity(catalog, kCpu, "0.001"), 1);
  EXPECT_EQ(Quantity(catalog, kCpu, "2.500"), 2500);  // trailing zeros are fine
}

TEST(QuantityParsing, AcceptsCpuAsMilliCores) {
  ResourceCatalog catalog;
  EXPECT_EQ(Quantity(catalog, kCpu, "500m"), 500);
  EXPECT_EQ(Quantity(catalog, kCpu, "1m"), 1);
  EXPECT_EQ(Quantity(catalog, kCpu, "8000m"), 8000);
}

TEST(QuantityParsing, AcceptsMemoryAsPlainBytes) {
  ResourceCatalog catalog;
  EXPECT_EQ(Quantity(catalog, kMemory, "512"), 512);
  EXPECT_EQ(Quantity(catalog, kMemory, "1"), 1);
}

TEST(QuantityParsing, AcceptsBinaryMemorySuffixes) {
  ResourceCatalog catalog;
  EXPECT_EQ(Quantity(catalog, kMemory, "1Ki"), kKi);
  EXPECT_EQ(Quantity(catalog, kMemory, "3Mi"), 3 * kMi);
  EXPECT_EQ(Quantity(catalog, kMemory, "64Gi"), 64 * kGi);
  EXPECT_EQ(Quantity(catalog, kMemory, "2Ti"), 2 * kTi);
  EXPECT_EQ(Quantity(catalog, kMemory, "1Pi"), kPi);
}

TEST(QuantityParsing, AcceptsDecimalMemorySuffixes) {
  ResourceCatalog catalog;
  EXPECT_EQ(Quantity(catalog, kMemory, "1k"), 1'000);
  EXPECT_EQ(Quantity(catalog, kMemory, "5M"), 5'000'000);
  EXPECT_EQ(Quantity(catalog, kMemory, "1G"), 1'000'000'000);
  EXPECT_EQ(Quantity(catalog, kMemory, "2T"), 2'000'000'000'000);
  EXPECT_EQ(Quantity(catalog, kMemory, "1P"), 1'000'000'000'000'000);
}

TEST(QuantityParsing, AcceptsMemoryDecimalsThatComeOutWhole) {
  ResourceCatalog catalog;
  EXPECT_EQ(Quantity(catalog, kMemory, "1.5Gi"), 3 * (kGi / 2));
  EXPECT_EQ(Quantity(catalog, kMemory, "0.5Ki"), 512);
  EXPECT_EQ(Quantity(catalog, kMemory, "1.5k"), 1'500);
  EXPECT_EQ(Quantity(catalog, kMemory, "2.25G"), 2'250'000'000);
}

// The value is exact and whole; only an intermediate product is large.
TEST(QuantityParsing, AcceptsWholeDecimalsWithManyFractionDigits) {
  ResourceCatalog catalog;
  EXPECT_EQ(Quantity(catalog, kMemory, "1.015625Pi"), kPi + (kPi >> 6));          // 1 + 1/64
  EXPECT_EQ(Quantity(catalog, kMemory, "1.0009765625Ti"), kTi + kGi);             // 1 + 1/1024
  EXPECT_EQ(Quantity(catalog, kMemory, "1.23456789T"), 1'234'567'890'000);
}

TEST(QuantityParsing, AcceptsTheLargestQuantitiesThatFit) {
  ResourceCatalog catalog;
  EXPECT_EQ(Quantity(catalog, kMemory, "8191Pi"), 8191 * kPi);
  EXPECT_EQ(Quantity(catalog, kMemory, "8388607Ti"), 8'388'607 * kTi);
  EXPECT_EQ(Quantity(catalog, kCpu, "9223372036854775"), 9'223'372'036'854'775'000);
  EXPECT_EQ(Quantity(catalog, kGpu, "999999999999999999"), 999'999'999'999'999'999);
}

// Every int64 value is a valid quantity of bytes and must be writable.
TEST(QuantityParsing, AcceptsNineteenDigitQuantitiesThatFitInInt64) {
  ResourceCatalog catalog;
  EXPECT_EQ(Quantity(catalog, kMemory, "1000000000000000000"), 1'000'000'000'000'000'000);
  EXPECT_EQ(Quantity(catalog, kMemory, "9223372036854775807"), kInt64Max);
  EXPECT_EQ(Quantity(catalog, kCpu, "1000000000000000001m"), 1'000'000'000'000'000'001);
}

TEST(QuantityParsing, AcceptsGpusAsPlainIntegers) {
  ResourceCatalog catalog;
  EXPECT_EQ(Quantity(catalog, kGpu, "1"), 1);
  EXPECT_EQ(Quantity(catalog, kGpu, "8"), 8);
}

TEST(QuantityParsing, AcceptsExtendedKindsAsPlainIntegers) {
  ResourceCatalog catalog;
  const ResourceKind rdma = catalog.Register("rdma").value();
  EXPECT_EQ(Quantity(catalog, rdma, "2"), 2);
  EXPECT_EQ(Quantity(catalog, rdma, "1000"), 1000);
}

TEST(QuantityParsing, IgnoresSurroundingWhitespaceAndALeadingPlus) {
  ResourceCatalog catalog;
  EXPECT_EQ(Quantity(catalog, kCpu, " 4 "), 4000);
  EXPECT_EQ(Quantity(catalog, kGpu, "+2"), 2);
}

// ---------------------------------------------------------------------------
// ParseQuantity: rejected forms. Every error names the entry ("kind=text").

TEST(QuantityParsing, RejectsZeroForEveryKind) {
  ResourceCatalog catalog;
  const ResourceKind rdma = catalog.Register("rdma").value();
  EXPECT_TRUE(FailsWith(ParseQuantity(catalog, kCpu, "0"), absl::StatusCode::kInvalidArgument, "cpu=0"));
  EXPECT_TRUE(FailsWith(ParseQuantity(catalog, kCpu, "0m"), absl::StatusCode::kInvalidArgument, "cpu=0m"));
  EXPECT_TRUE(FailsWith(ParseQuantity(catalog, kCpu, "0.000"), absl::StatusCode::kInvalidArgument, "cpu=0.000"));
  EXPECT_TRUE(FailsWith(ParseQuantity(catalog, kMemory, "0Gi"), absl::StatusCode::kInvalidArgument, "memory=0Gi"));
  EXPECT_TRUE(FailsWith(ParseQuantity(catalog, kGpu, "0"), absl::StatusCode::kInvalidArgument, "gpu=0"));
  EXPECT_TRUE(FailsWith(ParseQuantity(catalog, rdma, "0"), absl::StatusCode::kInvalidArgument, "rdma=0"));
}

TEST(QuantityParsing, RejectsNegativeQuantities) {
  ResourceCatalog catalog;
  EXPECT_TRUE(FailsWith(ParseQuantity(catalog, kCpu, "-1"), absl::StatusCode::kInvalidArgument, "cpu=-1"));
  EXPECT_TRUE(FailsWith(ParseQuantity(catalog, kCpu, "-0.5"), absl::StatusCode::kInvalidArgument, "cpu=-0.5"));
  EXPECT_TRUE(FailsWith(ParseQuantity(catalog, kMemory, "-64Gi"), absl::StatusCode::kInvalidArgument, "memory=-64Gi"));
  EXPECT_TRUE(FailsWith(ParseQuantity(catalog, kGpu, "-2"), absl::StatusCode::kInvalidArgument, "gpu=-2"));
  EXPECT_TRUE(FailsWith(ParseQuantity(catalog, kGpu, "+-2"), absl::StatusCode::kInvalidArgument, "gpu=+-2"));
}

TEST(QuantityParsing, RejectsMalformedNumbers) {
  ResourceCatalog catalog;
  for (std::string_view text : {"", " ", "abc", ".", "1.", "1..2", "1.2.3", "--1", "++1", "m",
                                "Gi", "1 000", "0x10", "1e3", "four"}) {
    for (ResourceKind kind : {kCpu, kMemory, kGpu}) {
      absl::StatusOr<std::int64_t> q = ParseQuantity(catalog, kind, text);
      EXPECT_TRUE(FailsWith(q, absl::StatusCode::kInvalidArgument,
                            std::string(catalog.Name(kind)) + "=" + std::string(text)))
          << "\"" << text << "\" as " << catalog.Name(kind);
    }
  }
}

TEST(QuantityParsing, RejectsAnUnknownSuffixAndNamesIt) {
  ResourceCatalog catalog;
  const ResourceKind rdma = catalog.Register("rdma").value();
  EXPECT_TRUE(FailsWith(ParseQuantity(catalog, kMemory, "12Q"), absl::StatusCode::kInvalidArgument,
                        "memory=12Q: unknown suffix \"Q\""));
  EXPECT_TRUE(FailsWith(ParseQuantity(catalog, kMemory, "1Gb"), absl::StatusCode::kInvalidArgument, "\"Gb\""));
  EXPECT_TRUE(FailsWith(ParseQuantity(catalog, kMemory, "1gi"), absl::StatusCode::kInvalidArgument, "\"gi\""));
  EXPECT_TRUE(FailsWith(ParseQuantity(catalog, kMemory, "1m"), absl::StatusCode::kInvalidArgument, "\"m\""));
  EXPECT_TRUE(FailsWith(ParseQuantity(catalog, kCpu, "8k"), absl::StatusCode::kInvalidArgument, "cpu=8k: unknown suffix \"k\""));
  EXPECT_TRUE(FailsWith(ParseQuantity(catalog, kCpu, "500M"), absl::StatusCode::kInvalidArgument, "\"M\""));
  EXPECT_TRUE(FailsWith(ParseQuantity(catalog, kCpu, "1Gi"), absl::StatusCode::kInvalidArgument, "\"Gi\""));
  EXPECT_TRUE(FailsWith(ParseQuantity(catalog, kGpu, "4Gi"), absl::StatusCode::kInvalidArgument, "gpu=4Gi: unknown suffix \"Gi\""));
  EXPECT_TRUE(FailsWith(ParseQuantity(catalog, kGpu, "500m"), absl::StatusCode::kInvalidArgument, "\"m\""));
  EXPECT_TRUE(FailsWith(ParseQuantity(catalog, rdma, "2k"), absl::StatusCode::kInvalidArgument, "rdma=2k: unknown suffix \"k\""));
}

TEST(QuantityParsing, RejectsFractionalBytes) {
  ResourceCatalog catalog;
  EXPECT_TRUE(FailsWith(ParseQuantity(catalog, kMemory, "1.5"), absl::StatusCode::kInvalidArgument, "memory=1.5"));
  EXPECT_TRUE(FailsWith(ParseQuantity(catalog, kMemory, "0.1Ki"), absl::StatusCode::kInvalidArgument, "memory=0.1Ki"));
  EXPECT_TRUE(FailsWith(ParseQuantity(catalog, kMemory, "1.0001k"), absl::StatusCode::kInvalidArgument, "memory=1.0001k"));
}

TEST(QuantityParsing, RejectsFractionalMilliCores) {
  ResourceCatalog catalog;
  EXPECT_TRUE(FailsWith(ParseQuantity(catalog, kCpu, "0.0005"), absl::StatusCode::kInvalidArgument, "cpu=0.0005"));
  EXPECT_TRUE(FailsWith(ParseQuantity(catalog, kCpu, "0.5m"), absl::StatusCode::kInvalidArgument, "cpu=0.5m"));
  EXPECT_TRUE(FailsWith(ParseQuantity(catalog, kCpu, "1.2345"), absl::StatusCode::kInvalidArgument, "cpu=1.2345"));
}

TEST(QuantityParsing, RejectsFractionalDeviceCounts) {
  ResourceCatalog catalog;
  const ResourceKind rdma = catalog.Register("rdma").value();
  EXPECT_TRUE(FailsWith(ParseQuantity(catalog, kGpu, "1.5"), absl::StatusCode::kInvalidArgument, "gpu=1.5"));
  EXPECT_TRUE(FailsWith(ParseQuantity(catalog, kGpu, "0.5"), absl::StatusCode::kInvalidArgument, "gpu=0.5"));
  EXPECT_TRUE(FailsWith(ParseQuantity(catalog, rdma, "2.01"), absl::StatusCode::kInvalidArgument, "rdma=2.01"));
}

TEST(QuantityParsing, RejectsQuantitiesThatOverflowInt64) {
  ResourceCatalog catalog;
  EXPECT_TRUE(FailsWith(ParseQuantity(catalog, kMemory, "8192Pi"), absl::StatusCode::kInvalidArgument, "memory=8192Pi"));
  EXPECT_TRUE(FailsWith(ParseQuantity(catalog, kMemory, "8388608Ti"), absl::StatusCode::kInvalidArgument, "memory=8388608Ti"));
  EXPECT_TRUE(FailsWith(ParseQuantity(catalog, kMemory, "9999999999P"), absl::StatusCode::kInvalidArgument, "memory=9999999999P"));
  EXPECT_TRUE(FailsWith(ParseQuantity(catalog, kMemory, "9223372036854775808"), absl::StatusCode::kInvalidArgument, "memory=9223372036854775808"));
  EXPECT_TRUE(FailsWith(ParseQuantity(catalog, kCpu, "9223372036854776"), absl::StatusCode::kInvalidArgument, "cpu=9223372036854776"));
  EXPECT_TRUE(FailsWith(ParseQuantity(catalog, kGpu, "99999999999999999999"), absl::StatusCode::kInvalidArgument, "gpu=99999999999999999999"));
  EXPECT_TRUE(FailsWith(ParseQuantity(catalog, kGpu, std::string(400, '9')), absl::StatusCode::kInvalidArgument, "gpu=999"));
}

// ---------------------------------------------------------------------------
// ParseResources

TEST(ResourceParsing, ParsesTheDocumentedExample) {
  ResourceCatalog catalog;
  absl::StatusOr<ResourceVector> r = ParseResources(catalog, "cpu=8,memory=64Gi,gpu=4");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->cpu_millis(), 8000);
  EXPECT_EQ(r->memory_bytes(), 64LL << 30);
  EXPECT_EQ(r->gpus(), 4);
  EXPECT_EQ(*r, ResourceVector::Of(8000, 64 * kGi, 4));
}

TEST(ResourceParsing, TreatsEmptyTextAsTheZeroVector) {
  ResourceCatalog catalog;
  for (std::string_view text : {"", "   "}) {
    absl::StatusOr<ResourceVector> r = ParseResources(catalog, text);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_TRUE(r->IsZero());
  }
}

TEST(ResourceParsing, LeavesUnmentionedKindsAtZero) {
  ResourceCatalog catalog;
  absl::StatusOr<ResourceVector> r = ParseResources(catalog, "gpu=2");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, ResourceVector::Of(0, 0, 2));
}

TEST(ResourceParsing, AcceptsKindsInAnyOrderAndAroundWhitespace) {
  ResourceCatalog catalog;
  absl::StatusOr<ResourceVector> r = ParseResources(catalog, " gpu = 4 , cpu=500m ,memory= 1.5Gi ");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, ResourceVector::Of(500, 3 * (kGi / 2), 4));
}

TEST(ResourceParsing, AcceptsRegisteredExtendedKinds) {
  ResourceCatalog catalog;
  const ResourceKind rdma = catalog.Register("rdma").value();
  const ResourceKind mig = catalog.Register("nvidia.com/mig-1g.5gb").value();
  absl::StatusOr<ResourceVector> r = ParseResources(catalog, "cpu=1,rdma=2,nvidia.com/mig-1g.5gb=7");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->cpu_millis(), 1000);
  EXPECT_EQ(r->Get(rdma), 2);
  EXPECT_EQ(r->Get(mig), 7);
}

TEST(ResourceParsing, RejectsAnUnknownKindAndNamesTheEntry) {
  ResourceCatalog catalog;
  EXPECT_TRUE(FailsWith(ParseResources(catalog, "cpu=8,tpu=4"), absl::StatusCode::kInvalidArgument,
                        "\"tpu=4\": unknown resource kind \"tpu\""));
  // Registered in another catalog does not count.
  ResourceCatalog other;
  ASSERT_TRUE(other.Register("rdma").ok());
  EXPECT_TRUE(FailsWith(ParseResources(catalog, "rdma=1"), absl::StatusCode::kInvalidArgument, "rdma=1"));
  EXPECT_TRUE(FailsWith(ParseResources(catalog, "=4"), absl::StatusCode::kInvalidArgument, "\"=4\""));
}

TEST(ResourceParsing, RejectsADuplicateKindAndNamesTheEntry) {
  ResourceCatalog catalog;
  EXPECT_TRUE(FailsWith(ParseResources(catalog, "cpu=1,gpu=1,cpu=2"), absl::StatusCode::kInvalidArgument,
                        "\"cpu=2\": resource kind \"cpu\" given twice"));
  const ResourceKind rdma = catalog.Register("rdma").value();
  (void)rdma;
  EXPECT_TRUE(FailsWith(ParseResources(catalog, "rdma=1,rdma=1"), absl::StatusCode::kInvalidArgument, "rdma"));
}

TEST(ResourceParsing, RejectsAnEntryWithoutAnEqualsSign) {
  ResourceCatalog catalog;
  EXPECT_TRUE(FailsWith(ParseResources(catalog, "cpu=8,gpu4"), absl::StatusCode::kInvalidArgument, "\"gpu4\""));
  EXPECT_TRUE(FailsWith(ParseResources(catalog, "cpu"), absl::StatusCode::kInvalidArgument, "\"cpu\""));
}

TEST(ResourceParsing, RejectsEmptyEntries) {
  ResourceCatalog catalog;
  EXPECT_FALSE(ParseResources(catalog, "cpu=8,").ok());
  EXPECT_FALSE(ParseResources(catalog, ",cpu=8").ok());
  EXPECT_FALSE(ParseResources(catalog, "cpu=8,,gpu=1").ok());
}

TEST(ResourceParsing, RejectsABadQuantityAndNamesTheEntry) {
  ResourceCatalog catalog;
  EXPECT_TRUE(FailsWith(ParseResources(catalog, "cpu=8,memory=12Q"), absl::StatusCode::kInvalidArgument,
                        "memory=12Q: unknown suffix \"Q\""));
  EXPECT_TRUE(FailsWith(ParseResources(catalog, "gpu=0"), absl::StatusCode::kInvalidArgument, "gpu=0"));
  EXPECT_TRUE(FailsWith(ParseResources(catalog, "gpu=-2"), absl::StatusCode::kInvalidArgument, "gpu=-2"));
  EXPECT_TRUE(FailsWith(ParseResources(catalog, "gpu="), absl::StatusCode::kInvalidArgument, "gpu="));
  EXPECT_TRUE(FailsWith(ParseResources(catalog, "memory=1.5"), absl::StatusCode::kInvalidArgument, "memory=1.5"));
  EXPECT_TRUE(FailsWith(ParseResources(catalog, "cpu=0.5m"), absl::StatusCode::kInvalidArgument, "cpu=0.5m"));
  EXPECT_TRUE(FailsWith(ParseResources(catalog, "memory=8192Pi"), absl::StatusCode::kInvalidArgument, "memory=8192Pi"));
}

// ---------------------------------------------------------------------------
// FormatResources

TEST(ResourceFormatting, FormatsTheDocumentedExample) {
  ResourceCatalog catalog;
  EXPECT_EQ(FormatResources(catalog, ResourceVector::Of(8000, 64 * kGi, 4)), "cpu=8,memory=64Gi,gpu=4");
}

TEST(ResourceFormatting, FormatsTheZeroVectorAsEmptyText) {
  ResourceCatalog catalog;
  EXPECT_EQ(FormatResources(catalog, ResourceVector()), "");
}

TEST(ResourceFormatting, OmitsZeroKinds) {
  ResourceCatalog catalog;
  EXPECT_EQ(FormatResources(catalog, ResourceVector::Of(0, 0, 2)), "gpu=2");
  EXPECT_EQ(FormatResources(catalog, ResourceVector::Of(1000, 0, 0)), "cpu=1");
}

TEST(ResourceFormatting, WritesMilliCoresWhenCoresAreNotWhole) {
  ResourceCatalog catalog;
  EXPECT_EQ(FormatResources(catalog, ResourceVector::Of(500, 0, 0)), "cpu=500m");
  EXPECT_EQ(FormatResources(catalog, ResourceVector::Of(1250, 0, 0)), "cpu=1250m");
}

TEST(ResourceFormatting, WritesMemoryWithTheLargestExactBinarySuffix) {
  ResourceCatalog catalog;
  EXPECT_EQ(FormatResources(catalog, ResourceVector::Of(0, 512, 0)), "memory=512");
  EXPECT_EQ(FormatResources(catalog, ResourceVector::Of(0, kKi, 0)), "memory=1Ki");
  EXPECT_EQ(FormatResources(catalog, ResourceVector::Of(0, 3 * (kGi / 2), 0)), "memory=1536Mi");
  EXPECT_EQ(FormatResources(catalog, ResourceVector::Of(0, 2 * kTi, 0)), "memory=2Ti");
  EXPECT_EQ(FormatResources(catalog, ResourceVector::Of(0, 4096 * kPi, 0)), "memory=4096Pi");
  EXPECT_EQ(FormatResources(catalog, ResourceVector::Of(0, 1'000'000'000, 0)), "memory=1000000000");
}

TEST(ResourceFormatting, ListsExtendedKindsInCatalogOrderAfterBuiltIns) {
  ResourceCatalog catalog;
  const ResourceKind rdma = catalog.Register("rdma").value();
  const ResourceKind nvme = catalog.Register("nvme").value();
  ResourceVector v = ResourceVector::Of(2000, 0, 1);
  v.Set(nvme, 3);
  v.Set(rdma, 1);
  EXPECT_EQ(FormatResources(catalog, v), "cpu=2,gpu=1,rdma=1,nvme=3");
}

// Regression example for the property below: ParseResources accepts this text
// and its own formatted output must parse back to the same vector.
TEST(ResourceFormatting, RoundTripsAQuantityParsedFromAFraction) {
  ResourceCatalog catalog;
  absl::StatusOr<ResourceVector> first = ParseResources(catalog, "memory=1000000000000000.001k");
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_EQ(first->memory_bytes(), 1'000'000'000'000'000'001);
  const std::string text = FormatResources(catalog, *first);
  absl::StatusOr<ResourceVector> second = ParseResources(catalog, text);
  ASSERT_TRUE(second.ok()) << "\"" << text << "\": " << second.status();
  EXPECT_EQ(*second, *first);
}

// Builds a vector over every slot of a full catalog, each kind either absent
// or a quantity from `quantity`.
rc::Gen<ResourceVector> GenVector(rc::Gen<std::int64_t> quantity) {
  return rc::gen::map(
      rc::gen::container<std::vector<std::pair<bool, std::int64_t>>>(
          kMaxResourceKinds, rc::gen::pair(rc::gen::arbitrary<bool>(), std::move(quantity))),
      [](const std::vector<std::pair<bool, std::int64_t>>& slots) {
        ResourceVector v;
        for (int i = 0; i < kMaxResourceKinds; ++i)
          if (slots[i].first) v.Set(Extended(i), slots[i].second);
        return v;
      });
}

void CheckRoundTrip(const ResourceVector& v) {
  const ResourceCatalog catalog = FullCatalog();
  const std::string text = FormatResources(catalog, v);
  absl::StatusOr<ResourceVector> parsed = ParseResources(catalog, text);
  RC_LOG() << "text: " << text << "\n";
  if (!parsed.ok()) RC_LOG() << "error: " << parsed.status().ToString() << "\n";
  RC_ASSERT(parsed.ok());
  RC_ASSERT(*parsed == v);
}

RC_GTEST_PROP(ResourceFormatting, RoundTripsThroughParseResources, ()) {
  CheckRoundTrip(*GenVector(rc::gen::positive<std::int64_t>()));
}

// The same invariant restricted to quantities below 10^18 (at most 18 digits
// in any form), which covers every realistic request.
RC_GTEST_PROP(ResourceFormatting, RoundTripsQuantitiesBelowTenToTheEighteenth, ()) {
  CheckRoundTrip(*GenVector(rc::gen::inRange<std::int64_t>(1, 1'000'000'000'000'000'000)));
}

// ---------------------------------------------------------------------------
// ResourceVector

// Job classes and node capacities are found by this hash: equal vectors
// must hash alike, and vectors that differ in any one kind, or only in the
// order of their quantities, should not.
TEST(ResourceVector, HashesConsistentlyWithEqualityAndTellsKindsApart) {
  std::vector<ResourceVector> values = {ResourceVector{}, ResourceVector::Of(1000, 0, 0),
                                        ResourceVector::Of(0, 1000, 0), ResourceVector::Of(0, 0, 1000),
                                        ResourceVector::Of(4000, 1 << 30, 8), ResourceVector::Of(4000, 1 << 30, 8)};
  for (int k = 0; k < kMaxResourceKinds; ++k) {
    ResourceVector v;
    v.Set(ResourceKind(static_cast<std::uint8_t>(k)), 1);
    values.push_back(v);
  }
  EXPECT_TRUE(absl::VerifyTypeImplementsAbslHashCorrectly(values));
  for (std::size_t a = 0; a < values.size(); ++a) {
    for (std::size_t b = 0; b < values.size(); ++b) {
      if (values[a] == values[b]) continue;
      EXPECT_NE(absl::HashOf(values[a]), absl::HashOf(values[b])) << a << " and " << b;
    }
  }
}

TEST(ResourceVector, DefaultIsZero) {
  ResourceVector v;
  EXPECT_TRUE(v.IsZero());
  EXPECT_FALSE(v.AnyNegative());
  for (int i = 0; i < kMaxResourceKinds; ++i) EXPECT_EQ(v.Get(Extended(i)), 0) << i;
}

TEST(ResourceVector, OfSetsTheBuiltInKinds) {
  const ResourceVector v = ResourceVector::Of(8000, 64 * kGi, 4);
  EXPECT_EQ(v.cpu_millis(), 8000);
  EXPECT_EQ(v.memory_bytes(), 64 * kGi);
  EXPECT_EQ(v.gpus(), 4);
  EXPECT_EQ(v.Get(kCpu), 8000);
  EXPECT_EQ(v.Get(kMemory), 64 * kGi);
  EXPECT_EQ(v.Get(kGpu), 4);
  for (int i = 3; i < kMaxResourceKinds; ++i) EXPECT_EQ(v.Get(Extended(i)), 0) << i;
}

TEST(ResourceVector, SetChangesOnlyTheGivenKind) {
  ResourceVector v = ResourceVector::Of(1, 2, 3);
  v.Set(Extended(5), 9);
  v.Set(kGpu, 7);
  EXPECT_EQ(v, [] {
    ResourceVector w = ResourceVector::Of(1, 2, 7);
    w.Set(Extended(5), 9);
    return w;
  }());
}

TEST(ResourceVector, IsZeroAndAnyNegativeLookAtEveryKind) {
  ResourceVector v;
  v.Set(Extended(7), 1);
  EXPECT_FALSE(v.IsZero());
  EXPECT_FALSE(v.AnyNegative());
  v.Set(Extended(7), -1);
  EXPECT_FALSE(v.IsZero());
  EXPECT_TRUE(v.AnyNegative());
}

TEST(ResourceFitting, AVectorFitsInItself) {
  const ResourceVector v = ResourceVector::Of(8000, 64 * kGi, 4);
  EXPECT_TRUE(v.FitsIn(v));
}

TEST(ResourceFitting, FitsWhenEveryKindIsAtMostTheCapacity) {
  const ResourceVector capacity = ResourceVector::Of(8000, 64 * kGi, 4);
  EXPECT_TRUE(ResourceVector::Of(4000, 32 * kGi, 4).FitsIn(capacity));
  EXPECT_TRUE(ResourceVector().FitsIn(capacity));
}

TEST(ResourceFitting, DoesNotFitWhenAnySingleKindExceedsTheCapacity) {
  const ResourceVector capacity = ResourceVector::Of(8000, 64 * kGi, 4);
  EXPECT_FALSE(ResourceVector::Of(8001, 1, 1).FitsIn(capacity));
  EXPECT_FALSE(ResourceVector::Of(1, 64 * kGi + 1, 1).FitsIn(capacity));
  EXPECT_FALSE(ResourceVector::Of(1, 1, 5).FitsIn(capacity));
  ResourceVector wants_rdma = ResourceVector::Of(1, 1, 1);
  wants_rdma.Set(Extended(3), 1);
  EXPECT_FALSE(wants_rdma.FitsIn(capacity));  // the capacity has no rdma
}

TEST(ResourceFitting, FittingIsNotATotalOrder) {
  const ResourceVector a = ResourceVector::Of(2000, 1, 0);
  const ResourceVector b = ResourceVector::Of(1000, 2, 0);
  EXPECT_FALSE(a.FitsIn(b));
  EXPECT_FALSE(b.FitsIn(a));
}

TEST(ResourceFitting, CopiesThatFitIsLimitedByTheScarcestKind) {
  const ResourceVector node = ResourceVector::Of(96'000, 1024 * kGi, 8);
  EXPECT_EQ(node.CopiesThatFit(ResourceVector::Of(8000, 64 * kGi, 1)), 8);   // gpu-bound
  EXPECT_EQ(node.CopiesThatFit(ResourceVector::Of(32'000, 64 * kGi, 1)), 3);  // cpu-bound
  EXPECT_EQ(node.CopiesThatFit(ResourceVector::Of(1000, 300 * kGi, 0)), 3);   // memory-bound
  EXPECT_EQ(node.CopiesThatFit(ResourceVector::Of(1000, kGi, 3)), 2);         // 8 / 3
}

TEST(ResourceFitting, CopiesThatFitIgnoresKindsTheItemDoesNotNeed) {
  const ResourceVector node = ResourceVector::Of(4000, 16 * kGi, 0);
  EXPECT_EQ(node.CopiesThatFit(ResourceVector::Of(1000, 0, 0)), 4);
}

TEST(ResourceFitting, CopiesThatFitIsZeroForAZeroItem) {
  const ResourceVector node = ResourceVector::Of(4000, 16 * kGi, 8);
  EXPECT_EQ(node.CopiesThatFit(ResourceVector()), 0);
}

TEST(ResourceFitting, CopiesThatFitIsZeroWhenAKindIsMissingOrTooSmall) {
  const ResourceVector node = ResourceVector::Of(4000, 16 * kGi, 0);
  EXPECT_EQ(node.CopiesThatFit(ResourceVector::Of(1000, kGi, 1)), 0);
  EXPECT_EQ(node.CopiesThatFit(ResourceVector::Of(5000, kGi, 0)), 0);
  ResourceVector overdrawn = node;
  overdrawn.Set(kCpu, -1000);
  EXPECT_EQ(overdrawn.CopiesThatFit(ResourceVector::Of(1000, 0, 0)), 0);
}

TEST(ResourceArithmetic, AddsAndSubtractsEveryKind) {
  ResourceVector a = ResourceVector::Of(1000, 2 * kGi, 1);
  a.Set(Extended(4), 3);
  ResourceVector b = ResourceVector::Of(500, kGi, 2);
  b.Set(Extended(7), 1);
  ResourceVector sum = ResourceVector::Of(1500, 3 * kGi, 3);
  sum.Set(Extended(4), 3);
  sum.Set(Extended(7), 1);
  EXPECT_EQ(a + b, sum);
  EXPECT_EQ(sum - b, a);
  ResourceVector c = a;
  c += b;
  EXPECT_EQ(c, sum);
  c -= a;
  EXPECT_EQ(c, b);
}

TEST(ResourceArithmetic, SubtractionCanGoNegative) {
  const ResourceVector diff = ResourceVector::Of(1000, 0, 1) - ResourceVector::Of(2000, 0, 0);
  EXPECT_EQ(diff, ResourceVector::Of(-1000, 0, 1));
  EXPECT_TRUE(diff.AnyNegative());
}

TEST(ResourceArithmetic, TimesScalesEveryKind) {
  ResourceVector v = ResourceVector::Of(1500, kGi, 2);
  v.Set(Extended(6), 5);
  ResourceVector expected = ResourceVector::Of(6000, 4 * kGi, 8);
  expected.Set(Extended(6), 20);
  EXPECT_EQ(v.Times(4), expected);
  EXPECT_TRUE(v.Times(0).IsZero());
}

TEST(ResourceArithmetic, EqualityComparesEveryKind) {
  ResourceVector a = ResourceVector::Of(1, 2, 3);
  ResourceVector b = a;
  EXPECT_EQ(a, b);
  b.Set(Extended(7), 1);
  EXPECT_NE(a, b);
}

rc::Gen<ResourceVector> GenSmallVector(std::int64_t lo, std::int64_t hi) {
  return rc::gen::map(
      rc::gen::container<std::vector<std::int64_t>>(kMaxResourceKinds,
                                                    rc::gen::inRange<std::int64_t>(lo, hi)),
      [](const std::vector<std::int64_t>& q) {
        ResourceVector v;
        for (int i = 0; i < kMaxResourceKinds; ++i) v.Set(Extended(i), q[i]);
        return v;
      });
}

RC_GTEST_PROP(ResourceArithmetic, SubtractionUndoesAddition, ()) {
  const ResourceVector a = *GenSmallVector(-(1LL << 40), 1LL << 40);
  const ResourceVector b = *GenSmallVector(-(1LL << 40), 1LL << 40);
  RC_ASSERT((a + b) - b == a);
  RC_ASSERT(a + b == b + a);
}

RC_GTEST_PROP(ResourceFitting, FitsInIffEveryKindIsAtMostTheCapacity, ()) {
  const ResourceVector a = *GenSmallVector(0, 10);
  const ResourceVector b = *GenSmallVector(0, 10);
  bool expected = true;
  for (int i = 0; i < kMaxResourceKinds; ++i) expected &= a.Get(Extended(i)) <= b.Get(Extended(i));
  RC_ASSERT(a.FitsIn(b) == expected);
  RC_ASSERT(a.FitsIn(a + b));
}

// n = CopiesThatFit(item) is the largest n with item * n fitting.
RC_GTEST_PROP(ResourceFitting, CopiesThatFitIsTheLargestCountThatFits, ()) {
  const ResourceVector capacity = *GenSmallVector(0, 1000);
  const ResourceVector item = *GenSmallVector(0, 50);
  RC_PRE(!item.IsZero());
  const std::int64_t n = capacity.CopiesThatFit(item);
  RC_ASSERT(n >= 0);
  RC_ASSERT(item.Times(n).FitsIn(capacity));
  RC_ASSERT(!item.Times(n + 1).FitsIn(capacity));
}

// ---------------------------------------------------------------------------
// CheckKindsRegistered

TEST(ResourceKindCheck, AcceptsVectorsOfBuiltInKinds) {
  ResourceCatalog catalog;
  EXPECT_TRUE(CheckKindsRegistered(catalog, ResourceVector::Of(1000, kGi, 8), "node \"a\"").ok());
  EXPECT_TRUE(CheckKindsRegistered(catalog, ResourceVector(), "node \"a\"").ok());
}

TEST(ResourceKindCheck, AcceptsRegisteredExtendedKinds) {
  ResourceCatalog catalog;
  const ResourceKind rdma = catalog.Register("rdma").value();
  ResourceVector v = ResourceVector::Of(1000, 0, 0);
  v.Set(rdma, 2);
  EXPECT_TRUE(CheckKindsRegistered(catalog, v, "x").ok());
}

TEST(ResourceKindCheck, RejectsAnUnregisteredKindAndNamesTheVector) {
  ResourceCatalog catalog;
  ASSERT_TRUE(catalog.Register("rdma").ok());  // index 3
  ResourceVector v = ResourceVector::Of(1000, 0, 0);
  v.Set(Extended(4), 2);
  EXPECT_TRUE(FailsWith(CheckKindsRegistered(catalog, v, "job \"a\": task_groups[0].per_task"),
                        absl::StatusCode::kInvalidArgument, "job \"a\": task_groups[0].per_task"));
  EXPECT_TRUE(FailsWith(CheckKindsRegistered(catalog, v, "w"), absl::StatusCode::kInvalidArgument, "#4"));
}

TEST(ResourceKindCheck, RejectsANegativeQuantityOfAnUnregisteredKind) {
  ResourceCatalog catalog;
  ResourceVector v;
  v.Set(Extended(7), -1);
  EXPECT_FALSE(CheckKindsRegistered(catalog, v, "v").ok());
}

// ---------------------------------------------------------------------------
// FormatDuration

TEST(DurationFormatting, FormatsTheDocumentedExamples) {
  EXPECT_EQ(FormatDuration(950 * kMicrosecond), "950us");
  EXPECT_EQ(FormatDuration(1500 * kMillisecond), "1.5s");
  EXPECT_EQ(FormatDuration(3 * kMinute + 20 * kSecond), "3m20s");
  EXPECT_EQ(FormatDuration(2 * kHour + 5 * kMinute), "2h05m");
  EXPECT_EQ(FormatDuration(3 * kDay + 4 * kHour), "3d04h");
}

TEST(DurationFormatting, UsesMicrosecondsBelowOneMillisecond) {
  EXPECT_EQ(FormatDuration(0), "0us");
  EXPECT_EQ(FormatDuration(1), "1us");
  EXPECT_EQ(FormatDuration(999), "999us");
}

TEST(DurationFormatting, UsesOneDecimalForMillisecondsAndSeconds) {
  EXPECT_EQ(FormatDuration(kMillisecond), "1.0ms");
  EXPECT_EQ(FormatDuration(1500), "1.5ms");
  EXPECT_EQ(FormatDuration(kSecond), "1.0s");
  EXPECT_EQ(FormatDuration(42 * kSecond + 300 * kMillisecond), "42.3s");
}

TEST(DurationFormatting, DropsTheSmallerUnitsOfLongDurations) {
  EXPECT_EQ(FormatDuration(kMinute), "1m00s");
  EXPECT_EQ(FormatDuration(3 * kMinute + 20 * kSecond + 999 * kMillisecond), "3m20s");
  EXPECT_EQ(FormatDuration(kHour), "1h00m");
  EXPECT_EQ(FormatDuration(kHour + 59 * kSecond), "1h00m");
  EXPECT_EQ(FormatDuration(kDay), "1d00h");
  EXPECT_EQ(FormatDuration(400 * kDay + 23 * kHour + 59 * kMinute), "400d23h");
}

TEST(DurationFormatting, PrefixesNegativeDurationsWithAMinus) {
  EXPECT_EQ(FormatDuration(-1500 * kMillisecond), "-1.5s");
  EXPECT_EQ(FormatDuration(-950), "-950us");
}

// A duration just under a unit boundary must not print as the boundary value
// of the smaller unit ("1000.0ms" for 999.999ms); the larger units truncate.
TEST(DurationFormatting, NeverPrintsAFullUnitBelowItsBoundary) {
  EXPECT_NE(FormatDuration(kSecond - 1), "1000.0ms");
  EXPECT_NE(FormatDuration(kMinute - 1), "60.0s");
}

TEST(DurationFormattingDeathTest, FormatsTheMostNegativeDurationWithoutCrashing) {
  EXPECT_EXIT(
      {
        const std::string s = FormatDuration(std::numeric_limits<Duration>::min());
        std::exit(!s.empty() && s[0] == '-' ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
}

}  // namespace
}  // namespace mlsched

// Fuzzing the quantity grammar: random texts over the characters the grammar
// uses never crash the parser, and anything it accepts formats back to a text
// that parses to the same vector.
namespace mlsched {
namespace {

RC_GTEST_PROP(ResourceParsingFuzz, AcceptedTextsRoundTripAndNothingCrashes, ()) {
  static const std::string kAlphabet = "0123456789.,=-+ mkKiMGTPcpuemorygrdma_/x";
  const auto chars = *rc::gen::container<std::vector<char>>(rc::gen::elementOf(kAlphabet));
  const std::string text(chars.begin(), chars.end());
  ResourceCatalog catalog;
  ASSERT_TRUE(catalog.Register("rdma").ok());
  const absl::StatusOr<ResourceVector> parsed = ParseResources(catalog, text);
  if (!parsed.ok()) {
    RC_ASSERT(!parsed.status().message().empty());
    return;
  }
  RC_ASSERT(!parsed->AnyNegative());
  const absl::StatusOr<ResourceVector> again = ParseResources(catalog, FormatResources(catalog, *parsed));
  RC_ASSERT(again.ok());
  RC_ASSERT(*again == *parsed);
}

RC_GTEST_PROP(ResourceParsingFuzz, WellFormedEntriesWithRandomQuantitiesNeverCrash, ()) {
  const auto kind = *rc::gen::element<std::string>("cpu", "memory", "gpu");
  const auto number = *rc::gen::container<std::string>(rc::gen::elementOf(std::string("0123456789.")));
  const auto suffix = *rc::gen::element<std::string>("", "m", "Ki", "Mi", "Gi", "Ti", "Pi", "k", "K", "M", "G", "T", "P", "x");
  ResourceCatalog catalog;
  const absl::StatusOr<ResourceVector> parsed = ParseResources(catalog, kind + "=" + number + suffix);
  if (parsed.ok()) {
    RC_ASSERT(ParseResources(catalog, FormatResources(catalog, *parsed)).value() == *parsed);
  }
}

}  // namespace
}  // namespace mlsched
