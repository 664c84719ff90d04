"""Where a bf16 training step on a CPU goes: fp32 / bf16 autocast, torch's / polyir's dropout.

    PYTHONPATH=src python benchmarks/train_precision.py --model models/me5-small \
        --data data/study/squad-es-it.jsonl --threads 2 --repeats 3

Each variant trains polyir's loop (`polyir.train.train`) in a fresh process for ``--steps``
steps (hybrid batches, batch 32, lengths 32 / 64 by default, the study's settings) and reports
pairs/s of wall time and of process CPU time over the steps after ``--warmup``; variants
alternate, medians over ``--repeats``.  ``--section matmul`` also measures the cores' fp32 and
bf16 matrix-product rates (GFLOP/s), the limit a step can approach.  One JSON document on stdout.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

VARIANTS = {
    "fp32": {"precision": "fp32", "fast_dropout": False},
    "fp32+fast_dropout": {"precision": "fp32", "fast_dropout": True},
    "bf16": {"precision": "bf16", "fast_dropout": False},
    "bf16+fast_dropout": {"precision": "bf16", "fast_dropout": True},
}


def child(args) -> dict:
    from polyir.train import build_config, train

    marks: list[tuple[float, float]] = []
    variant = VARIANTS[args.variant]
    with tempfile.TemporaryDirectory() as tmp:
        config = build_config({
            "model": {"name_or_path": args.model, "prompts": "model", "max_query_length": args.query_length,
                      "max_passage_length": args.passage_length, "freeze_embeddings": args.freeze_embeddings},
            "data": {"sources": [f"pairs={args.data}"]}, "out": f"{tmp}/run",
            "sampler": {"strategy": "hybrid", "batch_size": args.batch_size},
            "optim": {"steps": args.steps, "lr": 5e-5},
            "runtime": {"threads": args.threads, "device": "cpu", **variant},
            "checkpoint": {"every": 0}, "logging": {"every": 10}})
        train(config, progress=False,
              callback=lambda info: marks.append((time.perf_counter(), time.process_time())) and False)
    (w0, c0), (w1, c1) = marks[args.warmup - 1], marks[-1]
    pairs = (len(marks) - args.warmup) * args.batch_size
    return {"pairs_per_second": pairs / (w1 - w0), "pairs_per_cpu_second": pairs / (c1 - c0)}


def matmul(threads: int) -> dict:
    import torch

    torch.set_num_threads(threads)
    out = {}
    for dtype in (torch.float32, torch.bfloat16):
        a, b = torch.randn(2048, 384).to(dtype), torch.randn(384, 1536).to(dtype)
        for _ in range(3):
            a @ b
        start, n = time.perf_counter(), 30
        for _ in range(n):
            a @ b
        out[f"{dtype}".replace("torch.", "") + "_gflops"] = 2 * 2048 * 384 * 1536 * n / (time.perf_counter() - start) / 1e9
    return out


def spawn(args, variant: str) -> dict:
    argv = [sys.executable, __file__, "--child", variant]
    for key in ("model", "data", "steps", "warmup", "batch_size", "threads", "query_length", "passage_length"):
        argv += [f"--{key.replace('_', '-')}", str(getattr(args, key))]
    argv += ["--freeze-embeddings"] if args.freeze_embeddings else []
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    done = subprocess.run(argv, env=env, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"{variant} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", choices=list(VARIANTS))
    parser.add_argument("--model", default="models/me5-small")
    parser.add_argument("--data", default="data/study/squad-es-it.jsonl")
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--steps", type=int, default=25)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--query-length", type=int, default=32)
    parser.add_argument("--passage-length", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--freeze-embeddings", action="store_true")
    parser.add_argument("--section", nargs="+", default=["steps", "matmul"], choices=("steps", "matmul"))
    args = parser.parse_args()
    if args.child:
        args.variant = args.child
        print(json.dumps(child(args)))
        return
    report: dict = {"settings": {k: v for k, v in vars(args).items() if k != "child"}}
    if "matmul" in args.section:
        report["matmul"] = matmul(args.threads)
    if "steps" in args.section:
        runs: dict[str, list[dict]] = {v: [] for v in args.variants}
        for _ in range(args.repeats):  # alternate, so that machine load hits all variants alike
            for variant in args.variants:
                runs[variant].append(spawn(args, variant))
                print(f"{variant}: {runs[variant][-1]}", file=sys.stderr)
        for key in ("pairs_per_second", "pairs_per_cpu_second"):
            medians = {v: statistics.median(r[key] for r in results) for v, results in runs.items()}
            report[key] = medians
            if "fp32" in medians:
                report[f"{key}_vs_fp32"] = {v: m / medians["fp32"] for v, m in medians.items()}
        report["runs"] = runs
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
