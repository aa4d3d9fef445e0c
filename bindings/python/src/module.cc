// The private extension `mlsched._mlsched`: the engine, the simulator and the
// trace readers. The Python package (bindings/python/mlsched) re-exports it
// and adds DataFrame conversions and plots.
#include <pybind11/functional.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <unistd.h>

#include <algorithm>
#include <memory>

#include "convert.h"
#include "fmt/format.h"
#include "mlsched/clock.h"
#include "mlsched/engine.h"
#include "mlsched/schedule.h"
#include "mlsched/workflow.h"
#include "mlsched/sim/report.h"
#include "mlsched/sim/simulator.h"
#include "mlsched/sim/synthetic.h"
#include "mlsched/sim/trace.h"
#include "policies.h"

namespace mlsched::py_bind {
namespace {

// ------------------------------------------------------------------ engine

// An engine on its own manual clock: time moves only when Python says so.
// A workflow from its name, jobs (dicts, names unique), edges (parent,
// child[, kind]) and what an upstream failure does ("mark" or "cancel").
WorkflowSpec ToWorkflowSpec(const ResourceCatalog& catalog, const std::string& name, const py::list& jobs,
                            const py::list& edges, const std::string& on_upstream_failure) {
  WorkflowSpec spec{.name = name};
  for (py::handle j : jobs) {
    if (!py::isinstance<py::dict>(j)) throw py::value_error(fmt::format("workflow \"{}\": jobs: expected dicts", name));
    spec.jobs.push_back(ToJobSpec(catalog, j.cast<py::dict>()));
  }
  for (py::handle e : edges) {
    const py::tuple t = py::reinterpret_borrow<py::sequence>(e).cast<py::tuple>();
    if (py::len(t) != 2 && py::len(t) != 3)
      throw py::value_error(fmt::format("workflow \"{}\": edges: expected (parent, child[, kind])", name));
    WorkflowEdge edge{.parent = py::str(t[0]).cast<std::string>(), .child = py::str(t[1]).cast<std::string>()};
    if (py::len(t) == 3) {
      const std::string kind = py::str(t[2]).cast<std::string>();
      if (kind == "afterok") {
        edge.kind = DependencyKind::kAfterSuccess;
      } else if (kind == "afterany") {
        edge.kind = DependencyKind::kAfterAny;
      } else if (kind == "afternotok") {
        edge.kind = DependencyKind::kAfterFailure;
      } else {
        throw py::value_error(fmt::format("workflow \"{}\": edge {} -> {}: kind \"{}\": expected \"afterok\", "
                                          "\"afterany\" or \"afternotok\"",
                                          name, edge.parent, edge.child, kind));
      }
    }
    spec.edges.push_back(std::move(edge));
  }
  if (on_upstream_failure == "cancel") {
    spec.on_upstream_failure = UpstreamFailure::kCancel;
  } else if (on_upstream_failure != "mark") {
    throw py::value_error(fmt::format("on_upstream_failure \"{}\": expected \"mark\" or \"cancel\"", on_upstream_failure));
  }
  return spec;
}

// A schedule from a dict: name; cron (with time_zone) or, for a one-off,
// run_at (engine seconds) or in (seconds from now); job (a job dict) or
// workflow (a dict of name, jobs, edges, on_upstream_failure); misfire
// ("skip", "run-once", "run-all"), misfire_grace, max_missed_runs,
// concurrency ("allow", "forbid", "replace"), paused. Unknown keys are errors.
ScheduleSpec ToScheduleSpec(const ResourceCatalog& catalog, const py::dict& d, Timestamp now) {
  ScheduleSpec spec;
  if (d.contains("name")) spec.name = py::str(d["name"]).cast<std::string>();
  auto bad = [&](std::string_view key, std::string_view why) -> py::value_error {
    return py::value_error(fmt::format("schedule \"{}\": {}: {}", spec.name, key, why));
  };
  auto text = [&](const char* key, py::handle v) {
    if (!py::isinstance<py::str>(v)) throw bad(key, "expected a string");
    return v.cast<std::string>();
  };
  // A policy by its name (MisfirePolicyFromName, ConcurrencyPolicyFromName).
  auto named = [&](const char* key, py::handle v, auto from_name, std::string_view expected) {
    const std::string name = text(key, v);
    const auto policy = from_name(name);
    if (!policy) throw bad(key, fmt::format("\"{}\": expected {}", name, expected));
    return *policy;
  };
  for (auto [k, v] : d) {
    const std::string key = py::str(k).cast<std::string>();
    if (key == "name") continue;
    if (key == "cron") {
      spec.cron = text("cron", v);
    } else if (key == "time_zone") {
      spec.time_zone = text("time_zone", v);
    } else if (key == "run_at") {
      spec.run_at = ToDuration(v, "run_at");
    } else if (key == "in") {
      spec.run_at = now + ToDuration(v, "in");
    } else if (key == "job") {
      if (!py::isinstance<py::dict>(v)) throw bad("job", "expected a job dict");
      spec.job = ToJobSpec(catalog, v.cast<py::dict>());
    } else if (key == "workflow") {
      if (!py::isinstance<py::dict>(v)) throw bad("workflow", "expected a dict of name, jobs, edges");
      const py::dict w = v.cast<py::dict>();
      for (auto [wk, wv] : w) {
        const std::string name = py::str(wk).cast<std::string>();
        if (name != "name" && name != "jobs" && name != "edges" && name != "on_upstream_failure")
          throw bad("workflow." + name, "unknown key (known: name, jobs, edges, on_upstream_failure)");
      }
      spec.workflow = ToWorkflowSpec(catalog, w.contains("name") ? py::str(w["name"]).cast<std::string>() : spec.name,
                                     w.contains("jobs") ? w["jobs"].cast<py::list>() : py::list(),
                                     w.contains("edges") ? w["edges"].cast<py::list>() : py::list(),
                                     w.contains("on_upstream_failure") ? py::str(w["on_upstream_failure"]).cast<std::string>()
                                                                       : std::string("mark"));
    } else if (key == "misfire") {
      spec.misfire = named("misfire", v, MisfirePolicyFromName, R"("skip", "run-once" or "run-all")");
    } else if (key == "misfire_grace") {
      spec.misfire_grace = ToDuration(v, "misfire_grace");
    } else if (key == "max_missed_runs") {
      if (!py::isinstance<py::int_>(v) || py::isinstance<py::bool_>(v)) throw bad("max_missed_runs", "expected an integer");
      spec.max_missed_runs = v.cast<std::int32_t>();
    } else if (key == "concurrency") {
      spec.concurrency = named("concurrency", v, ConcurrencyPolicyFromName, R"("allow", "forbid" or "replace")");
    } else if (key == "paused") {
      if (!py::isinstance<py::bool_>(v)) throw bad("paused", "expected True or False");
      spec.paused = v.cast<bool>();
    } else {
      throw bad(key, "unknown key (known: name, cron, time_zone, run_at, in, job, workflow, misfire, "
                     "misfire_grace, max_missed_runs, concurrency, paused)");
    }
  }
  return spec;
}

py::object TimeOrNone(Timestamp t) { return t == kInfiniteFuture || t == 0 ? py::object(py::none()) : py::float_(Seconds(t)); }

py::dict ScheduleDict(const ScheduleStatus& st) {
  std::vector<std::uint32_t> jobs;
  for (JobId j : st.last_jobs) jobs.push_back(j.value());
  return py::dict(py::arg("id") = st.id.value(), py::arg("name") = st.spec.name, py::arg("cron") = st.spec.cron,
                  py::arg("time_zone") = st.spec.time_zone, py::arg("paused") = st.spec.paused,
                  py::arg("misfire") = std::string(MisfirePolicyName(st.spec.misfire)),
                  py::arg("concurrency") = std::string(ConcurrencyPolicyName(st.spec.concurrency)),
                  py::arg("next_fire") = TimeOrNone(st.next_fire), py::arg("last_fire") = TimeOrNone(st.last_fire),
                  py::arg("runs") = st.runs, py::arg("skipped") = st.skipped, py::arg("failed") = st.failed,
                  py::arg("last_error") = st.last_error, py::arg("last_jobs") = jobs,
                  py::arg("last_workflow") = st.last_workflow.valid() ? py::object(py::int_(st.last_workflow.value()))
                                                                      : py::object(py::none()));
}

class PyEngine {
 public:
  PyEngine(const PyPolicySet& policies, std::uint64_t seed, double start) : policies_(policies) {
    clock_ = std::make_unique<ManualClock>(static_cast<Timestamp>(start * static_cast<double>(kSecond)));
    engine_ = Value(Engine::Create({.clock = clock_.get(), .seed = seed, .policies = policies.policies}));
  }

