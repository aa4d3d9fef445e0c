#include "mlsched/sim/simulator.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <random>

#include "absl/container/flat_hash_map.h"
#include "fmt/format.h"
#include "internal/huge_page_allocator.h"
#include "internal/quad_heap.h"
#include "internal/split_mix.h"
#include "mlsched/engine.h"
#include "mlsched/policy/backfill.h"
#include "mlsched/status_macros.h"

namespace mlsched::sim {

namespace {

enum class EventKind : std::uint8_t { kExit, kCrash, kCheckpoint, kNodeFail, kNodeRepair, kSample };

struct Event {
  Timestamp time;
  std::uint64_t seq;  // ties in insertion order: deterministic
  EventKind kind;
  std::uint32_t id;   // job index or node index
  FencingToken token;
  friend bool operator>(const Event& a, const Event& b) {
    return a.time != b.time ? a.time > b.time : a.seq > b.seq;
  }
};

// What the simulated executor knows about each job, in two parts. What the
// report needs of each job, kept for the whole replay: 32 bytes.
// (A record of 80 bytes, running state included, made the per-job table
// 16 MB for 200,000 jobs; on a virtual machine fresh memory costs about
// 1.5 ms a megabyte to fault in and zero.)
struct JobOutcome {
  static constexpr std::uint32_t kNoSlot = ~0u;
  Timestamp first_start = -1;
  Timestamp end = -1;
  std::uint32_t tenant = 0;
  std::int32_t attempts = 0;
  std::uint32_t slot = kNoSlot;  // its record in flight, from submission to its end
  JobState state = JobState::kQueued;  // the final state once ended
};
static_assert(sizeof(JobOutcome) == 32);

// A job in flight (submitted, not ended). The slots are reused: there are
// as many as jobs in flight at once, not jobs in the trace.
struct Flight {
  Timestamp attempt_start = 0;
  Duration saved = 0;  // work done as of the checkpoint the attempt resumed from or wrote
  FencingToken live;   // the running attempt; epoch 0 = none
  std::uint32_t tasks = 0;
  std::int64_t gpus = 0;
  std::int64_t cpu = 0;
  Duration runtime = 0;  // the trace's, copied at submission: a start reads no trace record
};

// Folds v into the digest h: a whole word per step (a bytewise FNV-1a took
// a hundred instructions a job).
std::uint64_t Mix(std::uint64_t h, std::int64_t v) { return internal::SplitMix64(h ^ static_cast<std::uint64_t>(v)); }

class Run {
 public:
  Run(const Workload& w, const SimOptions& o) : w_(w), o_(o), rng_(o.seed) {}

