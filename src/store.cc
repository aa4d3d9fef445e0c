#include "mlsched/store.h"

namespace mlsched {

std::string_view RecordKindName(RecordKind k) {
  switch (k) {
    case RecordKind::kNodeAdded: return "node-added";
    case RecordKind::kNodeRemoved: return "node-removed";
    case RecordKind::kNodeState: return "node-state";
    case RecordKind::kGpuHealth: return "gpu-health";
    case RecordKind::kJobSubmitted: return "job-submitted";
    case RecordKind::kJobTransition: return "job-transition";
    case RecordKind::kAttemptStarted: return "attempt-started";
    case RecordKind::kTaskStarted: return "task-started";
    case RecordKind::kTaskExited: return "task-exited";
    case RecordKind::kCheckpoint: return "checkpoint";
    case RecordKind::kTenantsConfigured: return "tenants-configured";
    case RecordKind::kCheckpointCorrupt: return "checkpoint-corrupt";
  }
  return "?";
}

absl::Status MemoryStore::Append(const JournalRecord& record) {
  StoredRecord& stored = records_.emplace_back();
  stored.record = record;
  stored.record.spec = nullptr;
  stored.record.node_spec = nullptr;
  stored.record.placements = {};
  stored.record.checkpoint_uri = {};
  stored.record.tenants = {};
  stored.checkpoint_uri = std::string(record.checkpoint_uri);
  stored.tenants.assign(record.tenants.begin(), record.tenants.end());
  if (record.spec != nullptr) stored.spec = *record.spec;
  if (record.node_spec != nullptr) stored.node_spec = *record.node_spec;
  stored.placements.assign(record.placements.begin(), record.placements.end());
  return absl::OkStatus();
}

}  // namespace mlsched
