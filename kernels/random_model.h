// random_model.h: a randomly initialised encoder of any shape, for benchmarks and
// tests of the backends (never for scoring mail).
//
// What it does: fills every tensor of weight_names(config) from a fixed seed with
// values that keep activations O(1) through the layers: linear weights uniform
// with variance 1 / fan_in, biases within +-0.1, LayerNorm gains 1 +- 0.2,
// embeddings within +-0.5. Vocabulary entries are placeholders "tok<i>".
// Promises: the same config and seed give the same model on every platform (own
// generator arithmetic, no std:: distributions).
// Failure: none beyond std::bad_alloc.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>

#include "model/model.h"

namespace sf::cuda {

inline sf::model::Model random_model(const sf::model::Config& config, uint64_t seed) {
  sf::model::Model m;
  m.config = config;
  m.vocab.reserve(static_cast<size_t>(config.vocab_size));
  for (int i = 0; i < config.vocab_size; ++i) m.vocab.push_back("tok" + std::to_string(i));
  uint64_t state = seed ^ 0x9e3779b97f4a7c15ull;
  auto uniform = [&state](float a) {  // splitmix64 -> uniform in [-a, a)
    state += 0x9e3779b97f4a7c15ull;
    uint64_t z = state;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    const float u = static_cast<float>(z >> 40) * (1.0f / 16777216.0f);  // [0, 1)
    return a * (2.0f * u - 1.0f);
  };
  auto ends_with = [](const std::string& s, const std::string& suffix) {
    return s.size() >= suffix.size() &&
           s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  for (const auto& [name, shape] : sf::model::weight_names(config)) {
    sf::model::Tensor t;
    t.shape = shape;
    t.data.resize(static_cast<size_t>(t.numel()));
    const bool embedding =
        name.rfind("embeddings.", 0) == 0 && ends_with(name, "embeddings.weight");
    if (ends_with(name, "LayerNorm.weight")) {
      for (float& v : t.data) v = 1.0f + uniform(0.2f);
    } else if (ends_with(name, "bias")) {
      for (float& v : t.data) v = uniform(0.1f);
    } else if (embedding) {
      for (float& v : t.data) v = uniform(0.5f);
    } else {  // [out, in] linear weight: variance 1 / in
      const float a = std::sqrt(3.0f / static_cast<float>(shape.back()));
      for (float& v : t.data) v = uniform(a);
    }
    m.tensors.emplace(name, std::move(t));
  }
  return m;
}

}  // namespace sf::cuda