  absl::StatusOr<Report> Go() {
    const auto wall_start = std::chrono::steady_clock::now();
    const Timestamp t0 = w_.jobs.empty() ? 0 : w_.jobs.front().submit;
    clock_.Set(t0);
    // The simulator records each job's outcome when it ends, so the engine
    // may forget ended jobs at once: its tables then stop growing with the
    // trace, and a long replay runs in memory it has touched before.
    EngineOptions eo{.clock = &clock_, .seed = o_.seed, .policies = o_.policies,
                     .extended_resources = w_.extended_resources, .kill_grace = 0, .history_retention = 1};
    MLSCHED_ASSIGN_OR_RETURN(engine_, Engine::Create(std::move(eo)));
    if (!o_.tenants.empty()) MLSCHED_RETURN_IF_ERROR(engine_->ConfigureTenants(o_.tenants));
    if (w_.nodes.empty()) return absl::InvalidArgumentError(fmt::format("workload \"{}\": no nodes", w_.name));
    for (const NodeSpec& n : w_.nodes) MLSCHED_RETURN_IF_ERROR(engine_->AddNode(n).status());
    node_live_.resize(w_.nodes.size());
    for (const NodeSpec& n : w_.nodes) total_gpus_ += static_cast<std::int64_t>(n.gpus.size());
    for (const NodeSpec& n : w_.nodes) total_cpu_ += n.capacity.cpu_millis();
    jobs_.resize(w_.jobs.size());
    engine_->ReserveJobs(w_.jobs.size());
    for (const TenantSpec& t : o_.tenants) weight_[t.name] = static_cast<double>(t.weight);

    Duration horizon = 0;
    for (const TraceJob& j : w_.jobs) horizon = std::max(horizon, j.submit - t0 + j.runtime);
    sample_every_ = o_.sample_interval > 0 ? o_.sample_interval : std::max<Duration>(kSecond, horizon / 200);
    Push(t0, EventKind::kSample, 0, {});
    if (o_.faults.node_mtbf > 0) {
      for (std::uint32_t n = 0; n < w_.nodes.size(); ++n) Push(t0 + Exponential(o_.faults.node_mtbf), EventKind::kNodeFail, n, {});
    }

    SchedulingRound round;
    std::size_t next = 0;
    const std::size_t n = w_.jobs.size();
    std::int64_t loops = 0;
    Timestamp wake = engine_->NextWakeup();
    while (true) {
      Timestamp t = next < n ? w_.jobs[next].submit : kInfiniteFuture;
      if (!events_.empty()) t = std::min(t, events_.top().time);
      t = std::min(t, wake);
      if (next == n && running_ == 0 && repairs_pending_ == 0 && wake == kInfiniteFuture) break;
      if (t == kInfiniteFuture) break;
      if (t > clock_.Now()) clock_.Set(t);
      t = clock_.Now();
      for (; next < n && w_.jobs[next].submit <= t; ++next) MLSCHED_RETURN_IF_ERROR(SubmitJob(next));
      while (!events_.empty() && events_.top().time <= t) {
        const Event e = events_.top();
        events_.pop();
        MLSCHED_RETURN_IF_ERROR(Handle(e, t));
      }
      // Ticks while the engine has work now (at most 16 in a row); `wake` is
      // then its next wakeup after the last call into it, where the next
      // step starts.
      for (int ticks = 0; (wake = engine_->NextWakeup()) <= t && ticks < 16; ++ticks) {
        // About one tick in kTimedEvery is timed (a clock read costs about
        // what an idle tick does), drawn at random so that no pattern of
        // ticks per step lines up with the sample; the first always is. The
        // others are counted, and the report scales the timed ones up to all.
        const bool timed = ticks_++ == 0 || (internal::SplitMix64(timing_state_++) & (kTimedEvery - 1)) == 0;
        const auto before = timed ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
        MLSCHED_RETURN_IF_ERROR(engine_->Tick(&round));
        if (timed) {
          timed_wall_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - before).count();
          ++timed_ticks_;
        }
        decisions_ += static_cast<std::int64_t>(round.decisions.size());
        MLSCHED_RETURN_IF_ERROR(Apply(round, t));
      }
      if (o_.progress && (++loops & 0xffff) == 0 && n > 0) o_.progress(static_cast<double>(ended_) / static_cast<double>(n));
    }
    if (o_.progress) o_.progress(1.0);
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
    return MakeReport(wall);
  }

 private:
  void Push(Timestamp t, EventKind kind, std::uint32_t id, FencingToken token) {
    events_.push({.time = t, .seq = seq_++, .kind = kind, .id = id, .token = token});
  }
  double Uniform() { return static_cast<double>(rng_() >> 11) * 0x1.0p-53; }
  Duration Exponential(Duration mean) {
    return std::max<Duration>(1, static_cast<Duration>(-std::log(1.0 - Uniform()) * static_cast<double>(mean)));
  }
  std::uint32_t TenantIndex(const std::string& name) {
    auto [it, inserted] = tenant_index_.try_emplace(name, static_cast<std::uint32_t>(tenant_names_.size()));
    if (inserted) {
      tenant_names_.push_back(name);
      tenant_gpus_.push_back(0);
      tenant_cpu_.push_back(0);
      tenant_active_.push_back(0);
      tenant_gpu_time_.push_back(0);
    }
    return it->second;
  }

