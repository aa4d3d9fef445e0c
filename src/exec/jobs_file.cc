// Jobs file reader. yaml-cpp builds the node tree (with marks); every field
// is then read by hand so that an error can name the file position, the path
// of the field and what was expected.
#include "exec/jobs_file.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "fmt/format.h"
#include "internal/duration.h"
#include "yaml-cpp/yaml.h"

namespace mlsched {
namespace {

class Reader {
 public:
  Reader(std::string_view path, std::string base_dir) : path_(path), base_dir_(std::move(base_dir)) {}

  absl::Status Error(const YAML::Node& at, const std::string& field, const std::string& what) const {
    const YAML::Mark m = at.Mark();
    std::string where = m.is_null() ? path_ : fmt::format("{}:{}:{}", path_, m.line + 1, m.column + 1);
    return absl::InvalidArgumentError(
        field.empty() ? fmt::format("{}: {}", where, what) : fmt::format("{}: {}: {}", where, field, what));
  }

  static std::string Got(const YAML::Node& n) {
    switch (n.Type()) {
      case YAML::NodeType::Map: return "a mapping";
      case YAML::NodeType::Sequence: return "a list";
      case YAML::NodeType::Null: return "nothing";
      case YAML::NodeType::Scalar: return fmt::format("\"{}\"", n.Scalar());
      default: return "an undefined value";
    }
  }

