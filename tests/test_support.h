// Helpers shared by the engine test files: a standard GPU node and a small
// "executor" that keeps started attempts running until a chosen end time.
#ifndef MLSCHED_TESTS_TEST_SUPPORT_H_
#define MLSCHED_TESTS_TEST_SUPPORT_H_

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "absl/functional/function_ref.h"
#include "mlsched/engine.h"

namespace mlsched::testing_util {

inline constexpr std::int64_t kGi = std::int64_t{1} << 30;

// 64 cores, 512 GiB and `gpus` GPUs of `model` in one NVLink domain.
inline NodeSpec GpuNode(std::string name, int gpus = 8, std::string model = "A100") {
  NodeSpec n{.name = std::move(name), .capacity = ResourceVector::Of(64'000, 512 * kGi, 0)};
  for (int i = 0; i < gpus; ++i) n.gpus.push_back({.index = i, .model = model});
  return n;
}

// Attempts the test is running, each until its end time.
class LiveAttempts {
 public:
  // Starts of `round` run until end_of(decision); killed attempts end at `now`.
  void Apply(const SchedulingRound& round, Timestamp now, absl::FunctionRef<Timestamp(const Decision&)> end_of) {
    for (const Decision& d : round.decisions) {
      if (d.kind == DecisionKind::kStart) {
        live_.push_back({d.job, d.token, d.placement_count, end_of(d)});
      } else if (d.kind == DecisionKind::kKill) {
        for (Live& l : live_)
          if (l.job == d.job && l.token == d.token) l.end = now;
      }
    }
  }
  // The earliest end, or `fallback` if that is earlier (or nothing runs).
  Timestamp NextEnd(Timestamp fallback) const {
    for (const Live& l : live_) fallback = std::min(fallback, l.end);
    return fallback;
  }
  // Reports the exit of every task of attempts that ended by `now`. False if
  // the engine refused a report.
  bool ExitDue(Engine& engine, Timestamp now) {
    bool ok = true;
    for (auto it = live_.begin(); it != live_.end();) {
      if (it->end > now) {
        ++it;
        continue;
      }
      for (std::uint32_t t = 0; t < it->tasks; ++t)
        ok &= engine.TaskExited({.job = it->job, .token = it->token, .task = static_cast<int>(t)}).ok();
      it = live_.erase(it);
    }
    return ok;
  }
  bool empty() const { return live_.empty(); }

 private:
  struct Live {
    JobId job;
    FencingToken token;
    std::uint32_t tasks;
    Timestamp end;
  };
  std::vector<Live> live_;
};

// One task of `gpus` GPUs (or `tasks` of them), 4 cores and 16 GiB each.
inline JobSpec GpuJob(std::string name, int gpus, int tasks = 1, std::string tenant = "research") {
  return JobSpec{.name = std::move(name), .tenant = std::move(tenant), .user = "ana",
                 .task_groups = {{.count = tasks, .per_task = ResourceVector::Of(4000, 16 * kGi, gpus)}}};
}

// An engine on a manual clock, with the calls tests make most.
class EngineFixture : public ::testing::Test {
 protected:
  void Make(EngineOptions options = {}) {
    options.clock = &clock_;
    if (options.seed == 0) options.seed = 7;
    engine_ = Engine::Create(std::move(options)).value();
  }
  void SetUp() override { Make(); }
  NodeId Add(NodeSpec spec) { return engine_->AddNode(std::move(spec)).value(); }
  JobId Submit(JobSpec spec) {
    auto id = engine_->Submit(std::move(spec));
    EXPECT_TRUE(id.ok()) << id.status();
    return id.value_or(JobId());
  }
  SchedulingRound Tick() {
    SchedulingRound round;
    EXPECT_TRUE(engine_->Tick(&round).ok());
    return round;
  }
  static const Decision* Find(const SchedulingRound& r, DecisionKind kind, JobId job) {
    for (const Decision& d : r.decisions)
      if (d.kind == kind && d.job == job) return &d;
    return nullptr;
  }
  static const Decision* StartOf(const SchedulingRound& r, JobId job) { return Find(r, DecisionKind::kStart, job); }
  JobState State(JobId job) { return engine_->GetJob(job).value().state; }
  // Every task of the start `d` reports started, then exited with `code` / `signal`.
  void Finish(const SchedulingRound& r, const Decision& d, int code = 0, int signal = 0) {
    for (const TaskPlacement& p : r.PlacementsOf(d)) {
      ASSERT_TRUE(engine_->TaskStarted({.job = d.job, .token = d.token, .task = static_cast<int>(p.task)}).ok());
      ASSERT_TRUE(engine_->TaskExited({.job = d.job, .token = d.token, .task = static_cast<int>(p.task),
                                       .exit_code = code, .signal = signal})
                      .ok());
    }
  }
  void StartAll(const SchedulingRound& r, const Decision& d) {
    for (const TaskPlacement& p : r.PlacementsOf(d))
      ASSERT_TRUE(engine_->TaskStarted({.job = d.job, .token = d.token, .task = static_cast<int>(p.task)}).ok());
  }
  // Reports the exit of every task a kill decision names.
  void ExitKilled(const SchedulingRound& r, int signal = 15) {
    for (const Decision& d : r.decisions) {
      if (d.kind != DecisionKind::kKill) continue;
      for (const TaskPlacement& p : r.PlacementsOf(d))
        ASSERT_TRUE(engine_->TaskExited({.job = d.job, .token = d.token, .task = static_cast<int>(p.task),
                                         .signal = signal})
                        .ok());
    }
  }

  ManualClock clock_{1'000 * kSecond};
  std::unique_ptr<Engine> engine_;
};

// A temporary directory of the running test's own: ctest runs the tests of
// one binary as parallel processes, so fixed file names in TempDir() race.
inline std::string TestDir() {
  const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string dir = ::testing::TempDir() + "/mlsched-test";
  if (info != nullptr) dir += std::string("-") + info->test_suite_name() + "." + info->name();
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace mlsched::testing_util

#endif  // MLSCHED_TESTS_TEST_SUPPORT_H_