  // Submits the trace's job with the run's retry policy, and without
  // idempotency key or dependencies (a trace's keys may repeat, and its ids
  // are not the engine's). A trace's spec that is so already (the usual
  // case) is submitted by reference: the engine copies it once, into the
  // job's record. Any other is adjusted in a copy, then moved in.
  absl::StatusOr<JobId> SubmitSpec(const TraceJob& tj) {
    const JobSpec& given = tj.spec;
    if (given.retry == o_.retry && given.idempotency_key.empty() && given.dependencies.empty())
      return engine_->Submit(given);
    JobSpec spec = given;
    spec.retry = o_.retry;
    spec.idempotency_key.clear();
    spec.dependencies.clear();
    return engine_->Submit(std::move(spec));
  }

  absl::Status SubmitJob(std::size_t i) {
    const TraceJob& tj = w_.jobs[i];
    JobOutcome& out = jobs_[i];
    out.tenant = TenantIndex(tj.spec.tenant);
    out.slot = TakeSlot();
    Flight& f = flights_[out.slot];
    f.runtime = tj.runtime;
    auto id = SubmitSpec(tj);
    if (!id.ok()) {
      return absl::Status(id.status().code(), fmt::format("workload \"{}\": job {} (trace id {}): {}", w_.name, i,
                                                          tj.trace_id, std::string(id.status().message())));
    }
    if (id->value() != i) return absl::InternalError("simulator: job ids out of step with the workload");
    // One attempt's GPUs and cores, once the spec is known valid (its totals fit).
    const ResourceVector total = tj.spec.total_request();
    f.gpus = total.gpus();
    f.cpu = total.cpu_millis();
    ++tenant_active_[out.tenant];
    return absl::OkStatus();
  }

  // A free in-flight slot (reset), or a new one.
  std::uint32_t TakeSlot() {
    if (free_slots_.empty()) {
      flights_.emplace_back();
      return static_cast<std::uint32_t>(flights_.size() - 1);
    }
    const std::uint32_t slot = free_slots_.back();
    free_slots_.pop_back();
    flights_[slot] = Flight{};
    return slot;
  }

  // Job `j`'s record in flight; it must have one.
  Flight& FlightOf(std::uint32_t j) { return flights_[jobs_[j].slot]; }

  // Whether attempt `token` of job `j` is the one the simulator counts as
  // running (epoch 0: none). Events and decisions about any other are stale.
  // (A job that ended has no slot, and no live attempt.)
  bool Live(std::uint32_t j, FencingToken token) const {
    const std::uint32_t slot = jobs_[j].slot;
    return token.epoch != 0 && slot != JobOutcome::kNoSlot && flights_[slot].live == token;
  }

  // The attempt `token` of job `j` stopped running at `t` (exited, killed or lost).
  void AttemptStopped(std::uint32_t j, Timestamp t) {
    const JobOutcome& out = jobs_[j];
    if (out.slot == JobOutcome::kNoSlot) return;
    Flight& f = flights_[out.slot];
    if (f.live.epoch == 0) return;
    const Duration ran = t - f.attempt_start;
    busy_gpu_time_ += static_cast<double>(f.gpus) * static_cast<double>(ran);
    busy_cpu_time_ += static_cast<double>(f.cpu) * static_cast<double>(ran);
    tenant_gpu_time_[out.tenant] += static_cast<double>(f.gpus) * static_cast<double>(ran);
    tenant_gpus_[out.tenant] -= f.gpus;
    tenant_cpu_[out.tenant] -= f.cpu;
    f.live = {};
    --running_;
  }

  // Records the end of a job that reached a terminal state, and frees its
  // slot (every way an attempt ends stops it first: it has none live).
  void CheckEnded(std::uint32_t j, Timestamp t) {
    JobOutcome& out = jobs_[j];
    if (out.end >= 0) return;
    auto state = engine_->GetState(JobId(j));
    if (!state.ok() || !IsTerminal(*state)) return;
    out.end = t;
    out.state = *state;
    free_slots_.push_back(out.slot);
    out.slot = JobOutcome::kNoSlot;
    ++ended_;
    --tenant_active_[out.tenant];
  }

