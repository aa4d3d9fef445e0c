#include "mlsched/gpu.h"

#include "fmt/format.h"

namespace mlsched {

std::string FormatGpuSet(GpuSet set) {
  std::string out;
  for (int gpu : set) {
    if (!out.empty()) out += ',';
    out += fmt::format("{}", gpu);
  }
  return out;
}

}  // namespace mlsched