  const ResourceCatalog& catalog() const { return engine_->catalog(); }
  double now() const { return Seconds(engine_->Now()); }
  void advance(double seconds) {
    if (!(seconds >= 0)) throw py::value_error(fmt::format("advance: {} seconds: must be >= 0", seconds));
    clock_->Advance(static_cast<Duration>(seconds * static_cast<double>(kSecond)));
  }

  std::uint32_t add_node(const py::dict& d) { return Value(engine_->AddNode(ToNodeSpec(catalog(), d))).value(); }
  void remove_node(std::uint32_t node) { Check(engine_->RemoveNode(NodeId(node))); }
  void set_node_state(std::uint32_t node, const std::string& state) {
    NodeState s;
    if (state == "up") {
      s = NodeState::kUp;
    } else if (state == "draining") {
      s = NodeState::kDraining;
    } else if (state == "down") {
      s = NodeState::kDown;
    } else {
      throw py::value_error(fmt::format("node state \"{}\": expected \"up\", \"draining\" or \"down\"", state));
    }
    Check(engine_->SetNodeState(NodeId(node), s));
  }
  void set_gpu_health(std::uint32_t node, int gpu, bool healthy) {
    Check(engine_->SetGpuHealth(NodeId(node), gpu, healthy));
  }
  void configure_tenants(const py::list& tenants) {
    Check(engine_->ConfigureTenants(ToTenantSpecs(catalog(), tenants)));
  }
  py::dict tenant(const std::string& name) const {
    const TenantStatus t = Value(engine_->GetTenant(name));
    return py::dict(py::arg("name") = t.name, py::arg("parent") = t.parent, py::arg("weight") = t.weight,
                    py::arg("guarantee") = FromResources(catalog(), t.guarantee),
                    py::arg("usage") = FromResources(catalog(), t.usage),
                    py::arg("dominant_share") = t.dominant_share, py::arg("pending_jobs") = t.pending_jobs,
                    py::arg("running_jobs") = t.running_jobs);
  }

