// scorer.cpp: see scorer.h.
#include "service/scorer.h"

#include <filesystem>

#include "service/backend_select.h"

namespace sf::service {

std::unique_ptr<Scorer> open_scorer(const ScorerOptions& o) {
  auto s = std::make_unique<Scorer>();
  s->config = resolve_config(o.config_path);
  s->model_path = !o.model_path.empty()          ? o.model_path
                  : !s->config.model_path.empty() ? s->config.model_path
                                                  : default_model_path();
  std::error_code ec;
  if (!std::filesystem::exists(s->model_path, ec))
    throw model::ModelError(
        "model file '" + s->model_path +
        "' not found. Make one with: scripts/fetch_base_model.sh, then "
        "`spamformer import-hf <dir it printed> --out " +
        s->model_path + "` (README: Quick start), or pass --model FILE");
  s->model = model::load_model(s->model_path);
  int threads = o.threads >= 0 ? o.threads : s->config.cpu_threads;
  s->backend = make_backend(o.backend, threads);
  s->backend->load(s->model);
  s->pipeline = std::make_unique<model::Pipeline>(s->model, s->config.limits);
  return s;
}

std::vector<float> Scorer::score(const std::vector<const model::Prepared*>& items) {
  std::vector<float> probs(items.size());
  const size_t labels = static_cast<size_t>(model.config.num_labels);
  const size_t step = static_cast<size_t>(std::max(1, config.batch_size));
  model::Batch batch;
  std::vector<float> logits;
  for (size_t start = 0; start < items.size(); start += step) {
    size_t end = std::min(items.size(), start + step);
    batch.clear();
    for (size_t i = start; i < end; ++i) batch.add(items[i]->ids);
    logits.assign(batch.size() * labels, 0.0f);
    backend->encode(batch, logits);
    for (size_t i = start; i < end; ++i)
      probs[i] = model::spam_probability(
          model.config, std::span<const float>(logits.data() + (i - start) * labels, labels));
  }
  return probs;
}

std::string Scorer::head_warning() const {
  return "note: the classification head of '" + model_path + "' is " + model.config.head_state +
         " (model file key head.state): its probabilities carry no information about spam "
         "until a trained model is used";
}

}  // namespace sf::service
