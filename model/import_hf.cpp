// import_hf.cpp: see import_hf.h.
#include "model/import_hf.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <sstream>

#include "model/model_file.h"
#include "model/safetensors.h"

namespace sf::model {

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr uintmax_t kMaxTextFile = 64u << 20;  // config/tokenizer JSON, vocab.txt

std::string read_text(const fs::path& p) {
  std::error_code ec;
  const uintmax_t size = fs::file_size(p, ec);
  if (ec) throw ModelError(p.string() + ": cannot read: " + ec.message());
  if (size > kMaxTextFile)
    throw ModelError(p.string() + ": " + std::to_string(size) + " bytes is too large");
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  if (!in) throw ModelError(p.string() + ": cannot read");
  return ss.str();
}

json read_json(const fs::path& p) {
  json j;
  try {
    j = json::parse(read_text(p));
  } catch (const json::exception& e) {
    throw ModelError(p.string() + ": not valid JSON: " + e.what());
  }
  if (!j.is_object()) throw ModelError(p.string() + ": not a JSON object");
  return j;
}

int get_int(const json& j, const fs::path& p, const char* key) {
  auto it = j.find(key);
  if (it == j.end()) throw ModelError(p.string() + ": missing \"" + key + "\"");
  if (!it->is_number_integer() || it->get<int64_t>() < std::numeric_limits<int>::min() ||
      it->get<int64_t>() > std::numeric_limits<int>::max()) {
    throw ModelError(p.string() + ": \"" + key + "\" is not an integer");
  }
  return it->get<int>();
}

std::string get_string(const json& j, const fs::path& p, const char* key) {
  auto it = j.find(key);
  if (it == j.end()) throw ModelError(p.string() + ": missing \"" + key + "\"");
  if (!it->is_string()) throw ModelError(p.string() + ": \"" + key + "\" is not a string");
  return it->get<std::string>();
}

std::vector<std::string> read_vocab(const fs::path& p) {
  const std::string text = read_text(p);
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    size_t end = nl == std::string::npos ? text.size() : nl;
    std::string line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    out.push_back(std::move(line));
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  return out;
}

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

// `s` with invalid UTF-8 replaced by U+FFFD (metadata is JSON text).
std::string valid_utf8(const std::string& s) {
  return json::parse(json(s).dump(-1, ' ', false, json::error_handler_t::replace))
      .get<std::string>();
}

// Standard normal from a portable generator (std::normal_distribution's
// output differs between standard libraries).
float normal(std::mt19937_64& rng) {
  constexpr double kTwoPi = 6.283185307179586;
  double u1 = static_cast<double>((rng() >> 11) + 1) * 0x1.0p-53;  // (0, 1]
  double u2 = static_cast<double>(rng() >> 11) * 0x1.0p-53;        // [0, 1)
  return static_cast<float>(std::sqrt(-2.0 * std::log(u1)) * std::cos(kTwoPi * u2));
}

}  // namespace