  std::uint32_t submit(const py::dict& d) {
    absl::StatusOr<JobId> id = engine_->Submit(ToJobSpec(catalog(), d));
    policies_.RaiseIfFailed();
    return Value(std::move(id)).value();
  }

  // Columns: each key names a job field (as submit() takes) and maps to a
  // list with one value per job, or to one value shared by every job.
  std::vector<std::uint32_t> submit_many(const py::dict& columns) {
    std::int64_t n = -1;
    for (auto [k, v] : columns) {
      if (py::isinstance<py::list>(v) || py::isinstance<py::tuple>(v)) {
        const auto len = static_cast<std::int64_t>(py::len(v));
        if (n >= 0 && len != n)
          throw py::value_error(fmt::format("submit_many: column \"{}\" has {} values, others {}",
                                            py::str(k).cast<std::string>(), len, n));
        n = len;
      }
    }
    if (n < 0) n = 1;
    // The columns, read element by element: no dict per job. Shared values
    // first, so a job's own values win; "name" first for error messages.
    struct Column {
      std::string key;
      py::object values;  // a sequence, or one value every job shares
      bool shared;
    };
    std::vector<Column> cols;
    for (auto [k, v] : columns) {
      const bool seq = py::isinstance<py::list>(v) || py::isinstance<py::tuple>(v);
      cols.push_back({py::str(k).cast<std::string>(), py::reinterpret_borrow<py::object>(v), !seq});
    }
    // Shared values are read once, into a template each job copies.
    JobBuilder shared(catalog(), "job");
    for (const Column& c : cols) {
      if (!c.shared) continue;
      try {
        shared.Set(c.key, c.values);
      } catch (const py::value_error& e) {
        throw py::value_error(fmt::format("submit_many: every job: {}", e.what()));
      }
    }
    auto build = [&](std::int64_t i) {
      JobBuilder b = shared;
      try {
        for (const Column& c : cols)
          if (!c.shared) b.Set(c.key, PySequence_Fast_GET_ITEM(c.values.ptr(), i));  // lists and tuples only
        return b.Finish();
      } catch (const py::value_error& e) {
        throw py::value_error(fmt::format("submit_many: job {}: {}", i, e.what()));
      }
    };
    // Everything is checked before anything is submitted, without holding a
    // million specs at once: a first pass builds and checks each job, the
    // second builds them again and submits them in chunks.
    for (std::int64_t i = 0; i < n; ++i) {
      if (absl::Status s = engine_->CheckJob(build(i)); !s.ok())
        throw py::value_error(fmt::format("submit_many: job {}: {}", i, std::string(s.message())));
    }
    policies_.RaiseIfFailed();
    constexpr std::int64_t kChunk = 4096;
    std::vector<std::uint32_t> ids;
    ids.reserve(static_cast<std::size_t>(n));
    std::vector<JobSpec> chunk;
    for (std::int64_t first = 0; first < n; first += kChunk) {
      chunk.clear();
      for (std::int64_t i = first; i < std::min(n, first + kChunk); ++i) chunk.push_back(build(i));
      absl::StatusOr<std::vector<JobId>> submitted;
      {
        py::gil_scoped_release release;  // Python policies take it back while they run
        submitted = engine_->SubmitMany(std::move(chunk));
      }
      chunk = {};
      policies_.RaiseIfFailed();
      for (JobId id : Value(std::move(submitted))) ids.push_back(id.value());
    }
    return ids;
  }

  void cancel(std::uint32_t job) { Check(engine_->Cancel(JobId(job))); }

  // Schedules: cron or one-off, of a job or a workflow; they fire in tick().
  std::uint32_t create_schedule(const py::dict& d) {
    return Value(engine_->CreateSchedule(ToScheduleSpec(catalog(), d, engine_->Now()))).value();
  }
  void update_schedule(std::uint32_t id, const py::dict& d) {
    Check(engine_->UpdateSchedule(ScheduleId(id), ToScheduleSpec(catalog(), d, engine_->Now())));
  }
  py::dict schedule(std::uint32_t id) const { return ScheduleDict(Value(engine_->GetSchedule(ScheduleId(id)))); }
  py::list list_schedules() const {
    py::list out;
    for (const ScheduleStatus& st : engine_->ListSchedules()) out.append(ScheduleDict(st));
    return out;
  }
  void pause_schedule(std::uint32_t id) { Check(engine_->PauseSchedule(ScheduleId(id))); }
  void resume_schedule(std::uint32_t id) { Check(engine_->ResumeSchedule(ScheduleId(id))); }
  void delete_schedule(std::uint32_t id) { Check(engine_->DeleteSchedule(ScheduleId(id))); }
  std::vector<double> preview_schedule(std::uint32_t id, int n) const {
    std::vector<double> out;
    for (Timestamp t : Value(engine_->PreviewSchedule(ScheduleId(id), n))) out.push_back(Seconds(t));
    return out;
  }

  // A DAG: jobs (dicts, names unique) and edges (parent, child[, kind]).
  py::dict submit_workflow(const std::string& name, const py::list& jobs, const py::list& edges,
                           const std::string& on_upstream_failure) {
    const WorkflowSubmission s =
        Value(engine_->SubmitWorkflow(ToWorkflowSpec(catalog(), name, jobs, edges, on_upstream_failure)));
    policies_.RaiseIfFailed();
    std::vector<std::uint32_t> ids;
    for (JobId id : s.jobs) ids.push_back(id.value());
    return py::dict(py::arg("id") = s.id.value(), py::arg("jobs") = ids);
  }