  absl::Status ExitAll(std::uint32_t j, FencingToken token, std::int32_t signal, Timestamp t) {
    const std::uint32_t tasks = FlightOf(j).tasks;
    AttemptStopped(j, t);
    for (std::uint32_t k = 0; k < tasks; ++k) {
      const absl::Status s = engine_->TaskExited(
          {.job = JobId(j), .token = token, .task = static_cast<int>(k), .signal = k == 0 ? signal : 0});
      if (!s.ok() && s.code() != absl::StatusCode::kFailedPrecondition) return s;
      if (!s.ok()) break;  // the attempt ended meanwhile (lost, killed)
      if (signal != 0) break;  // a crash: the engine kills the rest of the gang
    }
    CheckEnded(j, t);
    return absl::OkStatus();
  }

  absl::Status Handle(const Event& e, Timestamp t) {
    switch (e.kind) {
      case EventKind::kExit:
      case EventKind::kCrash:
        if (!Live(e.id, e.token)) return absl::OkStatus();
        return ExitAll(e.id, e.token, e.kind == EventKind::kCrash ? 11 : 0, t);
      case EventKind::kCheckpoint: {
        if (!Live(e.id, e.token)) return absl::OkStatus();
        MLSCHED_RETURN_IF_ERROR(Checkpoint(e.id, t));
        Push(t + o_.faults.checkpoint_interval, EventKind::kCheckpoint, e.id, e.token);
        return absl::OkStatus();
      }
      case EventKind::kNodeFail: {
        if (next_job_done() && running_ == 0) return absl::OkStatus();  // nothing left to disturb
        ++node_failures_;
        MLSCHED_RETURN_IF_ERROR(engine_->SetNodeState(NodeId(e.id), NodeState::kDown));
        for (const auto& [j, token] : node_live_[e.id]) {
          if (!Live(j, token)) continue;
          AttemptStopped(j, t);
          CheckEnded(j, t);
        }
        node_live_[e.id].clear();
        ++repairs_pending_;
        Push(t + o_.faults.node_repair, EventKind::kNodeRepair, e.id, {});
        return absl::OkStatus();
      }
      case EventKind::kNodeRepair:
        --repairs_pending_;
        MLSCHED_RETURN_IF_ERROR(engine_->SetNodeState(NodeId(e.id), NodeState::kUp));
        Push(t + Exponential(o_.faults.node_mtbf), EventKind::kNodeFail, e.id, {});
        return absl::OkStatus();
      case EventKind::kSample:
        Sample(t);
        if (!next_job_done() || running_ > 0) Push(t + sample_every_, EventKind::kSample, 0, {});
        return absl::OkStatus();
    }
    return absl::OkStatus();
  }

  // Drops the attempts that are no longer live. Called when the list is full:
  // a sweep frees at least half of it, or the list then grows, so each start
  // costs O(1) amortised.
  void SweepNodeLive(std::vector<std::pair<std::uint32_t, FencingToken>>& live) const {
    std::erase_if(live, [this](const auto& entry) { return !Live(entry.first, entry.second); });
    if (2 * live.size() > live.capacity()) live.reserve(2 * live.capacity());
  }

  // Every job has ended: faults and samples stop.
  bool next_job_done() const { return ended_ >= static_cast<std::int64_t>(w_.jobs.size()); }

  absl::Status Checkpoint(std::uint32_t j, Timestamp t) {
    const Flight& f = FlightOf(j);
    const Duration progress = f.saved + (t - f.attempt_start);
    const absl::Status s = engine_->CheckpointReported({.job = JobId(j), .token = f.live, .step = progress});
    if (!s.ok() && s.code() != absl::StatusCode::kFailedPrecondition && s.code() != absl::StatusCode::kInvalidArgument)
      return s;
    return absl::OkStatus();
  }

