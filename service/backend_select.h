// backend_select.h: picks the inference backend for this process.
//
// "auto" uses the CUDA backend when this build has it and a GPU is visible,
// else the CPU reference; "cpu", "cuda" (fp32) and "cuda-int8" force one.
// "auto" does not pick INT8 yet: its probabilities are not yet within 0.01 of
// the fp32 reference on enough messages (docs/gpu.md). Asking for "cuda" where
// it cannot run is the operator's error (BackendError with the reason).
#pragma once

#include <memory>
#include <string>

#include "model/backend.h"

namespace sf::service {

std::unique_ptr<model::Backend> make_backend(const std::string& kind, int cpu_threads);
// True when this binary was built with the CUDA backend.
bool cuda_built();

}  // namespace sf::service