  py::dict workflow(std::uint32_t id) const {
    const WorkflowStatus w = Value(engine_->GetWorkflow(WorkflowId(id)));
    py::dict by_state;
    for (int s = 0; s < kNumJobStates; ++s)
      if (w.by_state[s] > 0) by_state[std::string(JobStateName(static_cast<JobState>(s))).c_str()] = w.by_state[s];
    std::vector<std::uint32_t> jobs, critical;
    for (JobId j : w.jobs) jobs.push_back(j.value());
    for (JobId j : w.critical_path) critical.push_back(j.value());
    return py::dict(py::arg("id") = w.id.value(), py::arg("name") = w.name, py::arg("jobs") = jobs,
                    py::arg("by_state") = by_state, py::arg("finished") = w.finished, py::arg("succeeded") = w.succeeded,
                    py::arg("critical_path") = critical, py::arg("critical_path_length") = Seconds(w.critical_path_length));
  }

  // One scheduling round: the decisions, each a dict.
  py::list tick() {
    absl::Status s = engine_->Tick(&round_);
    policies_.RaiseIfFailed();
    Check(s);
    py::list out;
    for (const Decision& d : round_.decisions) {
      py::dict e;
      e["kind"] = std::string(DecisionKindName(d.kind));
      e["job"] = d.job.value();
      e["token"] = py::make_tuple(d.token.epoch, d.token.attempt);
      if (d.kind != DecisionKind::kStart) {
        e["reason"] = std::string(KillReasonName(d.reason));
        e["grace"] = Seconds(d.grace);
      }
      py::list tasks;
      for (const TaskPlacement& p : round_.PlacementsOf(d)) {
        py::list gpus;
        for (int g : p.gpus) gpus.append(g);
        tasks.append(py::dict(py::arg("task") = p.task, py::arg("group") = p.group,
                              py::arg("node") = p.node.value(), py::arg("gpus") = gpus));
      }
      e["tasks"] = tasks;
      out.append(e);
    }
    return out;
  }

  // The bare C++ call, for measuring the binding's overhead.
  std::size_t tick_count() {
    absl::Status s = engine_->Tick(&round_);
    policies_.RaiseIfFailed();
    Check(s);
    return round_.decisions.size();
  }

  static FencingToken Token(const py::tuple& t) {
    if (py::len(t) != 2) throw py::value_error("token: expected (epoch, attempt)");
    return {.epoch = t[0].cast<std::uint32_t>(), .attempt = t[1].cast<std::uint32_t>()};
  }
  void task_started(std::uint32_t job, const py::tuple& token, int task) {
    Check(engine_->TaskStarted({.job = JobId(job), .token = Token(token), .task = task}));
  }
  void task_exited(std::uint32_t job, const py::tuple& token, int task, int exit_code, int signal) {
    Check(engine_->TaskExited(
        {.job = JobId(job), .token = Token(token), .task = task, .exit_code = exit_code, .signal = signal}));
  }

  py::dict get_job(std::uint32_t job) const {
    const JobStatus s = Value(engine_->GetJob(JobId(job)));
    py::dict d;
    d["id"] = s.id.value();
    d["name"] = s.name;
    d["tenant"] = s.tenant;
    d["user"] = s.user;
    d["state"] = std::string(JobStateName(s.state));
    d["submit_time"] = Seconds(s.submit_time);
    d["end_time"] = s.end_time ? py::cast(Seconds(s.end_time)) : py::none();
    d["effective_priority"] = s.effective_priority;
    d["reason"] = s.reason;
    py::list attempts;
    for (const AttemptInfo& a : s.attempts)
      attempts.append(py::dict(py::arg("token") = py::make_tuple(a.token.epoch, a.token.attempt),
                               py::arg("start") = Seconds(a.start),
                               py::arg("end") = a.end ? py::cast(Seconds(a.end)) : py::none(),
                               py::arg("outcome") = std::string(AttemptEndName(a.outcome)),
                               py::arg("reason") = a.reason,
                               py::arg("gpu_hours_lost") = static_cast<double>(a.lost_gpu_time) / static_cast<double>(kHour)));
    d["attempts"] = attempts;
    d["spec"] = FromJobSpec(catalog(), *engine_->GetSpec(JobId(job)));
    return d;
  }

  std::vector<std::uint32_t> list_jobs(const std::optional<std::string>& tenant, const std::optional<std::string>& user,
                                       const std::optional<std::string>& state) const {
    JobFilter f{.tenant = tenant, .user = user};
    if (state) {
      for (int s = 0; s < kNumJobStates; ++s)
        if (JobStateName(static_cast<JobState>(s)) == *state) f.state = static_cast<JobState>(s);
      if (!f.state) throw py::value_error(fmt::format("state \"{}\": not a job state (e.g. \"Queued\", \"Running\")", *state));
    }
    std::vector<std::uint32_t> out;
    for (JobId id : engine_->ListJobs(f)) out.push_back(id.value());
    return out;
  }

  py::dict explain(std::uint32_t job) const {
    const Explanation e = Value(engine_->Explain(JobId(job)));
    py::dict d;
    d["job"] = e.job.value();
    d["state"] = std::string(JobStateName(e.state));
    d["verdict"] = std::string(VerdictName(e.verdict));
    d["reason"] = e.reason;
    d["effective_priority"] = e.effective_priority;
    d["expected_start"] = e.expected_start ? py::cast(Seconds(e.expected_start)) : py::none();
    return d;
  }