  absl::Status Apply(const SchedulingRound& round, Timestamp t) {
    for (const Decision& d : round.decisions) {
      const std::uint32_t j = d.job.value();
      switch (d.kind) {
        case DecisionKind::kStart: {
          JobOutcome& out = jobs_[j];
          if (out.slot == JobOutcome::kNoSlot)
            return absl::InternalError(fmt::format("simulator: job {} started after it ended", j));
          Flight& js = flights_[out.slot];
          // Every way an attempt ends reaches AttemptStopped first (an exit,
          // a kill decision, its node's failure): one still live here means
          // the simulator lost track of it, and its accounting with it.
          if (js.live.epoch != 0) {
            return absl::InternalError(
                fmt::format("simulator: job {} started again while its attempt {} is live", j, FormatToken(js.live)));
          }
          js.live = d.token;
          js.tasks = d.placement_count;
          js.attempt_start = t;
          ++out.attempts;
          ++running_;
          if (out.first_start < 0) out.first_start = t;
          js.saved = d.resume >= 0 ? std::max<Duration>(0, round.resumes[d.resume].step) : 0;
          tenant_gpus_[out.tenant] += js.gpus;
          tenant_cpu_[out.tenant] += js.cpu;
          for (const TaskPlacement& p : round.PlacementsOf(d)) {
            MLSCHED_RETURN_IF_ERROR(engine_->TaskStarted({.job = d.job, .token = d.token, .task = static_cast<int>(p.task)}));
            auto& live = node_live_[p.node.value()];
            if (live.size() == live.capacity()) SweepNodeLive(live);
            live.emplace_back(j, d.token);
          }
          const Duration left = std::max<Duration>(0, js.runtime - js.saved);
          if (o_.faults.task_crash_probability > 0 && Uniform() < o_.faults.task_crash_probability) {
            Push(t + static_cast<Duration>(Uniform() * static_cast<double>(left)), EventKind::kCrash, j, d.token);
          } else {
            Push(t + left, EventKind::kExit, j, d.token);
          }
          if (o_.faults.checkpoint_interval > 0 && o_.faults.checkpoint_interval < left)
            Push(t + o_.faults.checkpoint_interval, EventKind::kCheckpoint, j, d.token);
          break;
        }
        case DecisionKind::kKill: {
          if (Live(j, d.token)) AttemptStopped(j, t);
          for (const TaskPlacement& p : round.PlacementsOf(d)) {
            const absl::Status s = engine_->TaskExited(
                {.job = d.job, .token = d.token, .task = static_cast<int>(p.task), .signal = 9});
            if (!s.ok() && s.code() != absl::StatusCode::kFailedPrecondition) return s;
          }
          CheckEnded(j, t);
          break;
        }
        case DecisionKind::kSignalCheckpoint:
          if (Live(j, d.token)) MLSCHED_RETURN_IF_ERROR(Checkpoint(j, t));
          break;
      }
    }
    return absl::OkStatus();
  }

  void Sample(Timestamp t) {
    const Utilization u = engine_->GetUtilization();
    TimePoint p{.time = t, .gpus_used = u.allocated.gpus(), .cpu_used = u.allocated.cpu_millis(),
                .pending = u.pending_jobs, .running = u.running_jobs,
                .free_gpus_on_partial_nodes = engine_->GetFragmentation().free_gpus_on_partial_nodes,
                .tenant_gpus = tenant_gpus_};
    // Jain's index over the active tenants' GPUs (CPU on a cluster without
    // GPUs) per unit of weight.
    const std::vector<std::int64_t>& alloc = total_gpus_ > 0 ? tenant_gpus_ : tenant_cpu_;
    double sum = 0, sq = 0;
    int active = 0;
    for (std::size_t k = 0; k < tenant_names_.size(); ++k) {
      if (tenant_active_[k] == 0) continue;
      auto it = weight_.find(tenant_names_[k]);
      const double x = static_cast<double>(alloc[k]) / (it == weight_.end() ? 1.0 : it->second);
      sum += x;
      sq += x * x;
      ++active;
    }
    if (active >= 2 && sq > 0) {
      jain_sum_ += sum * sum / (active * sq);
      ++jain_samples_;
    }
    series_.push_back(std::move(p));
  }