  // Keys of a mapping, refusing unknown and repeated ones.
  absl::Status CheckKeys(const YAML::Node& map, const std::string& field, const std::set<std::string>& known) const {
    if (!map.IsMap()) return Error(map, field, "expected a mapping, got " + Got(map));
    std::set<std::string> seen;
    for (auto it = map.begin(); it != map.end(); ++it) {
      const YAML::Node key = it->first;
      if (!key.IsScalar()) return Error(key, field, "keys must be plain words");
      const std::string k = key.Scalar();
      if (!known.count(k)) {
        std::string list;
        for (const std::string& s : known) list += (list.empty() ? "" : ", ") + s;
        return Error(key, field.empty() ? k : field + "." + k, "unknown key (known: " + list + ")");
      }
      if (!seen.insert(k).second) return Error(key, field.empty() ? k : field + "." + k, "given twice");
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::string> String(const YAML::Node& n, const std::string& field) const {
    if (!n.IsScalar()) return Error(n, field, "expected a string, got " + Got(n));
    return n.Scalar();
  }
  absl::StatusOr<std::int64_t> Integer(const YAML::Node& n, const std::string& field, std::int64_t lo,
                                       std::int64_t hi) const {
    if (!n.IsScalar()) return Error(n, field, "expected an integer, got " + Got(n));
    const std::string& s = n.Scalar();
    char* end = nullptr;
    errno = 0;
    long long v = std::strtoll(s.c_str(), &end, 10);
    if (s.empty() || *end != '\0' || errno != 0) return Error(n, field, "expected an integer, got " + Got(n));
    if (v < lo || v > hi) return Error(n, field, fmt::format("{} is outside [{}, {}]", v, lo, hi));
    return static_cast<std::int64_t>(v);
  }
  absl::StatusOr<bool> Bool(const YAML::Node& n, const std::string& field) const {
    if (n.IsScalar()) {
      const std::string& s = n.Scalar();
      if (s == "true" || s == "yes" || s == "on") return true;
      if (s == "false" || s == "no" || s == "off") return false;
    }
    return Error(n, field, "expected true or false, got " + Got(n));
  }
  absl::StatusOr<Duration> DurationOf(const YAML::Node& n, const std::string& field) const {
    if (!n.IsScalar()) return Error(n, field, "expected a duration such as 90s or 2h30m, got " + Got(n));
    std::string why;
    auto d = internal::ParseDurationText(n.Scalar(), "e.g. 90s, 1.5h, 2h30m", why);
    if (!d) return Error(n, field, fmt::format("\"{}\": {}", n.Scalar(), why));
    return *d;
  }
  absl::StatusOr<std::vector<std::string>> Strings(const YAML::Node& n, const std::string& field) const {
    if (!n.IsSequence()) return Error(n, field, "expected a list, got " + Got(n));
    std::vector<std::string> out;
    for (std::size_t i = 0; i < n.size(); ++i) {
      auto s = String(n[i], fmt::format("{}[{}]", field, i));
      if (!s.ok()) return s.status();
      out.push_back(*s);
    }
    return out;
  }
  absl::StatusOr<std::map<std::string, std::string>> StringMap(const YAML::Node& n, const std::string& field) const {
    if (!n.IsMap()) return Error(n, field, "expected a mapping, got " + Got(n));
    std::map<std::string, std::string> out;
    for (auto it = n.begin(); it != n.end(); ++it) {
      auto k = String(it->first, field);
      if (!k.ok()) return k.status();
      auto v = String(it->second, field + "." + *k);
      if (!v.ok()) return v.status();
      if (!out.emplace(*k, *v).second) return Error(it->first, field + "." + *k, "given twice");
    }
    return out;
  }

  absl::StatusOr<ResourceVector> Resources(const ResourceCatalog& catalog, const YAML::Node& n,
                                           const std::string& field) const {
    if (n.IsScalar()) {  // "cpu=1,memory=1Gi"
      auto r = ParseResources(catalog, n.Scalar());
      if (!r.ok()) return Error(n, field, std::string(r.status().message()));
      return *r;
    }
    if (!n.IsMap()) return Error(n, field, "expected a mapping such as {cpu: 1, memory: 1Gi, gpu: 1}, got " + Got(n));
    std::string text;
    for (auto it = n.begin(); it != n.end(); ++it) {
      auto k = String(it->first, field);
      if (!k.ok()) return k.status();
      auto v = String(it->second, field + "." + *k);
      if (!v.ok()) return v.status();
      auto one = ParseResources(catalog, *k + "=" + *v);
      if (!one.ok()) return Error(it->second, field + "." + *k, std::string(one.status().message()));
      text += (text.empty() ? "" : ",") + *k + "=" + *v;
    }
    auto r = ParseResources(catalog, text);
    if (!r.ok()) return Error(n, field, std::string(r.status().message()));
    return *r;
  }

  std::string Dir(const std::string& d) const {
    if (d.empty()) return base_dir_;
    if (d[0] == '/') return d;
    return (std::filesystem::path(base_dir_) / d).lexically_normal().string();
  }

  std::string path_;
  std::string base_dir_;
};

#define JF_ASSIGN(lhs, expr)                  \
  do {                                        \
    auto jf_v = (expr);                       \
    if (!jf_v.ok()) return jf_v.status();     \
    lhs = *std::move(jf_v);                   \
  } while (false)

const std::set<std::string> kJobKeys = {"name",        "command",     "tasks",         "resources",   "env",
                                        "working_dir", "time_limit",  "priority",      "priority_value",
                                        "preemptible", "retry",       "after",         "after_any",
                                        "after_failure", "tenant",    "user",          "gpu_models",
                                        "node_labels", "progress_timeout"};

struct JobDeps {
  std::vector<std::pair<std::string, DependencyKind>> parents;
  std::vector<YAML::Node> at;
};

// Reads the keys of `n` (a job or the defaults) on top of `job`.
absl::Status ReadJob(const Reader& r, const ResourceCatalog& catalog, const YAML::Node& n, const std::string& field,
                     JobSpec& job, JobDeps* deps) {
  if (absl::Status s = r.CheckKeys(n, field, kJobKeys); !s.ok()) return s;
  for (auto it = n.begin(); it != n.end(); ++it) {
    const std::string k = it->first.Scalar();
    const YAML::Node v = it->second;
    const std::string f = field + "." + k;
    if (k == "name") {
      if (deps == nullptr) return r.Error(it->first, f, "a name is given per job, not in defaults");
      JF_ASSIGN(job.name, r.String(v, f));
    } else if (k == "command") {
      if (v.IsScalar()) {
        job.command.argv = {"/bin/sh", "-c", v.Scalar()};
      } else {
        JF_ASSIGN(job.command.argv, r.Strings(v, f));
        if (job.command.argv.empty()) return r.Error(v, f, "must name a program");
      }
    } else if (k == "tasks") {
      std::int64_t t;
      JF_ASSIGN(t, r.Integer(v, f, 1, kMaxTasksPerGroup));
      job.task_groups[0].count = static_cast<std::int32_t>(t);
    } else if (k == "resources") {
      JF_ASSIGN(job.task_groups[0].per_task, r.Resources(catalog, v, f));
    } else if (k == "env") {
      std::map<std::string, std::string> env;
      JF_ASSIGN(env, r.StringMap(v, f));
      for (auto& [ek, ev] : env) job.command.env.emplace_back(ek, ev);
    } else if (k == "working_dir") {
      std::string d;
      JF_ASSIGN(d, r.String(v, f));
      job.command.working_dir = r.Dir(d);
    } else if (k == "time_limit") {
      JF_ASSIGN(job.time_limit, r.DurationOf(v, f));
    } else if (k == "progress_timeout") {
      JF_ASSIGN(job.progress_timeout, r.DurationOf(v, f));
    } else if (k == "priority") {
      std::string p;
      JF_ASSIGN(p, r.String(v, f));
      if (p == "high") job.priority_class = PriorityClass::kHigh;
      else if (p == "medium") job.priority_class = PriorityClass::kMedium;
      else if (p == "low") job.priority_class = PriorityClass::kLow;
      else return r.Error(v, f, fmt::format("\"{}\": expected high, medium or low", p));
    } else if (k == "priority_value") {
      std::int64_t p;
      JF_ASSIGN(p, r.Integer(v, f, kMinPriority, kMaxPriority));
      job.priority = static_cast<std::int32_t>(p);
    } else if (k == "preemptible") {
      JF_ASSIGN(job.preemptible, r.Bool(v, f));
    } else if (k == "tenant") {
      JF_ASSIGN(job.tenant, r.String(v, f));
    } else if (k == "user") {
      JF_ASSIGN(job.user, r.String(v, f));
    } else if (k == "gpu_models") {
      JF_ASSIGN(job.constraints.gpu_models, r.Strings(v, f));
    } else if (k == "node_labels") {
      JF_ASSIGN(job.constraints.node_labels, r.StringMap(v, f));
    } else if (k == "retry") {
      if (absl::Status s = r.CheckKeys(v, f, {"max_attempts", "backoff", "backoff_cap", "jitter",
                                              "transient_exit_codes", "retry_permanent"});
          !s.ok()) {
        return s;
      }
      for (auto rt = v.begin(); rt != v.end(); ++rt) {
        const std::string rk = rt->first.Scalar();
        const YAML::Node rv = rt->second;
        const std::string rf = f + "." + rk;
        if (rk == "max_attempts") {
          std::int64_t a;
          JF_ASSIGN(a, r.Integer(rv, rf, 1, 1000));
          job.retry.max_attempts = static_cast<std::int32_t>(a);
        } else if (rk == "backoff") {
          JF_ASSIGN(job.retry.backoff_base, r.DurationOf(rv, rf));
          if (job.retry.backoff_cap < job.retry.backoff_base) job.retry.backoff_cap = job.retry.backoff_base;
        } else if (rk == "backoff_cap") {
          JF_ASSIGN(job.retry.backoff_cap, r.DurationOf(rv, rf));
        } else if (rk == "jitter") {
          std::string s;
          JF_ASSIGN(s, r.String(rv, rf));
          char* end = nullptr;
          double j = std::strtod(s.c_str(), &end);
          if (s.empty() || *end != '\0' || !(j >= 0 && j <= 1)) return r.Error(rv, rf, "expected a number in [0, 1]");
          job.retry.jitter = j;
        } else if (rk == "transient_exit_codes") {
          if (!rv.IsSequence()) return r.Error(rv, rf, "expected a list of exit codes, got " + Reader::Got(rv));
          job.retry.transient_exit_codes.clear();
          for (std::size_t i = 0; i < rv.size(); ++i) {
            std::int64_t c;
            JF_ASSIGN(c, r.Integer(rv[i], fmt::format("{}[{}]", rf, i), 1, 255));
            job.retry.transient_exit_codes.push_back(static_cast<std::int32_t>(c));
          }
        } else if (rk == "retry_permanent") {
          JF_ASSIGN(job.retry.retry_permanent, r.Bool(rv, rf));
        }
      }
    } else if (k == "after" || k == "after_any" || k == "after_failure") {
      if (deps == nullptr) return r.Error(it->first, f, "dependencies are given per job, not in defaults");
      const DependencyKind kind = k == "after" ? DependencyKind::kAfterSuccess
                                  : k == "after_any" ? DependencyKind::kAfterAny
                                                     : DependencyKind::kAfterFailure;
      std::vector<std::string> names;
      if (v.IsScalar()) names = {v.Scalar()};
      else JF_ASSIGN(names, r.Strings(v, f));
      for (std::size_t i = 0; i < names.size(); ++i) {
        deps->parents.emplace_back(names[i], kind);
        deps->at.push_back(v.IsSequence() ? v[i] : v);
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<JobsFile> ParseJobsFile(const ResourceCatalog& catalog, std::string_view text, std::string_view path,
                                       std::string_view base_dir) {
  Reader r(path, std::string(base_dir));
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        fmt::format("{}:{}:{}: not valid YAML: {}", path, e.mark.line + 1, e.mark.column + 1, e.msg));
  }
  if (!root.IsMap()) return r.Error(root, "", "expected a mapping with `jobs` (and `defaults`, `schedules`)");
  if (absl::Status s = r.CheckKeys(root, "", {"defaults", "jobs", "schedules", "name"}); !s.ok()) return s;

  JobsFile out;
  out.path = std::string(path);
  JobSpec defaults{.tenant = "default", .user = "mlsched",
                   .task_groups = {{.name = "", .count = 1, .per_task = ResourceVector::Of(1000, 0, 0)}}};
  if (const char* user = std::getenv("USER"); user != nullptr && user[0] != '\0') defaults.user = user;
  defaults.command.working_dir = r.Dir("");
  if (root["defaults"]) {
    if (absl::Status s = ReadJob(r, catalog, root["defaults"], "defaults", defaults, nullptr); !s.ok()) return s;
  }
  out.workflow.name = std::filesystem::path(std::string(path)).stem().string();
  if (root["name"]) JF_ASSIGN(out.workflow.name, r.String(root["name"], "name"));

  const YAML::Node jobs = root["jobs"];
  if (!jobs && !root["schedules"]) return r.Error(root, "jobs", "missing: the file runs nothing");
  std::map<std::string, std::size_t> index;
  std::vector<JobDeps> deps;
  if (jobs) {
    if (!jobs.IsSequence()) return r.Error(jobs, "jobs", "expected a list of jobs, got " + Reader::Got(jobs));
    for (std::size_t i = 0; i < jobs.size(); ++i) {
      const std::string f = fmt::format("jobs[{}]", i);
      JobSpec job = defaults;
      JobDeps d;
      if (absl::Status s = ReadJob(r, catalog, jobs[i], f, job, &d); !s.ok()) return s;
      if (job.name.empty()) return r.Error(jobs[i], f + ".name", "missing");
      if (job.command.argv.empty()) return r.Error(jobs[i], f + ".command", "missing");
      if (!index.emplace(job.name, i).second) {
        return r.Error(jobs[i]["name"], f + ".name",
                       fmt::format("\"{}\" is also the name of jobs[{}]", job.name, index[job.name]));
      }
      if (absl::Status s = job.Validate(); !s.ok()) return r.Error(jobs[i], f, std::string(s.message()));
      out.workflow.jobs.push_back(std::move(job));
      deps.push_back(std::move(d));
    }
    for (std::size_t i = 0; i < deps.size(); ++i) {
      for (std::size_t k = 0; k < deps[i].parents.size(); ++k) {
        const auto& [parent, kind] = deps[i].parents[k];
        if (!index.count(parent)) {
          return r.Error(deps[i].at[k], fmt::format("jobs[{}] ({})", i, out.workflow.jobs[i].name),
                         fmt::format("depends on \"{}\": no job of that name", parent));
        }
        out.workflow.edges.push_back({.parent = parent, .child = out.workflow.jobs[i].name, .kind = kind});
      }
    }
  }

  if (const YAML::Node sch = root["schedules"]) {
    if (!sch.IsSequence()) return r.Error(sch, "schedules", "expected a list, got " + Reader::Got(sch));
    std::set<std::string> names;
    for (std::size_t i = 0; i < sch.size(); ++i) {
      const std::string f = fmt::format("schedules[{}]", i);
      const YAML::Node n = sch[i];
      if (absl::Status s = r.CheckKeys(n, f, {"name", "cron", "in", "time_zone", "runs", "job", "concurrency"});
          !s.ok()) {
        return s;
      }
      JobsFile::ScheduleEntry e;
      if (!n["name"]) return r.Error(n, f + ".name", "missing");
      JF_ASSIGN(e.spec.name, r.String(n["name"], f + ".name"));
      if (!names.insert(e.spec.name).second) return r.Error(n["name"], f + ".name", "given to two schedules");
      if (n["cron"] && n["in"]) return r.Error(n, f, "give `cron` or `in`, not both");
      if (n["cron"]) JF_ASSIGN(e.spec.cron, r.String(n["cron"], f + ".cron"));
      else if (n["in"]) JF_ASSIGN(e.delay, r.DurationOf(n["in"], f + ".in"));
      else return r.Error(n, f, "needs `cron` (repeating) or `in` (once, after the run starts)");
      if (n["time_zone"]) JF_ASSIGN(e.spec.time_zone, r.String(n["time_zone"], f + ".time_zone"));
      if (n["runs"]) {
        std::int64_t runs;
        JF_ASSIGN(runs, r.Integer(n["runs"], f + ".runs", 1, 1000));
        e.runs = static_cast<int>(runs);
      }
      if (e.delay >= 0 && e.runs != 1) return r.Error(n["runs"], f + ".runs", "a one-off (`in`) runs once");
      if (n["concurrency"]) {
        std::string c;
        JF_ASSIGN(c, r.String(n["concurrency"], f + ".concurrency"));
        const std::optional<ConcurrencyPolicy> policy = ConcurrencyPolicyFromName(c);
        if (!policy) return r.Error(n["concurrency"], f + ".concurrency", "expected allow, forbid or replace");
        e.spec.concurrency = *policy;
      }
      if (!n["job"]) return r.Error(n, f + ".job", "missing");
      JobSpec job = defaults;
      job.name = e.spec.name;
      JobDeps none;
      if (absl::Status s = ReadJob(r, catalog, n["job"], f + ".job", job, &none); !s.ok()) return s;
      if (!none.parents.empty()) return r.Error(n["job"], f + ".job", "scheduled jobs take no dependencies");
      if (job.command.argv.empty()) return r.Error(n["job"], f + ".job.command", "missing");
      if (absl::Status s = job.Validate(); !s.ok()) return r.Error(n["job"], f + ".job", std::string(s.message()));
      e.spec.job = std::move(job);
      if (e.delay < 0) {
        if (absl::Status s = e.spec.Validate(); !s.ok()) return r.Error(n, f, std::string(s.message()));
      }
      out.schedules.push_back(std::move(e));
    }
  }
  if (!out.workflow.jobs.empty()) {
    if (absl::Status s = out.workflow.Validate(); !s.ok()) return r.Error(root, "", std::string(s.message()));
  }
  return out;
}

absl::StatusOr<JobsFile> LoadJobsFile(const ResourceCatalog& catalog, const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(fmt::format("{}: cannot read the jobs file: {}", path, std::strerror(errno)));
  std::stringstream ss;
  ss << in.rdbuf();
  std::error_code ec;
  std::filesystem::path abs = std::filesystem::absolute(path, ec);
  return ParseJobsFile(catalog, ss.str(), path, abs.parent_path().lexically_normal().string());
}

}  // namespace mlsched
