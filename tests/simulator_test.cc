// The simulator: replay semantics, faults, determinism, and FCFS, EASY and
// conservative backfilling against independent textbook implementations.
#include "mlsched/sim/simulator.h"
#include "mlsched/sim/synthetic.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cmath>
#include <list>
#include <random>

#include "mlsched/policy/ordering.h"
#include "mlsched/policy/placement.h"
#include "fmt/format.h"
#include "test_support.h"

namespace mlsched::sim {
namespace {

using testing_util::GpuNode;
using testing_util::kGi;

// A bare processor-count machine, as the SWF reader models one.
Workload ProcessorMachine(int procs) {
  Workload w{.name = "procs"};
  w.nodes.push_back({.name = "machine", .capacity = ResourceVector::Of(procs * 1000LL, std::int64_t{1} << 50, 0)});
  return w;
}

TraceJob ProcJob(int id, Timestamp submit, int procs, Duration runtime, Duration estimate) {
  return {.spec = {.name = "j" + std::to_string(id), .tenant = "t", .user = "u",
                   .task_groups = {{.count = 1, .per_task = ResourceVector::Of(procs * 1000LL, 1, 0)}},
                   .time_limit = estimate},
          .submit = submit,
          .runtime = runtime,
          .trace_id = id};
}

// ---------------------------------------------------------------------------
// Textbook EASY backfilling (Lifka; Mu'alem & Feitelson 2001) on P
// processors, written from the definition and independent of the engine:
// at each instant, after all arrivals and ends, start queued jobs in FCFS
// order while they fit; if the head does not fit, its shadow time is when
// enough processors will be free counting running jobs' estimated ends (a
// job past its estimate ends now), `extra` is what is free then beyond its
// need; a later job is backfilled if it fits now and either ends by the
// shadow time (ending exactly then is allowed) or uses only extra
// processors. Jobs run min(runtime, estimate).
std::vector<Timestamp> TextbookEasy(int procs, const std::vector<TraceJob>& jobs) {
  struct Running {
    std::size_t job;
    Timestamp est_end, end;
  };
  std::vector<Timestamp> start(jobs.size(), -1);
  std::vector<Running> running;
  std::list<std::size_t> queue;
  int free = procs;
  std::size_t next = 0;
  auto need = [&](std::size_t j) { return static_cast<int>(jobs[j].spec.task_groups[0].per_task.cpu_millis() / 1000); };
  while (next < jobs.size() || !queue.empty() || !running.empty()) {
    Timestamp t = kInfiniteFuture;
    if (next < jobs.size()) t = jobs[next].submit;
    for (const Running& r : running) t = std::min(t, r.end);
    if (t == kInfiniteFuture) break;  // only jobs that can never fit remain
    for (auto it = running.begin(); it != running.end();) {
      if (it->end <= t) {
        free += need(it->job);
        it = running.erase(it);
      } else {
        ++it;
      }
    }
    for (; next < jobs.size() && jobs[next].submit <= t; ++next) queue.push_back(next);
    auto launch = [&](std::size_t j) {
      start[j] = t;
      free -= need(j);
      const Duration run = std::min(jobs[j].runtime, jobs[j].spec.time_limit);
      running.push_back({j, t + jobs[j].spec.time_limit, t + run});
    };
    while (!queue.empty() && need(queue.front()) <= free) {
      launch(queue.front());
      queue.pop_front();
    }
    if (queue.empty() || need(queue.front()) > procs) {
      if (!queue.empty()) queue.pop_front();  // can never run: dropped, as the engine reports it infeasible
      continue;
    }
    const std::size_t head = queue.front();
    std::vector<Running> by_end = running;
    std::sort(by_end.begin(), by_end.end(), [](const Running& a, const Running& b) { return a.est_end < b.est_end; });
    int avail = free;
    Timestamp shadow = t;
    for (const Running& r : by_end) {
      if (avail >= need(head)) break;
      avail += need(r.job);
      shadow = std::max(t, r.est_end);
    }
    // Extra processors count every job ending by the shadow time, not only
    // those needed to reach it.
    avail = free;
    for (const Running& r : by_end)
      if (std::max(t, r.est_end) <= shadow) avail += need(r.job);
    int extra = avail - need(head);
    for (auto it = std::next(queue.begin()); it != queue.end();) {
      const std::size_t j = *it;
      const bool by_shadow = t + jobs[j].spec.time_limit <= shadow;
      if (need(j) <= free && (by_shadow || need(j) <= extra)) {
        if (!by_shadow) extra -= need(j);
        launch(j);
        it = queue.erase(it);
      } else {
        ++it;
      }
    }
  }
  return start;
}

// Textbook FCFS on P processors: jobs start in submission order, each as
// soon as it fits and every earlier job has started.
std::vector<Timestamp> TextbookFcfs(int procs, const std::vector<TraceJob>& jobs) {
  std::vector<Timestamp> start(jobs.size(), -1);
  std::vector<std::pair<Timestamp, int>> running;  // (end, procs)
  int free = procs;
  Timestamp t = 0;
  for (std::size_t j = 0; j < jobs.size(); ++j) {
    const int need = static_cast<int>(jobs[j].spec.task_groups[0].per_task.cpu_millis() / 1000);
    if (need > procs) continue;  // never fits: reported infeasible, blocks nobody
    t = std::max(t, jobs[j].submit);
    while (true) {
      for (auto it = running.begin(); it != running.end();) {
        if (it->first <= t) {
          free += it->second;
          it = running.erase(it);
        } else {
          ++it;
        }
      }
      if (need <= free) break;
      Timestamp next = kInfiniteFuture;
      for (const auto& r : running) next = std::min(next, r.first);
      t = next;
    }
    start[j] = t;
    free -= need;
    running.emplace_back(t + std::min(jobs[j].runtime, jobs[j].spec.time_limit), need);
  }
  return start;
}

// Textbook conservative backfilling (Mu'alem & Feitelson 2001) on P
// processors, written from the definition and independent of the engine:
// every waiting job holds a reservation, the earliest time from which it
// fits for its whole estimate beside the running jobs (until their
// estimated ends) and every other reservation. Arrivals reserve in order.
// When a job ends before its estimate, every waiting job in arrival order
// gives up its reservation and takes the earliest one again (compression),
// which is never later than the one it had. A job starts when its
// reservation comes. Jobs run min(runtime, estimate).
std::vector<Timestamp> TextbookConservative(int procs, const std::vector<TraceJob>& jobs) {
  struct Slot {  // a running job, or a waiting job's reservation
    std::size_t job;
    Timestamp start, est_end;
    int need;
  };
  std::vector<Timestamp> start(jobs.size(), -1), end(jobs.size(), 0);
  std::vector<Slot> running, waiting;  // waiting in arrival order
  auto need_of = [&](std::size_t j) { return static_cast<int>(jobs[j].spec.task_groups[0].per_task.cpu_millis() / 1000); };
  // Whether `need` processors stay free throughout [s, e) beside every slot
  // but `skip`: usage only rises where a slot starts.
  auto fits = [&](Timestamp s, Timestamp e, int need, const Slot* skip) {
    std::vector<Timestamp> points{s};
    for (const auto* v : {&running, &waiting})
      for (const Slot& x : *v)
        if (&x != skip && x.start > s && x.start < e) points.push_back(x.start);
    for (Timestamp p : points) {
      int used = 0;
      for (const auto* v : {&running, &waiting})
        for (const Slot& x : *v)
          if (&x != skip && x.start <= p && p < x.est_end) used += x.need;
      if (used + need > procs) return false;
    }
    return true;
  };
  // The earliest start from `now`: now, or when some slot ends.
  auto earliest = [&](Timestamp now, int need, Duration est, const Slot* skip) {
    std::vector<Timestamp> times{now};
    for (const auto* v : {&running, &waiting})
      for (const Slot& x : *v)
        if (&x != skip && x.est_end > now) times.push_back(x.est_end);
    std::sort(times.begin(), times.end());
    for (Timestamp t : times)
      if (fits(t, t + est, need, skip)) return t;
    return kInfiniteFuture;
  };
  std::size_t next = 0;
  while (true) {
    Timestamp t = next < jobs.size() ? jobs[next].submit : kInfiniteFuture;
    for (const Slot& r : running) t = std::min(t, end[r.job]);
    if (t == kInfiniteFuture) break;
    bool early = false;
    std::erase_if(running, [&](const Slot& r) {
      if (end[r.job] > t) return false;
      early |= end[r.job] < r.est_end;
      return true;
    });
    if (early) {
      for (Slot& x : waiting) {
        const Duration est = x.est_end - x.start;
        const Timestamp s = earliest(t, x.need, est, &x);
        RC_ASSERT(s <= x.start);  // compression never moves a job later
        x.start = s;
        x.est_end = s + est;
      }
    }
    for (; next < jobs.size() && jobs[next].submit == t; ++next) {
      const int need = need_of(next);
      if (need > procs) continue;  // never fits: reported, blocks nobody
      const Duration est = jobs[next].spec.time_limit;
      const Timestamp s = earliest(t, need, est, nullptr);
      waiting.push_back({next, s, s + est, need});
    }
    std::erase_if(waiting, [&](const Slot& x) {
      if (x.start != t) return false;
      start[x.job] = t;
      end[x.job] = t + std::min(jobs[x.job].runtime, jobs[x.job].spec.time_limit);
      running.push_back(x);
      return true;
    });
  }
  return start;
}

Report Simulate(const Workload& w, std::string_view policy, std::uint64_t seed = 1) {
  SimOptions o{.name = std::string(policy), .policies = NamedPolicySet(policy).value(), .seed = seed};
  auto r = sim::Simulate(w, o);
  EXPECT_TRUE(r.ok()) << r.status();
  return r.value_or(Report{});
}

TEST(Simulator, ReplaysAFifoScheduleExactly) {
  Workload w = ProcessorMachine(4);
  w.jobs = {ProcJob(1, 0, 4, 10 * kSecond, kMinute), ProcJob(2, kSecond, 2, 5 * kSecond, kMinute),
            ProcJob(3, 2 * kSecond, 2, 5 * kSecond, kMinute)};
  const Report r = Simulate(w, "fifo");
  ASSERT_EQ(r.job_results.size(), 3u);
  EXPECT_EQ(r.job_results[0].first_start, 0);
  EXPECT_EQ(r.job_results[0].end, 10 * kSecond);
  EXPECT_EQ(r.job_results[1].first_start, 10 * kSecond);
  EXPECT_EQ(r.job_results[2].first_start, 10 * kSecond);
  EXPECT_EQ(r.succeeded, 3);
  EXPECT_EQ(r.makespan, 15 * kSecond);
  EXPECT_DOUBLE_EQ(r.wait.mean, (0 + 9 + 8) / 3.0);
  EXPECT_DOUBLE_EQ(r.jct.max, 14.0);
  EXPECT_DOUBLE_EQ(r.cpu_utilization, (4 * 10 + 2 * 5 + 2 * 5) / (4.0 * 15));
}

// Each tenant's wait distribution is over its own jobs: checked against the
// per-job results, tenants interleaved in the trace and in the table.
TEST(Simulator, EachTenantsWaitsAreOverItsOwnJobs) {
  Workload w = ProcessorMachine(2);
  const char* tenants[] = {"c", "a", "b"};  // reported by name: a, b, c
  for (int i = 0; i < 60; ++i) {
    TraceJob j = ProcJob(i, i * 10 * kSecond, 1 + (i % 2), (20 + (i * 7) % 50) * kSecond, kMinute);
    j.spec.tenant = tenants[(i * i + i / 4) % 3];
    w.jobs.push_back(j);
  }
  const Report r = Simulate(w, "fifo");
  ASSERT_EQ(r.tenants.size(), 3u);
  for (const TenantResult& t : r.tenants) {
    std::vector<double> waits;
    for (std::size_t i = 0; i < w.jobs.size(); ++i) {
      if (w.jobs[i].spec.tenant == t.name)
        waits.push_back(static_cast<double>(r.job_results[i].first_start - w.jobs[i].submit) / kSecond);
    }
    std::sort(waits.begin(), waits.end());
    ASSERT_FALSE(waits.empty());
    double sum = 0;
    for (double x : waits) sum += x;
    auto rank = [&](double p) {
      const auto k = static_cast<std::size_t>(std::ceil(p * static_cast<double>(waits.size())));
      return waits[std::clamp<std::size_t>(k, 1, waits.size()) - 1];
    };
    EXPECT_EQ(t.wait.count, static_cast<std::int64_t>(waits.size())) << t.name;
    EXPECT_DOUBLE_EQ(t.wait.mean, sum / static_cast<double>(waits.size())) << t.name;
    EXPECT_DOUBLE_EQ(t.wait.p50, rank(0.5)) << t.name;
    EXPECT_DOUBLE_EQ(t.wait.p95, rank(0.95)) << t.name;
    EXPECT_DOUBLE_EQ(t.wait.max, waits.back()) << t.name;
  }
  EXPECT_GT(r.wait.max, 0);  // the machine is busy enough that jobs wait
}

TEST(Simulator, SchedulerCostIsMeasuredFromASampleOfTheTicks) {
  // About one tick in eight is timed, and the first always: a run of a few
  // ticks has one timed, a run of many has many; either way the cost per
  // pass and per decision is set.
  for (int jobs : {1, 40}) {
    Workload w = ProcessorMachine(4);
    for (int i = 0; i < jobs; ++i) w.jobs.push_back(ProcJob(i, i * kSecond, 1 + i % 4, 10 * kSecond, kMinute));
    const Report r = Simulate(w, "easy");
    ASSERT_GT(r.passes, 0) << jobs;
    EXPECT_GT(r.us_per_pass, 0) << jobs;
    EXPECT_GT(r.decisions_per_second, 0) << jobs;
    EXPECT_GE(r.decisions, jobs) << jobs;
  }
}

TEST(Simulator, RuntimeIsCappedByTheTimeLimit) {
  Workload w = ProcessorMachine(4);
  w.jobs = {ProcJob(1, 0, 1, kHour, kMinute)};
  const Report r = Simulate(w, "fifo");
  EXPECT_EQ(r.job_results[0].end, kMinute);
  EXPECT_EQ(r.job_results[0].state, JobState::kDeadLettered);  // timed out: permanent
  EXPECT_EQ(r.failed, 1);
}

TEST(Simulator, JobsLargerThanTheClusterAreReportedNotWaitedFor) {
  Workload w = ProcessorMachine(4);
  w.jobs = {ProcJob(1, 0, 8, kSecond, kMinute), ProcJob(2, 0, 1, kSecond, kMinute)};
  const Report r = Simulate(w, "easy");
  EXPECT_EQ(r.unfinished, 1);
  EXPECT_EQ(r.succeeded, 1);
}

TEST(Simulator, EasyBackfillLetsShortJobsPassABlockedHead) {
  Workload w = ProcessorMachine(4);
  w.jobs = {ProcJob(1, 0, 3, 100 * kSecond, 100 * kSecond),  // running
            ProcJob(2, kSecond, 4, 10 * kSecond, 10 * kSecond),   // head: waits for 1
            ProcJob(3, 2 * kSecond, 1, 50 * kSecond, 98 * kSecond),  // ends by the shadow time: backfilled
            ProcJob(4, 3 * kSecond, 1, 50 * kSecond, 200 * kSecond)};  // would delay the head: waits
  const Report fifo = Simulate(w, "fcfs"), easy = Simulate(w, "easy");
  EXPECT_EQ(fifo.job_results[2].first_start, 110 * kSecond);
  EXPECT_EQ(easy.job_results[2].first_start, 2 * kSecond);
  EXPECT_EQ(easy.job_results[1].first_start, 100 * kSecond);  // the head is not delayed
  EXPECT_GT(easy.job_results[3].first_start, 100 * kSecond);
  EXPECT_LT(easy.wait.mean, fifo.wait.mean);
}

// A random stream of processor jobs; `max_extra` lets some ask for more
// processors than the machine has (they must be reported, not waited for).
Workload RandomProcessorWorkload(int procs, int n, int max_extra, bool overestimate) {
  Workload w = ProcessorMachine(procs);
  Timestamp submit = 0;
  for (int i = 0; i < n; ++i) {
    submit += *rc::gen::inRange(0, 30) * kSecond;
    const int p = *rc::gen::inRange(1, procs + 1 + max_extra);
    const Duration runtime = *rc::gen::inRange(0, 200) * kSecond;
    const Duration extra = overestimate ? *rc::gen::inRange(0, 3) * *rc::gen::inRange(1, 200) * kSecond : 0;
    w.jobs.push_back(ProcJob(i, submit, p, runtime, runtime + extra + kSecond));
  }
  return w;
}

// Runs `policy` and compares every job's start with `expected`; on a
// difference, fails with the whole workload and both schedules.
void RequireStartsMatch(const Workload& w, std::string_view policy, const std::vector<Timestamp>& expected) {
  const Report r = sim::Simulate(w, {.name = std::string(policy), .policies = NamedPolicySet(policy).value()}).value();
  for (std::size_t i = 0; i < w.jobs.size(); ++i) {
    if (r.job_results[i].first_start == expected[i]) continue;
    std::string text = fmt::format("{} on {} processors: job {}: engine {} textbook {}\n", policy,
                                   w.nodes[0].capacity.cpu_millis() / 1000, i,
                                   r.job_results[i].first_start / kSecond, expected[i] / kSecond);
    for (std::size_t k = 0; k < w.jobs.size(); ++k) {
      text += fmt::format("  j{} submit {} procs {} run {} est {} -> engine {} textbook {}\n", k,
                          w.jobs[k].submit / kSecond, w.jobs[k].spec.task_groups[0].per_task.cpu_millis() / 1000,
                          w.jobs[k].runtime / kSecond, w.jobs[k].spec.time_limit / kSecond,
                          r.job_results[k].first_start / kSecond, expected[k] / kSecond);
    }
    RC_FAIL(text);
  }
}

RC_GTEST_PROP(SimulatorProperties, EasyMatchesTheTextbookJobForJob, ()) {
  const int procs = *rc::gen::inRange(4, 65);
  const Workload w = RandomProcessorWorkload(procs, *rc::gen::inRange(1, 80), 0, /*overestimate=*/true);
  RequireStartsMatch(w, "easy", TextbookEasy(procs, w.jobs));
}

RC_GTEST_PROP(SimulatorProperties, ConservativeMatchesTheTextbookJobForJob, ()) {
  const int procs = *rc::gen::inRange(4, 65);
  const Workload w = RandomProcessorWorkload(procs, *rc::gen::inRange(1, 80), 2, /*overestimate=*/true);
  RequireStartsMatch(w, "conservative", TextbookConservative(procs, w.jobs));
}

RC_GTEST_PROP(SimulatorProperties, FcfsMatchesTheTextbookJobForJob, ()) {
  const int procs = *rc::gen::inRange(4, 65);
  const Workload w = RandomProcessorWorkload(procs, *rc::gen::inRange(1, 80), 2, /*overestimate=*/false);
  RequireStartsMatch(w, "fcfs", TextbookFcfs(procs, w.jobs));
}

// Literature check (Mu'alem & Feitelson 2001 and many since): on a
// processor machine with requested times, EASY lowers mean wait versus
// FCFS at the same utilisation (the same jobs run for the same time).
TEST(SimulatorValidation, EasyBackfillCutsMeanWaitVersusFcfs) {
  std::mt19937_64 rng(11);
  auto uniform = [&] { return static_cast<double>(rng() >> 11) * 0x1.0p-53; };
  Workload w = ProcessorMachine(128);
  Timestamp t = 0;
  for (int i = 0; i < 3000; ++i) {
    const int size = std::min(128, 1 << static_cast<int>(uniform() * 8));
    const Duration run = static_cast<Duration>(std::exp(3 + 6 * uniform()) * kSecond);
    t += static_cast<Duration>(-std::log(1 - uniform()) * 240 * kSecond);
    w.jobs.push_back(ProcJob(i, t, size, run, static_cast<Duration>(run * (1 + 4 * uniform())) + kSecond));
  }
  const Report fcfs = Simulate(w, "fcfs"), easy = Simulate(w, "easy");
  EXPECT_EQ(fcfs.succeeded, 3000);
  EXPECT_EQ(easy.succeeded, 3000);
  EXPECT_LT(easy.wait.mean, 0.8 * fcfs.wait.mean) << "easy " << easy.wait.mean << " fcfs " << fcfs.wait.mean;
  EXPECT_LT(easy.bounded_slowdown.mean, fcfs.bounded_slowdown.mean);
  EXPECT_LE(easy.makespan, fcfs.makespan);
}

// Literature check (Gandiva, Tiresias, Gavel and PAI simulators report
// 20-80% lower mean JCT than FIFO on Philly- and PAI-like workloads):
// shortest requested time first on the synthetic ML workload.
TEST(SimulatorValidation, ShortestFirstCutsMeanJctVersusFifo) {
  const Workload w = Synthetic({.jobs = 4000, .seed = 3, .load = 0.95, .nodes = 16});
  const Report fifo = Simulate(w, "fifo"), sjf = Simulate(w, "sjf");
  EXPECT_EQ(fifo.succeeded, 4000);
  EXPECT_EQ(sjf.succeeded, 4000);
  EXPECT_LT(sjf.jct.mean, 0.8 * fifo.jct.mean) << "sjf " << sjf.jct.mean << " fifo " << fifo.jct.mean;
  EXPECT_LT(sjf.wait.mean, fifo.wait.mean);
  RecordProperty("jct_reduction", std::to_string(1 - sjf.jct.mean / fifo.jct.mean));
}

TEST(Simulator, SameSeedSameDigestAndFaultsChangeIt) {
  Workload w{.name = "gpus"};
  for (int i = 0; i < 8; ++i) w.nodes.push_back(GpuNode("n" + std::to_string(i), 8));
  for (int i = 0; i < 200; ++i) {
    TraceJob j{.spec = {.name = "j", .tenant = "t" + std::to_string(i % 3), .user = "u",
                        .task_groups = {{.count = 1 + (i % 7 == 0), .per_task = ResourceVector::Of(4000, 16 * kGi, 1 << (i % 4))}},
                        .time_limit = 4 * kHour},
               .submit = i * 30 * kSecond,
               .runtime = (10 + (i * 37) % 120) * kMinute,
               .trace_id = i};
    w.jobs.push_back(j);
  }
  SimOptions o{.name = "drf-easy-preempt", .policies = NamedPolicySet("drf-easy-preempt").value(), .seed = 5,
               .faults = {.node_mtbf = 12 * kHour, .node_repair = kHour, .task_crash_probability = 0.05,
                          .checkpoint_interval = 20 * kMinute}};
  const Report a = sim::Simulate(w, o).value(), b = sim::Simulate(w, o).value();
  EXPECT_EQ(a.digest, b.digest);
  EXPECT_EQ(a.succeeded + a.failed + a.unfinished, 200);
  EXPECT_GT(a.node_failures, 0);
  EXPECT_GT(a.retries, 0);
  EXPECT_EQ(a.unfinished, 0);
  o.seed = 6;
  EXPECT_NE(sim::Simulate(w, o).value().digest, a.digest);
  EXPECT_GT(a.gpu_utilization, 0);
  EXPECT_LE(a.gpu_utilization, 1.0);
  EXPECT_EQ(a.tenants.size(), 3u);
  double share = 0;
  for (const TenantResult& t : a.tenants) share += t.share;
  EXPECT_NEAR(share, 1.0, 1e-9);
  EXPECT_GT(a.jain_index, 0);
  EXPECT_LE(a.jain_index, 1.0 + 1e-9);
  EXPECT_FALSE(a.series.empty());
}

// The engine under the simulator forgets each job as soon as it ends (its
// memory is reused), so the simulator records every outcome when the job
// ends: by its tasks' exits, a crash without retries left, a kill at the
// time limit, or a node failure.
TEST(Simulator, OutcomesAreRecordedWhenJobsEndThoughTheEngineForgetsThem) {
  Workload w{.name = "gpus"};
  for (int i = 0; i < 8; ++i) w.nodes.push_back(GpuNode("n" + std::to_string(i), 8));
  for (int i = 0; i < 300; ++i) {
    TraceJob j{.spec = {.name = "j", .tenant = "t" + std::to_string(i % 3), .user = "u",
                        .task_groups = {{.count = 1 + (i % 7 == 0), .per_task = ResourceVector::Of(4000, 16 * kGi, 1 << (i % 4))}},
                        .time_limit = i % 5 == 0 ? 30 * kMinute : 4 * kHour},
               .submit = i * 30 * kSecond,
               .runtime = (10 + (i * 37) % 120) * kMinute,
               .trace_id = i};
    w.jobs.push_back(j);
  }
  const SimOptions o{.name = "drf-easy-preempt", .policies = NamedPolicySet("drf-easy-preempt").value(), .seed = 5,
                     .faults = {.node_mtbf = 12 * kHour, .node_repair = kHour, .task_crash_probability = 0.1},
                     .retry = {.max_attempts = 1}};
  const Report r = sim::Simulate(w, o).value();
  ASSERT_EQ(r.job_results.size(), 300u);
  std::int64_t succeeded = 0, failed = 0, unfinished = 0, cut_off = 0;
  for (const JobResult& j : r.job_results) {
    if (j.end < 0) {
      ++unfinished;
      continue;
    }
    ASSERT_TRUE(IsTerminal(j.state)) << "job " << j.trace_id << ": " << JobStateName(j.state);
    if (j.state == JobState::kSucceeded) {
      ++succeeded;
    } else {
      ++failed;
    }
    // Killed at its time limit: a permanent failure, never a success.
    if (j.runtime > w.jobs[static_cast<std::size_t>(j.trace_id)].spec.time_limit) {
      ++cut_off;
      EXPECT_EQ(j.state, JobState::kDeadLettered) << "job " << j.trace_id;
    }
  }
  EXPECT_EQ(succeeded, r.succeeded);
  EXPECT_EQ(failed, r.failed);
  EXPECT_EQ(unfinished, r.unfinished);
  EXPECT_EQ(unfinished, 0);
  EXPECT_GT(succeeded, 0);
  EXPECT_GT(cut_off, 0);
  EXPECT_GT(failed, cut_off);  // crashes and lost attempts with no retry left
}

// The simulator submits each trace job with the run's retry policy and
// without its idempotency key or dependencies: a spec already so is passed
// by reference, any other adjusted in a copy. Here every other job carries a
// repeated key, a dependency on a job the engine never had and a retry policy
// of its own; every job crashes at once.
TEST(Simulator, TraceKeysDependenciesAndRetryPoliciesGiveWayToTheRun) {
  Workload w = ProcessorMachine(4);
  for (int i = 0; i < 6; ++i) {
    TraceJob j = ProcJob(i, i * kSecond, 1, kMinute, kHour);
    if (i % 2 == 1) {
      j.spec.idempotency_key = "repeated";
      j.spec.dependencies = {{.job = JobId(1'000)}};
      j.spec.retry = {.max_attempts = 4, .backoff_base = 0, .backoff_cap = 0};
    }
    w.jobs.push_back(j);
  }
  for (const int attempts : {1, 2}) {
    const SimOptions o{.name = "fifo", .policies = NamedPolicySet("fifo").value(), .seed = 3,
                       .faults = {.task_crash_probability = 1.0},
                       .retry = {.max_attempts = attempts, .backoff_base = 0, .backoff_cap = 0}};
    const Report r = sim::Simulate(w, o).value();
    ASSERT_EQ(r.job_results.size(), 6u);
    for (const JobResult& j : r.job_results) {
      EXPECT_EQ(j.attempts, attempts) << "job " << j.trace_id;
      EXPECT_EQ(j.state, JobState::kDeadLettered) << "job " << j.trace_id;
      EXPECT_EQ(j.job.value(), static_cast<std::uint64_t>(j.trace_id));  // each its own job, none a duplicate
    }
    EXPECT_EQ(r.failed, 6);
  }
}

TEST(Simulator, BadOptionsAndUnknownPolicyNames) {
  Workload w = ProcessorMachine(4);
  w.jobs = {ProcJob(1, 0, 1, kSecond, kMinute)};
  EXPECT_EQ(sim::Simulate(w, {.faults = {.task_crash_probability = 2}}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(sim::Simulate(Workload{.name = "empty"}, {}).status().code(), absl::StatusCode::kInvalidArgument);
  const auto bad = NamedPolicySet("lottery");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("known: fcfs, fifo, priority, sjf"), std::string::npos);
  for (const std::string& name : PolicySetNames()) EXPECT_TRUE(NamedPolicySet(name).ok()) << name;
}

TEST(Simulator, ReportFormats) {
  Workload w = ProcessorMachine(4);
  w.jobs = {ProcJob(1, 0, 1, kSecond, kMinute)};
  const Report r = Simulate(w, "fifo");
  const std::string table = FormatComparison(std::span(&r, 1));
  EXPECT_NE(table.find("JCT mean"), std::string::npos);
  const std::string json = ToJson(std::span(&r, 1));
  EXPECT_NE(json.find("\"policy\": \"fifo\""), std::string::npos);
  EXPECT_NE(json.find("\"digest\""), std::string::npos);
}

}  // namespace
}  // namespace mlsched::sim
