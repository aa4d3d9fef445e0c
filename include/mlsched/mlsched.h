// Everything a host needs, in one include.
#ifndef MLSCHED_MLSCHED_H_
#define MLSCHED_MLSCHED_H_

#include "mlsched/clock.h"
#include "mlsched/cron.h"
#include "mlsched/decision.h"
#include "mlsched/engine.h"
#include "mlsched/executor.h"
#include "mlsched/gpu.h"
#include "mlsched/ids.h"
#include "mlsched/job_spec.h"
#include "mlsched/job_state.h"
#include "mlsched/node.h"
#include "mlsched/policy/backfill.h"
#include "mlsched/policy/config.h"
#include "mlsched/policy/fair_share.h"
#include "mlsched/policy/ordering.h"
#include "mlsched/policy/placement.h"
#include "mlsched/policy/policy_set.h"
#include "mlsched/policy/preemption.h"
#include "mlsched/resources.h"
#include "mlsched/retry.h"
#include "mlsched/schedule.h"
#include "mlsched/status_macros.h"
#include "mlsched/store.h"
#include "mlsched/tenant.h"
#include "mlsched/time.h"
#include "mlsched/workflow.h"

#endif  // MLSCHED_MLSCHED_H_