  py::dict queue_depth() const {
    const QueueDepth q = engine_->GetQueueDepth();
    py::dict by_tenant;
    for (const auto& row : q.by_tenant)
      by_tenant[row.tenant.c_str()] = py::dict(py::arg("low") = row.by_class[0], py::arg("medium") = row.by_class[1],
                                               py::arg("high") = row.by_class[2]);
    return py::dict(py::arg("total") = q.total, py::arg("low") = q.by_class[0], py::arg("medium") = q.by_class[1],
                    py::arg("high") = q.by_class[2], py::arg("by_tenant") = by_tenant);
  }

  py::dict utilization() const {
    const Utilization u = engine_->GetUtilization();
    return py::dict(py::arg("total") = FromResources(catalog(), u.total),
                    py::arg("allocated") = FromResources(catalog(), u.allocated),
                    py::arg("running_jobs") = u.running_jobs, py::arg("pending_jobs") = u.pending_jobs);
  }

  py::dict counters() const {
    const EngineCounters c = engine_->counters();
    return py::dict(py::arg("passes") = c.passes, py::arg("starts") = c.starts, py::arg("kills") = c.kills,
                    py::arg("reservations") = c.reservations, py::arg("preemptions") = c.preemptions,
                    py::arg("retries") = c.retries, py::arg("dead_lettered") = c.dead_lettered,
                    py::arg("timed_out") = c.timed_out, py::arg("stale_reports") = c.stale_reports);
  }

  py::dict node(std::uint32_t id) const {
    const NodeStatus s = Value(engine_->GetNode(NodeId(id)));
    py::list free;
    for (int g : s.free_gpus) free.append(g);
    return py::dict(py::arg("id") = s.id.value(), py::arg("name") = s.name,
                    py::arg("state") = std::string(NodeStateName(s.state)),
                    py::arg("capacity") = FromResources(catalog(), s.capacity),
                    py::arg("allocated") = FromResources(catalog(), s.allocated), py::arg("free_gpus") = free,
                    py::arg("live_tasks") = s.live_tasks);
  }

  std::int64_t job_count() const { return engine_->job_count(); }
  std::int64_t node_count() const { return engine_->node_count(); }
  const PyPolicySet& policies() const { return policies_; }