  // Started and ended: the jobs the report's distributions are over.
  static bool Finished(const JobOutcome& out) { return out.end >= 0 && out.first_start >= 0; }

  Report MakeReport(double wall) {
    Report r;
    r.policy = o_.name;
    r.workload = w_.name;
    r.jobs = static_cast<std::int64_t>(w_.jobs.size());
    // The distributions are over two blocks of a double per job (on huge
    // pages from 262,144 jobs), each zeroed once and filled twice: job
    // completion times, then slowdowns; waits in job order, then grouped by
    // tenant (by a counting sort). Summarize() reorders what it is given.
    const std::size_t n = jobs_.size();
    Filled<double> first(n), second(n);
    std::size_t m = 0;  // jobs that started and ended
    std::vector<std::size_t> tenant_from(tenant_names_.size() + 1, 0);
    Timestamp first_submit = w_.jobs.empty() ? 0 : w_.jobs.front().submit, last_end = first_submit;
    std::vector<std::int64_t> tenant_jobs(tenant_names_.size(), 0);
    std::uint64_t digest = 0;
    auto wait_of = [&](std::size_t i) {
      return static_cast<double>(jobs_[i].first_start - w_.jobs[i].submit) / kSecond;
    };
    for (std::size_t i = 0; i < n; ++i) {
      const JobOutcome& out = jobs_[i];
      const TraceJob& tj = w_.jobs[i];
      const JobState state =
          out.end >= 0 ? out.state : engine_->GetState(JobId(static_cast<std::uint32_t>(i))).value_or(JobState::kQueued);
      digest = Mix(Mix(Mix(Mix(digest, static_cast<std::int64_t>(i)), out.first_start), out.end),
                   static_cast<std::int64_t>(state) * 1000 + out.attempts);
      ++tenant_jobs[out.tenant];
      if (out.end >= 0) {
        last_end = std::max(last_end, out.end);
        if (state == JobState::kSucceeded) {
          ++r.succeeded;
        } else {
          ++r.failed;
        }
      } else {
        ++r.unfinished;
      }
      if (Finished(out)) {
        first[m] = static_cast<double>(out.end - tj.submit) / kSecond;
        second[m] = wait_of(i);
        ++m;
        ++tenant_from[out.tenant + 1];
      }
      if (o_.keep_job_results) {
        r.job_results.push_back({.trace_id = tj.trace_id, .job = JobId(static_cast<std::uint32_t>(i)),
                                 .tenant = tenant_names_[out.tenant], .submit = tj.submit,
                                 .first_start = out.first_start, .end = out.end, .state = state,
                                 .attempts = out.attempts, .gpus = tj.spec.total_request().gpus(),
                                 .runtime = tj.runtime});
      }
    }
    r.jct = Summarize({first.data(), m});
    r.wait = Summarize({second.data(), m});
    // Slowdowns; and each tenant's waits side by side.
    for (std::size_t k = 0; k < tenant_names_.size(); ++k) tenant_from[k + 1] += tenant_from[k];
    {
      std::vector<std::size_t> at(tenant_from.begin(), tenant_from.end() - 1);
      std::size_t next = 0;
      for (std::size_t i = 0; i < n; ++i) {
        const JobOutcome& out = jobs_[i];
        if (!Finished(out)) continue;
        const double w = wait_of(i);
        const double run = static_cast<double>(out.end - out.first_start) / kSecond;
        first[next++] = std::max(1.0, (w + run) / std::max(run, 10.0));
        second[at[out.tenant]++] = w;
      }
    }
    auto waits_of = [&](std::size_t k) {
      return std::span<double>(second.data() + tenant_from[k], tenant_from[k + 1] - tenant_from[k]);
    };
    r.bounded_slowdown = Summarize({first.data(), m});
    r.makespan = last_end - first_submit;
    if (r.makespan > 0) {
      if (total_gpus_ > 0) r.gpu_utilization = busy_gpu_time_ / (static_cast<double>(total_gpus_) * r.makespan);
      if (total_cpu_ > 0) r.cpu_utilization = busy_cpu_time_ / (static_cast<double>(total_cpu_) * r.makespan);
    }
    r.jain_index = jain_samples_ > 0 ? jain_sum_ / jain_samples_ : 1.0;
    double frag = 0;
    for (const TimePoint& p : series_) frag += static_cast<double>(p.free_gpus_on_partial_nodes);
    r.mean_free_gpus_on_partial_nodes = series_.empty() ? 0 : frag / static_cast<double>(series_.size());
    const EngineCounters c = engine_->counters();
    r.preemptions = c.preemptions;
    r.gpu_hours_lost = c.gpu_hours_lost;
    r.retries = c.retries;
    r.dead_lettered = c.dead_lettered;
    r.node_failures = node_failures_;
    r.passes = c.passes;
    r.decisions = decisions_;
    r.wall_seconds = wall;
    const double tick_wall = timed_ticks_ > 0 ? timed_wall_ * static_cast<double>(ticks_) / static_cast<double>(timed_ticks_) : 0;
    r.decisions_per_second = tick_wall > 0 ? static_cast<double>(decisions_) / tick_wall : 0;
    r.us_per_pass = c.passes > 0 ? tick_wall * 1e6 / static_cast<double>(c.passes) : 0;
    r.jobs_per_second = wall > 0 ? static_cast<double>(r.jobs) / wall : 0;
    r.digest = digest;
    double all_gpu_time = 0;
    for (double g : tenant_gpu_time_) all_gpu_time += g;
    std::vector<std::size_t> order(tenant_names_.size());
    for (std::size_t k = 0; k < order.size(); ++k) order[k] = k;
    std::sort(order.begin(), order.end(), [&](auto a, auto b) { return tenant_names_[a] < tenant_names_[b]; });
    for (std::size_t k : order) {
      r.tenants.push_back({.name = tenant_names_[k], .jobs = tenant_jobs[k],
                           .gpu_hours = tenant_gpu_time_[k] / static_cast<double>(kHour),
                           .share = all_gpu_time > 0 ? tenant_gpu_time_[k] / all_gpu_time : 0,
                           .wait = Summarize(waits_of(k))});
    }
    // Series columns in the same (name) order as r.tenants.
    for (TimePoint& p : series_) {
      std::vector<std::int64_t> by_name;
      by_name.reserve(order.size());
      for (std::size_t k : order) by_name.push_back(k < p.tenant_gpus.size() ? p.tenant_gpus[k] : 0);
      p.tenant_gpus = std::move(by_name);
    }
    r.series = std::move(series_);
    return r;
  }

