#!/usr/bin/env python3
"""torch_reference.py: the same encoder and the same token ids through PyTorch, on the same GPU.

What it does: reads what `spamformer bench --export DIR` wrote (DIR/model.safetensors: the
random MiniLM-shaped encoder the bench timed; DIR/tokens_<len>.bin: int32 [1024, len] token
ids, the first batch the bench timed at each length; DIR/ours.json: the bench's figures),
builds transformers' BertModel with those weights (mean pooling + the classification head on
top, as the Spamformer backends do; every sequence is full length, so no padding mask), and
times it in bf16, eagerly and through torch.compile, with CUDA events: the median of the
timed calls after warm-up. First it checks that it runs the same model: its fp32 logits of
the first 64 sequences of tokens_128 against the logits each of our backends wrote
(DIR/logits_<backend>_128.bin). Last it prints one table: PyTorch eager and compiled
messages/s, ours, and the ratios, shape by shape, and batch-1 latency.

Usage: python3 bench/torch_reference.py --dir DIR [--shapes 128x1024,256x1024,512x256]
       [--mode default] [--budget 240]
--mode is torch.compile's mode for the throughput shapes ("max-autotune" is what the
issue's reference used; it compiles for minutes per shape); batch 1 always compiles with
"reduce-overhead" (CUDA graphs). --budget (seconds) stops compiling further shapes once
spent; shapes not compiled say so.
Failure: exits 1 with a message when the directory lacks a file or no GPU is visible.
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import load_file


def load_model(directory):
    path = os.path.join(directory, "model.safetensors")
    with safe_open(path, framework="pt") as f:
        meta = f.metadata()
    tensors = load_file(path)
    from transformers import BertConfig, BertModel

    config = BertConfig(
        vocab_size=int(meta["arch.vocab_size"]),
        hidden_size=int(meta["arch.hidden"]),
        num_hidden_layers=int(meta["arch.layers"]),
        num_attention_heads=int(meta["arch.heads"]),
        intermediate_size=int(meta["arch.intermediate"]),
        max_position_embeddings=int(meta["arch.max_positions"]),
        type_vocab_size=int(meta["arch.type_vocab_size"]),
        layer_norm_eps=float(meta["arch.layer_norm_eps"]),
        hidden_act="gelu",
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
    )
    try:
        config._attn_implementation = "sdpa"
    except Exception:  # noqa: BLE001 - older or newer config classes
        pass
    bert = BertModel(config, add_pooling_layer=False)
    state = {k: v for k, v in tensors.items() if not k.startswith(("classifier.", "tokenizer."))}
    missing, unexpected = bert.load_state_dict(state, strict=False)
    missing = [k for k in missing if not k.endswith(("position_ids", "token_type_ids"))]
    if missing or unexpected:
        sys.exit(f"torch_reference: weights do not match BertModel: missing {missing}, "
                 f"unexpected {unexpected}")
    return bert.eval(), tensors["classifier.weight"], tensors["classifier.bias"], meta


class Classifier(torch.nn.Module):
    """Encoder, mean pooling over all tokens, linear head: what our backends compute."""

    def __init__(self, bert, weight, bias):
        super().__init__()
        self.bert = bert
        self.head = torch.nn.Linear(weight.shape[1], weight.shape[0])
        with torch.no_grad():
            self.head.weight.copy_(weight)
            self.head.bias.copy_(bias)

    def forward(self, ids):
        hidden = self.bert(input_ids=ids).last_hidden_state
        return self.head(hidden.mean(dim=1))


def tokens(directory, length):
    path = os.path.join(directory, f"tokens_{length}.bin")
    data = np.fromfile(path, dtype="<i4")
    return torch.from_numpy(data.reshape(-1, length).astype(np.int64))


def time_calls(fn, ids, seconds=1.0, min_calls=5, max_calls=2000):
    """Median ms of one call (CUDA events around each), after warm-up."""
    with torch.inference_mode():
        for _ in range(3):
            fn(ids)
        torch.cuda.synchronize()
        times = []
        start = time.perf_counter()
        while len(times) < max_calls:
            a = torch.cuda.Event(enable_timing=True)
            b = torch.cuda.Event(enable_timing=True)
            a.record()
            fn(ids)
            b.record()
            b.synchronize()
            times.append(a.elapsed_time(b))
            if len(times) >= min_calls and time.perf_counter() - start > seconds:
                break
    times.sort()
    return times[len(times) // 2], times[min(len(times) - 1, len(times) * 99 // 100)]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dir", required=True)
    ap.add_argument("--shapes", default="128x1024,256x1024,512x256")
    ap.add_argument("--mode", default="default")
    ap.add_argument("--budget", type=float, default=240.0)
    ap.add_argument("--device", default="cuda")
    args = ap.parse_args()
    if args.device == "cuda" and not torch.cuda.is_available():
        sys.exit("torch_reference: no CUDA GPU visible")
    dev = torch.device(args.device)
    t_begin = time.perf_counter()
    bert, weight, bias, _ = load_model(args.dir)
    model = Classifier(bert, weight, bias).to(dev)
    name = torch.cuda.get_device_name(dev) if dev.type == "cuda" else "cpu"
    print(f"torch_reference: torch {torch.__version__} on {name}")

    # Same model? fp32 logits against ours.
    ids128 = tokens(args.dir, 128)[:64].to(dev)
    with torch.inference_mode():
        ref = model(ids128).float().cpu().numpy()
    for f in sorted(os.listdir(args.dir)):
        if f.startswith("logits_") and f.endswith("_128.bin"):
            ours = np.fromfile(os.path.join(args.dir, f), dtype="<f4").reshape(ref.shape)
            print(f"check: |logits(torch fp32) - logits({f[7:-8]})| max {np.abs(ours - ref).max():.5f} "
                  f"(logits up to {np.abs(ref).max():.3f})")
    if dev.type != "cuda":
        return

    model_bf16 = Classifier(bert, weight, bias).to(dev).to(torch.bfloat16).eval()
    ours = {}
    ours_path = os.path.join(args.dir, "ours.json")
    device_ours = "?"
    if os.path.exists(ours_path):
        with open(ours_path) as f:
            report = json.load(f)
        device_ours = report.get("device", "?")
        for r in report.get("rows", []):
            ours[(r["backend"], r["tokens"], r["batch"])] = r["msgs_per_s"]
        for r in report.get("latency", []):
            ours[(r["backend"], r["tokens"], "p50")] = r["p50_ms"]

    shapes = [tuple(int(v) for v in s.split("x")) for s in args.shapes.split(",")]
    results = []
    for length, batch in shapes:
        ids = tokens(args.dir, length)
        ids = ids.repeat((batch + len(ids) - 1) // len(ids), 1)[:batch].to(dev)
        eager_ms, _ = time_calls(model_bf16, ids)
        print(f"{length}x{batch}: eager {batch / eager_ms * 1e3:.0f} msgs/s; compiling ({args.mode})")
        sys.stdout.flush()
        compiled_ms = None
        if time.perf_counter() - t_begin < args.budget:
            torch._dynamo.reset()
            compiled = torch.compile(model_bf16, mode=args.mode, dynamic=False)
            t0 = time.perf_counter()
            with torch.inference_mode():
                compiled(ids)
            compile_s = time.perf_counter() - t0
            compiled_ms, _ = time_calls(compiled, ids)
            print(f"compiled {length}x{batch} in {compile_s:.0f} s")
        results.append((length, batch, eager_ms, compiled_ms))
        if compiled_ms:
            print(f"{length}x{batch}: compiled {batch / compiled_ms * 1e3:.0f} msgs/s")
        sys.stdout.flush()

    # Batch-1 latency at 128 tokens: eager, and compiled with CUDA graphs.
    ids1 = tokens(args.dir, 128)[:1].to(dev)
    lat_eager = time_calls(model_bf16, ids1, seconds=1.0)
    lat_compiled = None
    if time.perf_counter() - t_begin < args.budget:
        torch._dynamo.reset()
        compiled1 = torch.compile(model_bf16, mode="reduce-overhead", dynamic=False)
        with torch.inference_mode():
            for _ in range(3):
                compiled1(ids1)
        lat_compiled = time_calls(compiled1, ids1, seconds=1.0)

    print(f"\nsame run: torch on {name} (compile mode {args.mode}); ours (spamformer bench) "
          f"on {device_ours}")
    print(f"{'shape':>9} {'torch eager':>12} {'torch comp.':>12} {'ours int8':>10} {'ours fp32':>10}"
          f" {'int8/eager':>10} {'int8/comp.':>10}")
    for length, batch, eager_ms, compiled_ms in results:
        e = batch / eager_ms * 1e3
        c = batch / compiled_ms * 1e3 if compiled_ms else float("nan")
        o8 = ours.get(("cuda-int8", length, batch), float("nan"))
        o32 = ours.get(("cuda-fp32", length, batch), float("nan"))
        print(f"{length:>4}x{batch:<4} {e:>12.0f} {c:>12.0f} {o8:>10.0f} {o32:>10.0f}"
              f" {o8 / e:>10.2f} {o8 / c:>10.2f}")
    o1 = ours.get(("cuda-int8", 128, "p50"), float("nan"))
    lc = f"{lat_compiled[0]:.3f}" if lat_compiled else "not compiled (budget)"
    print(f"batch-1 latency at 128 tokens (ms, p50): torch eager {lat_eager[0]:.3f}, "
          f"torch compiled+graphs {lc}, ours int8 {o1:.3f}")


if __name__ == "__main__":
    main()
