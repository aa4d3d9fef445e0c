// Workflows: a set of jobs with dependency edges, submitted atomically.
//
// Jobs are named within the workflow; edges name a parent and a child and
// take the kinds of job_spec.h's Dependency (after success, after any end,
// after failure). A child waits (WaitingDeps) until every edge into it is met
// and is released when its last parent ends. When an edge can no longer be
// met (its parent failed for an after-success edge, or succeeded for an
// after-failure edge), the child becomes UpstreamFailed — or Cancelled, with
// `on_upstream_failure = kCancel` — and so, in turn, do its own dependents
// that needed it.
//
// Jobs of a workflow may also depend on existing jobs through their specs'
// `dependencies`. Submission checks the whole workflow first (every spec, the
// edges, and that the edges form no cycle — the error names one) and then
// adds every job or none.
//
//   WorkflowSpec wf{.name = "nightly",
//                   .jobs = {prep, train, eval},
//                   .edges = {{"prep", "train"}, {"train", "eval"}}};
//   WorkflowSubmission sub = engine->SubmitWorkflow(wf).value();  // sub.jobs[i] is wf.jobs[i]
//   WorkflowStatus st = engine->GetWorkflow(sub.id).value();
//
// Thread-safety: plain values.
#ifndef MLSCHED_WORKFLOW_H_
#define MLSCHED_WORKFLOW_H_

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "mlsched/ids.h"
#include "mlsched/job_spec.h"
#include "mlsched/job_state.h"
#include "mlsched/time.h"

namespace mlsched {

enum class UpstreamFailure : std::uint8_t {
  kMarkUpstreamFailed,  // dependents that can no longer run end UpstreamFailed
  kCancel,              // they end Cancelled
};

struct WorkflowEdge {
  std::string parent;  // job names within the workflow
  std::string child;
  DependencyKind kind = DependencyKind::kAfterSuccess;
};

struct WorkflowSpec {
  std::string name;                // required
  std::vector<JobSpec> jobs;       // names unique within the workflow; at most 1,000,000 jobs
  std::vector<WorkflowEdge> edges;
  UpstreamFailure on_upstream_failure = UpstreamFailure::kMarkUpstreamFailed;
  std::string idempotency_key;     // optional; a repeated key returns the first workflow,
                                   // until history retention prunes it

  // Checks names, edges and every job spec; not cycles (the engine does, with
  // the graph). Errors name the workflow and the field:
  // `workflow "nightly": edges[2].parent = "trian": no job of that name`.
  absl::Status Validate() const;
};

struct WorkflowSubmission {
  WorkflowId id;
  std::vector<JobId> jobs;  // jobs[i] was spec.jobs[i]
};

struct WorkflowStatus {
  WorkflowId id;
  std::string name;
  std::vector<JobId> jobs;  // in submission order
  std::array<std::int64_t, kNumJobStates> by_state{};  // indexed by JobState
  bool finished = false;    // every job is in a terminal state
  bool succeeded = false;   // every job succeeded
  // The longest chain of dependent jobs by time spent running so far (ended
  // attempts' run time plus the live attempt's time until now), root first.
  std::vector<JobId> critical_path;
  Duration critical_path_length = 0;
};

}  // namespace mlsched

#endif  // MLSCHED_WORKFLOW_H_
