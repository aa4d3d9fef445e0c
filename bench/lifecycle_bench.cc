// Job lifecycle benchmarks (one thread, Release).
//   BM_Cron_NextFiring  the next firing of each of 1,000,000 schedules: every
//                       minute, every n minutes, hourly, daily, weekdays,
//                       weekly, monthly and quarterly, spread over UTC and four
//                       zones (three with DST, one with a 30-minute shift),
//                       each from its own instant in 2026 (some fall next to
//                       DST changes): <= 1 s for the million, i.e. <= 1 us each
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "mlsched/cron.h"

namespace mlsched {
namespace {

struct Schedule {
  CronExpression cron;
  int zone;
  Timestamp after;
};

struct Schedules {
  std::vector<absl::TimeZone> zones;
  std::vector<Schedule> all;
};

std::string RandomText(std::mt19937_64& rng) {
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<std::uint64_t>(n)); };
  const int minute = pick(60), hour = pick(24);
  const int kind = pick(100);
  if (kind < 10) return "* * * * *";
  if (kind < 20) return "*/" + std::to_string(5 * (1 + pick(6))) + " * * * *";
  if (kind < 40) return std::to_string(minute) + " * * * *";
  if (kind < 65) return std::to_string(minute) + " " + std::to_string(hour) + " * * *";
  if (kind < 75) return std::to_string(minute) + " " + std::to_string(hour) + " * * MON-FRI";
  if (kind < 85) return std::to_string(minute) + " " + std::to_string(hour) + " * * " + std::to_string(pick(7));
  if (kind < 95) return std::to_string(minute) + " " + std::to_string(hour) + " " + std::to_string(1 + pick(31)) + " * *";
  return "0 " + std::to_string(hour) + " 1 1,4,7,10 *";
}

const Schedules& MillionSchedules() {
  static const Schedules* schedules = [] {
    auto* s = new Schedules;
    for (const char* name : {"UTC", "America/New_York", "Europe/Berlin", "Asia/Kolkata", "Australia/Lord_Howe"})
      s->zones.push_back(LoadTimeZone(name).value());
    std::mt19937_64 rng(42);
    const Timestamp start = 1'767'225'600 * kSecond;  // 2026-01-01T00:00:00Z
    s->all.reserve(1'000'000);
    for (int i = 0; i < 1'000'000; ++i) {
      auto cron = CronExpression::Parse(RandomText(rng));
      if (!cron.ok()) std::abort();
      const Timestamp after = start + static_cast<Timestamp>(rng() % static_cast<std::uint64_t>(365 * kDay));
      s->all.push_back({*std::move(cron), static_cast<int>(rng() % s->zones.size()), after});
    }
    return s;
  }();
  return *schedules;
}

void BM_Cron_NextFiring(benchmark::State& state) {
  const Schedules& s = MillionSchedules();
  for (auto _ : state) {
    Timestamp checksum = 0;
    for (const Schedule& schedule : s.all) checksum ^= schedule.cron.Next(schedule.after, s.zones[schedule.zone]);
    benchmark::DoNotOptimize(checksum);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(s.all.size()));
}
BENCHMARK(BM_Cron_NextFiring)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace mlsched
