// import_hf.h: builds a Spamformer `Model` from a Hugging Face BERT-family
// checkpoint directory (for example all-MiniLM-L6-v2, see
// scripts/fetch_base_model.sh).
//
// What it reads: config.json (model_type "bert", absolute position
// embeddings, hidden_act "gelu" = exact erf GELU; anything else is refused),
// vocab.txt (one token per line, count must equal vocab_size),
// tokenizer_config.json when present (do_lower_case, strip_accents), and
// model.safetensors (tensor names with or without the "bert." prefix; F32,
// F16, BF16 or F64). pooler.* tensors and the embeddings.position_ids buffer
// are ignored and listed in the report, as are other heads' tensors (cls.*).
// Not supported: pytorch_model.bin (a pickle; loading one runs arbitrary
// code). Convert it first, e.g. with the Python `safetensors` package:
// `safetensors.torch.save_file(torch.load("pytorch_model.bin"), "model.safetensors")`.
// Sharded checkpoints (model.safetensors.index.json) are refused too.
// The classification head: classifier.{weight,bias} from the checkpoint when
// both are there with shapes [num_labels, hidden] and [num_labels]
// (head.state "trained"); otherwise a fresh head (head.state "untrained"):
// all zeros by default, so every message gets p = 0.5 exactly (the honest
// answer of a model that knows nothing), or N(0, 0.02) from head_seed with
// head_init "normal".
// Promises: the returned model passed check_model (model_file.h) and carries
// provenance.base_model (the checkpoint's _name_or_path, else the directory
// name) and provenance.command (how it was imported).
// Failure: ModelError naming the file and the problem (missing file, bad
// config value, missing or misshapen tensor): the checkpoint's or the
// operator's fault.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/model.h"

namespace sf::model {

struct ImportOptions {
  int max_tokens = 256;            // tokenizer.max_tokens (<= max_position_embeddings)
  int tail_tokens = 64;            // tokenizer.tail_tokens
  std::string pooling = "mean";    // head.pooling: "mean" or "cls"
  int num_labels = 2;              // head.num_labels
  uint64_t head_seed = 0;          // seed for head_init "normal"
  std::string head_init = "zero";  // "zero" or "normal" (std 0.02) when no head is imported
};

// What the import did besides building the model (for the operator's log).
struct ImportReport {
  std::vector<std::string> ignored_tensors;  // checkpoint names not used
  std::string head_source;                   // "checkpoint", "zero" or "normal"
  std::vector<std::string> notes;            // defaults assumed, heads skipped, ...
};

Model import_hf(const std::string& dir, const ImportOptions& o = {},
                ImportReport* report = nullptr);

}  // namespace sf::model