  const Workload& w_;
  const SimOptions& o_;
  std::mt19937_64 rng_;
  ManualClock clock_{0};
  std::unique_ptr<Engine> engine_;
  internal::QuadHeap<Event> events_;  // by (time, seq): a total order
  std::uint64_t seq_ = 0;
  // One outcome per job, read at random as jobs start and end: on huge pages
  // (a million jobs fill 32 MB: 7,800 faults and as many TLB misses in 4 KiB
  // pages), whatever else the process holds, since it is filled at once.
  template <typename T>
  using Filled = std::vector<T, internal::HugePageAllocator<T, /*kFilledAtOnce=*/true>>;
  Filled<JobOutcome> jobs_;
  // The jobs in flight, by slot (JobOutcome::slot), and the free slots.
  std::vector<Flight> flights_;
  std::vector<std::uint32_t> free_slots_;
  // The attempts started on each node, for its failure, which skips those
  // that ended since. Swept of them when full (SweepNodeLive): O(attempts
  // live on the node), not O(attempts ever started there).
  std::vector<std::vector<std::pair<std::uint32_t, FencingToken>>> node_live_;
  absl::flat_hash_map<std::string, std::uint32_t> tenant_index_;
  absl::flat_hash_map<std::string, double> weight_;
  std::vector<std::string> tenant_names_;
  std::vector<std::int64_t> tenant_gpus_;    // allocated now
  std::vector<std::int64_t> tenant_cpu_;     // allocated now, milli-cores
  std::vector<std::int64_t> tenant_active_;  // jobs submitted and not ended
  std::vector<double> tenant_gpu_time_;
  std::int64_t total_gpus_ = 0, total_cpu_ = 0;
  double busy_gpu_time_ = 0, busy_cpu_time_ = 0;
  std::int64_t running_ = 0, ended_ = 0, repairs_pending_ = 0, node_failures_ = 0, decisions_ = 0;
  static constexpr std::uint64_t kTimedEvery = 8;  // a power of two
  // Which ticks are timed comes from a counter of its own through
  // SplitMix64: the sample never moves the run's seeded draws, so results
  // and digests do not depend on it.
  std::uint64_t timing_state_ = 0;
  std::int64_t ticks_ = 0, timed_ticks_ = 0;
  double timed_wall_ = 0;  // over the timed ticks
  Duration sample_every_ = kMinute;
  std::vector<TimePoint> series_;
  double jain_sum_ = 0;
  std::int64_t jain_samples_ = 0;
};

}  // namespace

