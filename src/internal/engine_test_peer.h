// EngineTestPeer: tests reach an Engine's implementation (EngineImpl) to
// set its test-only switches. Nothing outside tests includes this header.
#ifndef MLSCHED_SRC_INTERNAL_ENGINE_TEST_PEER_H_
#define MLSCHED_SRC_INTERNAL_ENGINE_TEST_PEER_H_

#include "internal/engine_impl.h"
#include "mlsched/engine.h"

namespace mlsched::internal {

class EngineTestPeer {
 public:
  static EngineImpl& Impl(Engine& engine) { return *engine.impl_; }
};

}  // namespace mlsched::internal

#endif  // MLSCHED_SRC_INTERNAL_ENGINE_TEST_PEER_H_
