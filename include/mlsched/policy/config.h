// Policy configuration documents (being written; see src/policy/config.cc).
#ifndef MLSCHED_POLICY_CONFIG_H_
#define MLSCHED_POLICY_CONFIG_H_
#endif  // MLSCHED_POLICY_CONFIG_H_
