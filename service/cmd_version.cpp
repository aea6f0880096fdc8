// cmd_version.cpp: `spamformer version`: what this binary is and can do.
#include <cblas.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "service/backend_select.h"
#include "service/cli.h"
#include "service/commands.h"
#include "spamformer_version.h"

#ifdef SF_WITH_CUDA
#include "kernels/cuda_backend.h"
#endif

namespace sf::cli {
namespace {

const CommandSpec& spec() {
  static const CommandSpec s{"version",
                             "",
                             "Prints the version, the git revision it was built from, and the "
                             "backends this build has.",
                             "",
                             {{"json", "", "print JSON", ""}}};
  return s;
}

}  // namespace

int cmd_version(const std::vector<std::string>& argv) {
  Args a(spec(), argv);
  if (a.help()) {
    std::cout << usage(spec());
    return 0;
  }
  int gpus = 0;
#ifdef SF_WITH_CUDA
  gpus = cuda::device_count();
#endif
  nlohmann::json j{{"version", SPAMFORMER_VERSION},
                   {"git", SPAMFORMER_GIT_REV},
                   {"build", SPAMFORMER_BUILD_TYPE},
                   {"cuda_backend", service::cuda_built()},
                   {"cuda_gpus", gpus},
                   {"blas", openblas_get_config()}};
  if (a.flag("json")) {
    std::cout << j.dump() << "\n";
  } else {
    std::cout << "spamformer " << SPAMFORMER_VERSION << " (git " << SPAMFORMER_GIT_REV << ", "
              << SPAMFORMER_BUILD_TYPE << ")\n"
              << "backends: cpu-fp32 (" << openblas_get_config() << ")"
              << (service::cuda_built() ? ", cuda (" + std::to_string(gpus) + " GPU visible)"
                                        : ", no CUDA in this build")
              << "\n";
  }
  return 0;
}

}  // namespace sf::cli
