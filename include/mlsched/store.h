// Store: the durable journal of the engine's transitions.
//
// The Engine appends one JournalRecord per transition, synchronously, before
// the transition becomes visible to the host (write-ahead): a job is in the
// journal before Submit() returns its id; a start is in the journal before
// Tick() returns its decision. A later Store can rebuild the engine from the
// journal (recovery) without any change to the engine.
//
// Hosts implement Store the way leveldb hosts implement Env. Append() may
// block (a durable store waits for its fsync). If it fails the engine refuses
// the call that caused it and, when the failure happens inside Tick(), stops
// accepting changes: every later mutating call returns the same error, because
// memory and journal could otherwise disagree. The host recovers from the store.
//
// Records carry pointers to specs and placements owned by the engine; they are
// valid only during Append(), so a store copies or serializes what it keeps.
//
// MemoryStore keeps an owned copy of each record (tests, the simulator);
// StoreWrapper forwards every call and is the base for fault injection.
//
// Thread-safety: the engine calls Append() from its own thread, one record at
// a time; a store shared with other threads must synchronise itself. The
// engine does not own its store (EngineOptions::store).
//
//   MemoryStore store;
//   auto engine = Engine::Create({.clock = &clock, .store = &store}).value();
//   ...
//   for (const StoredRecord& r : store.records()) Print(RecordKindName(r.record.kind));
#ifndef MLSCHED_STORE_H_
#define MLSCHED_STORE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "mlsched/decision.h"
#include "mlsched/ids.h"
#include "mlsched/job_spec.h"
#include "mlsched/job_state.h"
#include "mlsched/node.h"
#include "mlsched/tenant.h"
#include "mlsched/time.h"

namespace mlsched {

enum class RecordKind : std::uint8_t {
  kNodeAdded,      // node, node_spec
  kNodeRemoved,    // node
  kNodeState,      // node, node_state
  kGpuHealth,      // node, task = GPU index, exit_code = 1 healthy / 0 not
  kJobSubmitted,   // job, spec, to = initial state
  kJobTransition,  // job, from, to, token (of the attempt concerned, if any)
  kAttemptStarted, // job, token, placements
  kTaskStarted,    // job, token, task
  kTaskExited,     // job, token, task, exit_code, signal
  kCheckpoint,     // job, token, checkpoint_step, checkpoint_uri
  kTenantsConfigured,  // tenants
  kCheckpointCorrupt,  // job, checkpoint_step
};
std::string_view RecordKindName(RecordKind k);

struct JournalRecord {
  RecordKind kind = RecordKind::kJobTransition;
  Timestamp time = 0;
  JobId job;
  NodeId node;
  JobState from = JobState::kQueued;
  JobState to = JobState::kQueued;
  NodeState node_state = NodeState::kUp;
  FencingToken token;
  std::int32_t task = -1;
  std::int32_t exit_code = 0;
  std::int32_t signal = 0;
  const JobSpec* spec = nullptr;
  const NodeSpec* node_spec = nullptr;
  std::span<const TaskPlacement> placements;
  std::int64_t checkpoint_step = 0;
  std::string_view checkpoint_uri;
  std::span<const TenantSpec> tenants;
};

class Store {
 public:
  virtual ~Store() = default;
  virtual std::string_view name() const = 0;
  // Appends one record durably (as durable as the store is). Must not call
  // back into the engine.
  virtual absl::Status Append(const JournalRecord& record) = 0;
};

// A record with its pointed-to data copied. The pointer and span fields of
// `record` are cleared; the copies are in the fields below.
struct StoredRecord {
  JournalRecord record;
  std::optional<JobSpec> spec;
  std::optional<NodeSpec> node_spec;
  std::vector<TaskPlacement> placements;
  std::string checkpoint_uri;
  std::vector<TenantSpec> tenants;
};

class MemoryStore final : public Store {
 public:
  std::string_view name() const override { return "memory"; }
  absl::Status Append(const JournalRecord& record) override;
  // Records in append order.
  std::span<const StoredRecord> records() const { return records_; }
  std::size_t size() const { return records_.size(); }

 private:
  std::vector<StoredRecord> records_;
};

// Forwards every call to `target`; override Append to inject faults.
class StoreWrapper : public Store {
 public:
  explicit StoreWrapper(Store* target) : target_(target) {}
  std::string_view name() const override { return target_->name(); }
  absl::Status Append(const JournalRecord& record) override { return target_->Append(record); }
  Store* target() const { return target_; }

 private:
  Store* target_;
};

}  // namespace mlsched

#endif  // MLSCHED_STORE_H_