absl::StatusOr<Report> Simulate(const Workload& workload, const SimOptions& options) {
  if (options.faults.node_mtbf < 0 || options.faults.node_repair <= 0 || options.faults.checkpoint_interval < 0 ||
      !(options.faults.task_crash_probability >= 0 && options.faults.task_crash_probability <= 1)) {
    return absl::InvalidArgumentError(
        "simulation faults: node_mtbf >= 0, node_repair > 0, checkpoint_interval >= 0 and "
        "task_crash_probability in [0, 1] are required");
  }
  MLSCHED_RETURN_IF_ERROR(options.retry.Validate("(every simulated job)"));
  Run run(workload, options);
  return run.Go();
}

absl::StatusOr<PolicySet> NamedPolicySet(std::string_view name) {
  PolicySet set{.ordering = NewPriorityOrdering(), .placement = NewBestFitPlacement()};
  if (name == "fcfs") {
    set.ordering = NewFifoOrdering();
    set.strict_order = true;
  } else if (name == "fifo") {
    set.ordering = NewFifoOrdering();
  } else if (name == "priority") {
  } else if (name == "sjf") {
    set.ordering = NewShortestFirstOrdering();
  } else if (name == "easy") {
    set.ordering = NewFifoOrdering();
    set.backfill = BackfillOptions{.reservation_depth = 1};
  } else if (name == "conservative") {
    set.ordering = NewFifoOrdering();
    set.backfill = BackfillOptions{.reservation_depth = kReserveAll};
  } else if (name == "drf") {
    set.fair_share = FairShareOptions{};
  } else if (name == "drf-easy") {
    set.fair_share = FairShareOptions{};
    set.backfill = BackfillOptions{.reservation_depth = 1};
  } else if (name == "drf-easy-preempt") {
    set.fair_share = FairShareOptions{};
    set.backfill = BackfillOptions{.reservation_depth = 1};
    set.preemption = PreemptionOptions{};
  } else {
    std::string known;
    for (const std::string& n : PolicySetNames()) known += (known.empty() ? "" : ", ") + n;
    return absl::InvalidArgumentError(fmt::format("policy set \"{}\": unknown (known: {})", name, known));
  }
  return set;
}

std::vector<std::string> PolicySetNames() {
  return {"fcfs", "fifo", "priority", "sjf", "easy", "conservative", "drf", "drf-easy", "drf-easy-preempt"};
}

}  // namespace mlsched::sim
