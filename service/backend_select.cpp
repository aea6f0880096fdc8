// backend_select.cpp: see backend_select.h.
#include "service/backend_select.h"

#ifdef SF_WITH_CUDA
#include "kernels/cuda_backend.h"
#include "kernels/quant_backend.h"
#endif

namespace sf::service {

bool cuda_built() {
#ifdef SF_WITH_CUDA
  return true;
#else
  return false;
#endif
}

std::unique_ptr<model::Backend> make_backend(const std::string& kind, int cpu_threads) {
  if (kind == "cpu") return model::make_cpu_backend(cpu_threads);
  if (kind != "auto" && kind != "cuda" && kind != "cuda-int8")
    throw model::BackendError("unknown backend '" + kind +
                              "' (expected auto, cpu, cuda or cuda-int8)");
#ifdef SF_WITH_CUDA
  if (kind == "cuda-int8") {
    if (cuda::device_count() == 0)
      throw model::BackendError("backend 'cuda-int8': no CUDA GPU is visible");
    return cuda::make_cuda_quant_backend(0);
  }
  if (cuda::device_count() > 0) return cuda::make_cuda_backend(0);
  if (kind == "cuda") throw model::BackendError("backend 'cuda': no CUDA GPU is visible");
#else
  if (kind != "auto")
    throw model::BackendError("backend '" + kind + "': this build has no CUDA backend");
#endif
  return model::make_cpu_backend(cpu_threads);
}

}  // namespace sf::service