Model import_hf(const std::string& dir_text, const ImportOptions& o, ImportReport* report) {
  ImportReport local;
  ImportReport& rep = report != nullptr ? *report : local;
  rep = ImportReport{};
  const fs::path dir(dir_text);
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw ModelError(dir_text + ": not a directory (expected a Hugging Face checkpoint)");

  // config.json
  const fs::path cfg_path = dir / "config.json";
  if (!fs::exists(cfg_path, ec)) throw ModelError(cfg_path.string() + ": missing");
  const json cfg = read_json(cfg_path);
  const std::string model_type = get_string(cfg, cfg_path, "model_type");
  if (model_type != "bert") {
    throw ModelError(cfg_path.string() + ": model_type \"" + model_type +
                     "\" is not supported (only \"bert\")");
  }
  const std::string act = get_string(cfg, cfg_path, "hidden_act");
  if (act != "gelu") {
    throw ModelError(cfg_path.string() + ": hidden_act \"" + act +
                     "\" is not supported (only \"gelu\", the exact erf form)");
  }
  if (auto it = cfg.find("position_embedding_type");
      it != cfg.end() && !(it->is_string() && it->get<std::string>() == "absolute")) {
    throw ModelError(cfg_path.string() +
                     ": position_embedding_type is not \"absolute\" (not supported)");
  }
  Model m;
  Config& c = m.config;
  c.hidden = get_int(cfg, cfg_path, "hidden_size");
  c.layers = get_int(cfg, cfg_path, "num_hidden_layers");
  c.heads = get_int(cfg, cfg_path, "num_attention_heads");
  c.intermediate = get_int(cfg, cfg_path, "intermediate_size");
  c.max_positions = get_int(cfg, cfg_path, "max_position_embeddings");
  c.vocab_size = get_int(cfg, cfg_path, "vocab_size");
  c.type_vocab_size = get_int(cfg, cfg_path, "type_vocab_size");
  {
    auto it = cfg.find("layer_norm_eps");
    if (it == cfg.end() || !it->is_number())
      throw ModelError(cfg_path.string() + ": \"layer_norm_eps\" is missing or not a number");
    c.layer_norm_eps = static_cast<float>(it->get<double>());
  }
  c.activation = "gelu";
  c.pooling = o.pooling;
  c.num_labels = o.num_labels;
  c.spam_label = 1;
  c.temperature = 1.0f;
  c.max_tokens = o.max_tokens;
  c.tail_tokens = o.tail_tokens;
  c.quantization = "none";
  // Tokenizer settings.
  c.lowercase = true;
  c.strip_accents = true;
  bool strip_given = false;
  const fs::path tok_path = dir / "tokenizer_config.json";
  if (fs::exists(tok_path, ec)) {
    const json tok = read_json(tok_path);
    if (auto it = tok.find("do_lower_case"); it != tok.end()) {
      if (!it->is_boolean())
        throw ModelError(tok_path.string() + ": \"do_lower_case\" is not a boolean");
      c.lowercase = it->get<bool>();
    }
    if (auto it = tok.find("strip_accents"); it != tok.end() && !it->is_null()) {
      if (!it->is_boolean())
        throw ModelError(tok_path.string() + ": \"strip_accents\" is not a boolean or null");
      c.strip_accents = it->get<bool>();
      strip_given = true;
    }
  } else {
    rep.notes.push_back("no tokenizer_config.json: assuming do_lower_case = true");
  }
  // BERT's rule: strip_accents unset follows lowercasing.
  if (!strip_given) c.strip_accents = c.lowercase;

  try {
    check_config(c);
  } catch (const ModelError& e) {
    throw ModelError(dir_text + ": " + e.what());
  }
  if (o.head_init != "zero" && o.head_init != "normal") {
    throw ModelError("import option head_init \"" + o.head_init +
                     "\" is not \"zero\" or \"normal\"");
  }

  // vocab.txt
  const fs::path vocab_path = dir / "vocab.txt";
  if (!fs::exists(vocab_path, ec)) throw ModelError(vocab_path.string() + ": missing");
  m.vocab = read_vocab(vocab_path);
  if (static_cast<int64_t>(m.vocab.size()) != c.vocab_size) {
    throw ModelError(vocab_path.string() + ": " + std::to_string(m.vocab.size()) +
                     " tokens, but config.json says vocab_size " + std::to_string(c.vocab_size));
  }

  // Weights.
  const fs::path st_path = dir / "model.safetensors";
  if (!fs::exists(st_path, ec)) {
    if (fs::exists(dir / "model.safetensors.index.json", ec)) {
      throw ModelError(dir_text +
                       ": sharded checkpoints (model.safetensors.index.json) are not supported");
    }
    if (fs::exists(dir / "pytorch_model.bin", ec)) {
      throw ModelError(dir_text +
                       ": only pytorch_model.bin found; PyTorch pickles are not supported "
                       "(loading one can run arbitrary code). Convert it to model.safetensors "
                       "first, e.g. with Python: safetensors.torch.save_file(torch.load("
                       "'pytorch_model.bin', weights_only=True), 'model.safetensors')");
    }
    throw ModelError(st_path.string() + ": missing");
  }
  try {
    st::File file(st_path.string());
    // Canonical name (no "bert." prefix) -> tensor.
    std::map<std::string, const st::TensorInfo*> by_name;
    for (const auto& t : file.tensors()) {
      std::string name = t.name.rfind("bert.", 0) == 0 ? t.name.substr(5) : t.name;
      if (!by_name.emplace(name, &t).second) {
        throw ModelError(st_path.string() + ": tensor '" + name +
                         "' appears both with and without the \"bert.\" prefix");
      }
    }
    auto full_name = [&](const std::string& name) { return by_name.at(name)->name; };
    std::set<std::string> used;
    for (const auto& [name, shape] : weight_names(c)) {
      if (name.rfind("classifier.", 0) == 0) continue;
      auto it = by_name.find(name);
      if (it == by_name.end())
        throw ModelError(st_path.string() + ": missing tensor '" + name + "' (or 'bert." + name +
                         "')");
      const st::TensorInfo& t = *it->second;
      if (t.shape != shape) {
        throw ModelError(st_path.string() + ": tensor '" + t.name + "' has shape " +
                         shape_text(t.shape) + ", config.json implies " + shape_text(shape));
      }
      if (!st::is_float_dtype(t.dtype)) {
        throw ModelError(st_path.string() + ": tensor '" + t.name + "' has dtype " +
                         std::string(st::dtype_name(t.dtype)) + "; expected a float type");
      }
      m.tensors.emplace(name, Tensor{shape, st::File::to_f32(t)});
      used.insert(name);
    }

    // The head.
    const int64_t nl = c.num_labels, h = c.hidden;
    auto cw = by_name.find("classifier.weight");
    auto cb = by_name.find("classifier.bias");
    bool have_head = cw != by_name.end() && cb != by_name.end() &&
                     cw->second->shape == std::vector<int64_t>{nl, h} &&
                     cb->second->shape == std::vector<int64_t>{nl} &&
                     st::is_float_dtype(cw->second->dtype) && st::is_float_dtype(cb->second->dtype);
    if (have_head) {
      m.tensors.emplace("classifier.weight", Tensor{{nl, h}, st::File::to_f32(*cw->second)});
      m.tensors.emplace("classifier.bias", Tensor{{nl}, st::File::to_f32(*cb->second)});
      used.insert("classifier.weight");
      used.insert("classifier.bias");
      c.head_state = "trained";
      rep.head_source = "checkpoint";
      // Which logit means spam: config.json's id2label when it names one.
      if (auto it = cfg.find("id2label"); it != cfg.end() && it->is_object()) {
        for (auto l = it->begin(); l != it->end(); ++l) {
          if (!l.value().is_string()) continue;
          std::string label = l.value().get<std::string>();
          for (auto& ch : label)
            ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
          int index = -1;
          auto r = std::from_chars(l.key().data(), l.key().data() + l.key().size(), index);
          if (label == "spam" && r.ec == std::errc() && index >= 0 && index < c.num_labels) {
            c.spam_label = index;
            rep.notes.push_back("spam label " + l.key() + " taken from config.json id2label");
          }
        }
      }
    } else {
      if (cw != by_name.end() || cb != by_name.end()) {
        rep.notes.push_back(
            "checkpoint classifier does not match num_labels = " + std::to_string(nl) +
            " and hidden = " + std::to_string(h) + " (or is incomplete); a fresh head is used");
      }
      Tensor w{{nl, h}, std::vector<float>(static_cast<size_t>(nl * h), 0.0f)};
      Tensor b{{nl}, std::vector<float>(static_cast<size_t>(nl), 0.0f)};
      if (o.head_init == "normal") {
        std::mt19937_64 rng(o.head_seed);
        for (auto& v : w.data) v = 0.02f * normal(rng);
      }
      m.tensors.emplace("classifier.weight", std::move(w));
      m.tensors.emplace("classifier.bias", std::move(b));
      c.head_state = "untrained";
      rep.head_source = o.head_init;
    }

    for (const auto& [name, t] : by_name) {
      if (used.count(name)) continue;
      // Encoder or embedding weights the config does not account for mean the
      // config and the weights disagree (say, more layers than
      // num_hidden_layers): refuse rather than silently drop them.
      if ((name.rfind("encoder.", 0) == 0 || name.rfind("embeddings.", 0) == 0) &&
          name != "embeddings.position_ids") {
        throw ModelError(st_path.string() + ": tensor '" + t->name +
                         "' is not part of the architecture config.json describes");
      }
      rep.ignored_tensors.push_back(full_name(name));
    }
  } catch (const st::FormatError& e) {
    throw ModelError(e.what());
  } catch (const st::IoError& e) {
    throw ModelError(e.what());
  }

  try {
    check_model(m);
  } catch (const ModelError& e) {
    throw ModelError(dir_text + ": " + e.what());
  }

  // Provenance.
  std::string base;
  if (auto it = cfg.find("_name_or_path"); it != cfg.end() && it->is_string())
    base = it->get<std::string>();
  if (base.empty()) {
    fs::path abs = fs::weakly_canonical(fs::absolute(dir), ec);
    base = (ec ? dir : abs).filename().string();
    if (base.empty()) base = dir.parent_path().filename().string();
  }
  std::ostringstream cmd;
  cmd << "import_hf " << dir_text << " --max-tokens " << o.max_tokens << " --tail-tokens "
      << o.tail_tokens << " --pooling " << o.pooling << " --num-labels " << o.num_labels
      << " --head-init " << o.head_init << " --head-seed " << o.head_seed;
  m.metadata = config_metadata(c);
  m.metadata["format"] = "spamformer-model";
  m.metadata["format.version"] = "1";
  m.metadata["provenance.base_model"] = valid_utf8(base);
  m.metadata["provenance.command"] = valid_utf8(cmd.str());
  m.metadata["provenance.data"] = "[]";
  m.metadata["provenance.metrics"] = "{}";
  json ignored = rep.ignored_tensors;
  m.metadata["provenance.import_ignored_tensors"] = ignored.dump();
  return m;
}

}  // namespace sf::model
