// scorer.h: one loaded model ready to score mail in this process: config,
// model file, backend and extraction/tokenization pipeline together.
//
// Used by the batch commands (classify, eval) today and by the daemon's
// scheduler later. Promises: score() returns one calibrated probability per
// prepared message, in order. Failure: open_scorer throws ModelError /
// ConfigError / BackendError with a message an operator can act on (e.g. the
// model file is missing and how to make one).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "model/backend.h"
#include "model/model.h"
#include "model/pipeline.h"
#include "service/config.h"

namespace sf::service {

struct ScorerOptions {
  std::string config_path;  // empty: resolve_config's search
  std::string model_path;   // empty: config, else default_model_path()
  std::string backend = "auto";
  int threads = -1;         // -1: config's cpu_threads
};

struct Scorer {
  Config config;
  std::string model_path;
  model::Model model;
  std::unique_ptr<model::Backend> backend;
  std::unique_ptr<model::Pipeline> pipeline;

  // Probabilities for messages already prepared, batched by config.batch_size.
  std::vector<float> score(const std::vector<const model::Prepared*>& items);
  bool head_trained() const { return model.config.head_state == "trained"; }
  // The line the commands print when the head is not trained.
  std::string head_warning() const;
};

std::unique_ptr<Scorer> open_scorer(const ScorerOptions& o);

}  // namespace sf::service