 private:
  PyPolicySet policies_;  // holds the Python policies as long as the engine
  std::unique_ptr<ManualClock> clock_;
  std::unique_ptr<Engine> engine_;  // declared last: destroyed before the policies and the clock
  SchedulingRound round_;
};

// --------------------------------------------------------------- workloads

py::dict WorkloadInfo(const sim::Workload& w) {
  std::int64_t gpus = 0;
  for (const NodeSpec& n : w.nodes) gpus += static_cast<std::int64_t>(n.gpus.size());
  return py::dict(py::arg("name") = w.name, py::arg("jobs") = w.jobs.size(), py::arg("nodes") = w.nodes.size(),
                  py::arg("gpus") = gpus);
}

// A file that cannot be opened is an OSError (FileNotFoundError, ...), as
// Python's own open() says.
void CheckReadable(const std::string& path) {
  if (access(path.c_str(), R_OK) != 0) {
    PyErr_SetFromErrnoWithFilename(PyExc_OSError, path.c_str());
    throw py::error_already_set();
  }
}

sim::ReadOptions Options(bool lenient, std::int64_t max_jobs) {
  return {.lenient = lenient, .max_jobs = max_jobs};
}

// ----------------------------------------------------------------- reports

py::dict Summary(const sim::Distribution& d) {
  return py::dict(py::arg("count") = d.count, py::arg("mean") = d.mean, py::arg("p50") = d.p50,
                  py::arg("p95") = d.p95, py::arg("p99") = d.p99, py::arg("max") = d.max);
}

py::dict ReportDict(const sim::Report& r) {
  py::list tenants;
  for (const sim::TenantResult& t : r.tenants)
    tenants.append(py::dict(py::arg("name") = t.name, py::arg("jobs") = t.jobs, py::arg("gpu_hours") = t.gpu_hours,
                            py::arg("share") = t.share, py::arg("wait") = Summary(t.wait)));
  py::dict d;
  d["policy"] = r.policy;
  d["workload"] = r.workload;
  d["jobs"] = r.jobs;
  d["succeeded"] = r.succeeded;
  d["failed"] = r.failed;
  d["unfinished"] = r.unfinished;
  d["jct"] = Summary(r.jct);
  d["wait"] = Summary(r.wait);
  d["bounded_slowdown"] = Summary(r.bounded_slowdown);
  d["makespan"] = Seconds(r.makespan);
  d["gpu_utilization"] = r.gpu_utilization;
  d["cpu_utilization"] = r.cpu_utilization;
  d["jain_index"] = r.jain_index;
  d["mean_free_gpus_on_partial_nodes"] = r.mean_free_gpus_on_partial_nodes;
  d["preemptions"] = r.preemptions;
  d["gpu_hours_lost"] = r.gpu_hours_lost;
  d["retries"] = r.retries;
  d["dead_lettered"] = r.dead_lettered;
  d["node_failures"] = r.node_failures;
  d["passes"] = r.passes;
  d["decisions"] = r.decisions;
  d["wall_seconds"] = r.wall_seconds;
  d["us_per_pass"] = r.us_per_pass;
  d["jobs_per_second"] = r.jobs_per_second;
  d["digest"] = fmt::format("{:016x}", r.digest);
  d["tenants"] = tenants;
  return d;
}

// Per-job rows as columns (lists), ready for a DataFrame.
py::dict JobColumns(const sim::Report& r) {
  const std::size_t n = r.job_results.size();
  std::vector<std::int64_t> trace_id(n), job(n), attempts(n), gpus(n);
  std::vector<std::string> tenant(n), state(n);
  std::vector<double> submit(n), start(n), end(n), runtime(n), wait(n), jct(n);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (std::size_t i = 0; i < n; ++i) {
    const sim::JobResult& j = r.job_results[i];
    trace_id[i] = j.trace_id;
    job[i] = j.job.value();
    tenant[i] = j.tenant;
    submit[i] = Seconds(j.submit);
    start[i] = j.first_start >= 0 ? Seconds(j.first_start) : nan;
    end[i] = j.end >= 0 ? Seconds(j.end) : nan;
    state[i] = std::string(JobStateName(j.state));
    attempts[i] = j.attempts;
    gpus[i] = j.gpus;
    runtime[i] = Seconds(j.runtime);
    wait[i] = j.first_start >= 0 ? Seconds(j.first_start - j.submit) : nan;
    jct[i] = j.end >= 0 ? Seconds(j.end - j.submit) : nan;
  }
  return py::dict(py::arg("trace_id") = trace_id, py::arg("job") = job, py::arg("tenant") = tenant,
                  py::arg("submit") = submit, py::arg("first_start") = start, py::arg("end") = end,
                  py::arg("state") = state, py::arg("attempts") = attempts, py::arg("gpus") = gpus,
                  py::arg("runtime") = runtime, py::arg("wait") = wait, py::arg("jct") = jct);
}

py::dict SeriesColumns(const sim::Report& r) {
  const std::size_t n = r.series.size();
  std::vector<double> time(n);
  std::vector<std::int64_t> gpus(n), cpu(n), pending(n), running(n), partial(n);
  py::dict tenant_gpus;
  std::vector<std::vector<std::int64_t>> by_tenant(r.tenants.size(), std::vector<std::int64_t>(n));
  for (std::size_t i = 0; i < n; ++i) {
    const sim::TimePoint& p = r.series[i];
    time[i] = Seconds(p.time);
    gpus[i] = p.gpus_used;
    cpu[i] = p.cpu_used;
    pending[i] = p.pending;
    running[i] = p.running;
    partial[i] = p.free_gpus_on_partial_nodes;
    for (std::size_t t = 0; t < by_tenant.size() && t < p.tenant_gpus.size(); ++t) by_tenant[t][i] = p.tenant_gpus[t];
  }
  for (std::size_t t = 0; t < by_tenant.size(); ++t) tenant_gpus[r.tenants[t].name.c_str()] = by_tenant[t];
  return py::dict(py::arg("time") = time, py::arg("gpus_used") = gpus, py::arg("cpu_used") = cpu,
                  py::arg("pending") = pending, py::arg("running") = running,
                  py::arg("free_gpus_on_partial_nodes") = partial, py::arg("tenant_gpus") = tenant_gpus);
}

std::vector<sim::Report> RunSimulations(const sim::Workload& w, const std::vector<PyPolicySet>& sets,
                                        std::uint64_t seed, const py::dict& faults, bool keep_jobs,
                                        const py::list& tenant_dicts) {
  ResourceCatalog catalog;
  for (const std::string& r : w.extended_resources) (void)catalog.Register(r);
  const std::vector<TenantSpec> tenants = ToTenantSpecs(catalog, tenant_dicts);
  sim::FaultOptions f;
  for (auto [k, v] : faults) {
    const std::string key = py::str(k).cast<std::string>();
    if (key == "node_mtbf") {
      f.node_mtbf = ToDuration(v, "faults.node_mtbf");
    } else if (key == "node_repair") {
      f.node_repair = ToDuration(v, "faults.node_repair");
    } else if (key == "task_crash_probability") {
      f.task_crash_probability = v.cast<double>();
    } else if (key == "checkpoint_interval") {
      f.checkpoint_interval = ToDuration(v, "faults.checkpoint_interval");
    } else {
      throw py::value_error(fmt::format("faults: unknown key \"{}\" (known: node_mtbf, node_repair, "
                                        "task_crash_probability, checkpoint_interval)",
                                        key));
    }
  }
  std::vector<sim::Report> reports;
  for (const PyPolicySet& set : sets) {
    absl::StatusOr<sim::Report> r;
    {
      py::gil_scoped_release release;  // Python policies take it back while they run
      r = sim::Simulate(w, {.name = set.name, .policies = set.policies, .tenants = tenants, .seed = seed, .faults = f,
                            .keep_job_results = keep_jobs});
    }
    set.RaiseIfFailed();
    reports.push_back(Value(std::move(r)));
  }
  return reports;
}

}  // namespace

PYBIND11_MODULE(_mlsched, m) {
  m.doc() = "mlsched: an embeddable scheduling engine for ML and GPU clusters (C++ core).";
  BindPolicies(m);

  py::class_<PyEngine>(m, "Engine", "The scheduling engine on a manual clock (seconds).")
      .def(py::init<const PyPolicySet&, std::uint64_t, double>(), py::arg("policies"), py::arg("seed") = 0,
           py::arg("start") = 0.0)
      .def_property_readonly("now", &PyEngine::now, "The engine's time, in seconds.")
      .def("advance", &PyEngine::advance, py::arg("seconds"), "Moves the clock forward.")
      .def("add_node", &PyEngine::add_node, py::arg("node"), "Adds a node from a dict; returns its id.")
      .def("remove_node", &PyEngine::remove_node, py::arg("node"))
      .def("set_node_state", &PyEngine::set_node_state, py::arg("node"), py::arg("state"),
           "\"up\", \"draining\" (no new work) or \"down\" (its attempts are lost).")
      .def("set_gpu_health", &PyEngine::set_gpu_health, py::arg("node"), py::arg("gpu"), py::arg("healthy"))
      .def("configure_tenants", &PyEngine::configure_tenants, py::arg("tenants"),
           "Tenants (dicts: name, parent, weight, guarantee, borrowing_limit, lending_limit), all or nothing.")
      .def("tenant", &PyEngine::tenant, py::arg("name"))
      .def("submit", &PyEngine::submit, py::arg("job"), "Submits a job from a dict; returns its id.")
      .def("submit_many", &PyEngine::submit_many, py::arg("columns"),
           "Submits many jobs from columns (dict of lists or shared values); returns their ids. All or nothing "
           "for malformed jobs.")
      .def("cancel", &PyEngine::cancel, py::arg("job"))
      .def("create_schedule", &PyEngine::create_schedule, py::arg("schedule"),
           "Creates a cron or one-off schedule of a job or a workflow from a dict; returns its id.")
      .def("update_schedule", &PyEngine::update_schedule, py::arg("schedule"), py::arg("spec"))
      .def("schedule", &PyEngine::schedule, py::arg("schedule"), "A schedule's spec summary, next and last firing, counts.")
      .def("list_schedules", &PyEngine::list_schedules, "Live schedules, by name.")
      .def("pause_schedule", &PyEngine::pause_schedule, py::arg("schedule"))
      .def("resume_schedule", &PyEngine::resume_schedule, py::arg("schedule"))
      .def("delete_schedule", &PyEngine::delete_schedule, py::arg("schedule"))
      .def("preview_schedule", &PyEngine::preview_schedule, py::arg("schedule"), py::arg("n") = 5,
           "The next n nominal firing times, in seconds.")
      .def("submit_workflow", &PyEngine::submit_workflow, py::arg("name"), py::arg("jobs"), py::arg("edges"),
           py::arg("on_upstream_failure") = "mark",
           "Submits a DAG of jobs (dicts with unique names) and edges (parent, child[, \"afterok\" | \"afterany\" | "
           "\"afternotok\"]), all or nothing; returns {\"id\", \"jobs\"}.")
      .def("workflow", &PyEngine::workflow, py::arg("workflow"), "A workflow's progress and critical path.")
      .def("tick", &PyEngine::tick, "Runs a scheduling round; returns its decisions.")
      .def("tick_count", &PyEngine::tick_count, "Runs a round; returns only how many decisions it made.")
      .def("task_started", &PyEngine::task_started, py::arg("job"), py::arg("token"), py::arg("task"))
      .def("task_exited", &PyEngine::task_exited, py::arg("job"), py::arg("token"), py::arg("task"),
           py::arg("exit_code") = 0, py::arg("signal") = 0)
      .def("get_job", &PyEngine::get_job, py::arg("job"))
      .def("explain", &PyEngine::explain, py::arg("job"), "Why the job waits, and its expected start.")
      .def("list_jobs", &PyEngine::list_jobs, py::arg("tenant") = py::none(), py::arg("user") = py::none(),
           py::arg("state") = py::none(), "Ids of the jobs that match, ascending.")
      .def("queue_depth", &PyEngine::queue_depth)
      .def("utilization", &PyEngine::utilization)
      .def("counters", &PyEngine::counters)
      .def("node", &PyEngine::node, py::arg("node"))
      .def_property_readonly("job_count", &PyEngine::job_count)
      .def_property_readonly("node_count", &PyEngine::node_count)
      .def_property_readonly("policies", &PyEngine::policies, py::return_value_policy::reference_internal);

  py::class_<sim::Workload>(m, "Workload", "Jobs with arrival and run times, and the cluster they ran on.")
      .def_property_readonly("name", [](const sim::Workload& w) { return w.name; })
      .def_property_readonly("job_count", [](const sim::Workload& w) { return w.jobs.size(); })
      .def_property_readonly("node_count", [](const sim::Workload& w) { return w.nodes.size(); })
      .def("info", &WorkloadInfo)
      .def("with_nodes",
           [](const sim::Workload& w, const py::list& nodes) {
             sim::Workload copy = w;
             const ResourceCatalog catalog;
             copy.nodes.clear();
             for (py::handle n : nodes) copy.nodes.push_back(ToNodeSpec(catalog, n.cast<py::dict>()));
             return copy;
           },
           py::arg("nodes"), "A copy on another cluster (list of node dicts).")
      .def("__len__", [](const sim::Workload& w) { return w.jobs.size(); })
      .def("__repr__", [](const sim::Workload& w) {
        return fmt::format("Workload('{}', {} jobs, {} nodes)", w.name, w.jobs.size(), w.nodes.size());
      });

  m.def("release_cached_memory", &ReleaseCachedMemory,
        "Gives back the memory engines keep for reuse (their freed table chunks, up to 64 MiB); returns the bytes.");
  m.def(
      "read_trace",
      [](const std::string& path, bool lenient, std::int64_t max_jobs) {
        CheckReadable(path);
        sim::ReadStats stats;
        sim::Workload w = Value(sim::ReadTrace(path, Options(lenient, max_jobs), &stats));
        return py::make_tuple(std::move(w), stats.skipped, stats.notes);
      },
      py::arg("path"), py::arg("lenient") = false, py::arg("max_jobs") = -1,
      "Reads an SWF (.swf[.gz]) or mlsched jobs file (.csv/.jsonl[.gz]); returns (workload, skipped, notes).");
  m.def(
      "read_alibaba",
      [](const std::string& pods, const std::string& nodes, bool lenient, std::int64_t max_jobs) {
        CheckReadable(pods);
        CheckReadable(nodes);
        return Value(sim::ReadAlibabaGpu2023(pods, nodes, Options(lenient, max_jobs)));
      },
      py::arg("pods"), py::arg("nodes"), py::arg("lenient") = false, py::arg("max_jobs") = -1,
      "Reads the Alibaba GPU 2023 pod and node lists.");
  m.def(
      "read_philly",
      [](const std::string& dir, const std::string& gpu_type, int gpus_per_node, const std::string& unknown_scale,
         bool time_limits, bool lenient, std::int64_t max_jobs) {
        CheckReadable(dir);
        if (unknown_scale != "linear" && unknown_scale != "skip") {
          throw py::value_error(
              fmt::format("read_philly: unknown_scale = \"{}\": \"linear\" or \"skip\"", unknown_scale));
        }
        sim::ReadOptions o = Options(lenient, max_jobs);
        o.philly_gpu_type = gpu_type;
        o.philly_gpus_per_node = gpus_per_node;
        o.philly_unknown_scale =
            unknown_scale == "skip" ? sim::ReadOptions::UnknownScale::kSkip : sim::ReadOptions::UnknownScale::kScaleLinearly;
        o.philly_time_limits = time_limits;
        sim::ReadStats stats;
        sim::Workload w = Value(sim::ReadPhillyGavel(dir, o, &stats));
        return py::make_tuple(std::move(w), stats.skipped, stats.notes);
      },
      py::arg("dir"), py::arg("gpu_type") = "v100", py::arg("gpus_per_node") = 8, py::arg("unknown_scale") = "linear",
      py::arg("time_limits") = true, py::arg("lenient") = false, py::arg("max_jobs") = -1,
      "Reads Philly arrivals as published with Gavel (a directory of .trace files, isolated_throughputs.csv, "
      "cluster_specs.json); returns (workload, skipped, notes).");
  m.def(
      "parse_jobs_jsonl",
      [](const std::string& text, const std::string& source) {
        return Value(sim::ParseJobsJsonl(text, source, {}, nullptr));
      },
      py::arg("text"), py::arg("source") = "<python>", "Jobs in mlsched's JSON Lines format.");
  m.def(
      "synthetic",
      [](std::int64_t jobs, std::uint64_t seed, int tenants, int nodes, int gpus_per_node, int cpu_nodes,
         double load, bool diurnal, double gang_fraction) {
        if (jobs < 1) throw py::value_error(fmt::format("synthetic: jobs = {}: must be >= 1", jobs));
        if (nodes < 1) throw py::value_error(fmt::format("synthetic: nodes = {}: must be >= 1", nodes));
        if (tenants < 1) throw py::value_error(fmt::format("synthetic: tenants = {}: must be >= 1", tenants));
        if (!(load > 0)) throw py::value_error(fmt::format("synthetic: load = {}: must be > 0", load));
        py::gil_scoped_release release;
        return sim::Synthetic({.jobs = jobs, .seed = seed, .tenants = tenants, .load = load, .diurnal = diurnal,
                               .nodes = nodes, .gpus_per_node = gpus_per_node, .cpu_nodes = cpu_nodes,
                               .gang_fraction = gang_fraction});
      },
      py::arg("jobs") = 10'000, py::arg("seed") = 1, py::arg("tenants") = 8, py::arg("nodes") = 64,
      py::arg("gpus_per_node") = 8, py::arg("cpu_nodes") = 4, py::arg("load") = 0.85, py::arg("diurnal") = true,
      py::arg("gang_fraction") = 0.05, "A synthetic ML workload (heavy-tailed, diurnal, gangs) and its GPU cluster.");

  py::class_<sim::Report>(m, "Report", "What one simulation measured.")
      .def_property_readonly("policy", [](const sim::Report& r) { return r.policy; })
      .def("summary", &ReportDict, "The metrics as a dict.")
      .def("job_columns", &JobColumns, "One entry per job, as columns.")
      .def("series_columns", &SeriesColumns, "The time series, as columns.")
      .def("__repr__", [](const sim::Report& r) {
        return fmt::format("Report('{}', {} jobs, mean JCT {:.0f} s)", r.policy, r.jobs, r.jct.mean);
      });

  m.def("simulate", &RunSimulations, py::arg("workload"), py::arg("policies"), py::arg("seed") = 1,
        py::arg("faults") = py::dict(), py::arg("keep_jobs") = true, py::arg("tenants") = py::list(),
        "Replays the workload under each policy set (the GIL is released while it runs).");
  m.def(
      "format_comparison", [](const std::vector<sim::Report>& reports) { return sim::FormatComparison(reports); },
      py::arg("reports"), "The comparison table mlsched-sim prints.");
  m.def(
      "reports_json", [](const std::vector<sim::Report>& reports) { return sim::ToJson(reports); },
      py::arg("reports"));
}

}  // namespace mlsched::py_bind
