"""Training speed: polyir's loop against SentenceTransformerTrainer + MultipleNegativesRankingLoss,
and GradCache memory / speed at a large batch.

    PYTHONPATH=src python benchmarks/train_speed.py                      # tiny model, all sections
    PYTHONPATH=src python benchmarks/train_speed.py --models tiny me5 --repeats 3

Sections
  compare    pairs/s of polyir's trainer, of SentenceTransformerTrainer + MNRL and (variant ``st_polyir``)
             of SentenceTransformerTrainer with polyir's sampler, pairing collator and masked InfoNCE
             (`polyir.st`), on the same model, batch size, maximum length, prompts, data (the texts of
             polyir's first batches; ``st_polyir`` draws those very batches itself), optimizer (fused
             AdamW, lr schedule, weight decay, clipping) and loss (InfoNCE at temperature 0.05 = MNRL
             at scale 20), fp32 on CPU.  Each measurement runs in a fresh process; the variants
             alternate; the median over repeats is reported.  pairs/s counts the steps after
             ``--warmup`` (start-up excluded).
  breakdown  where a polyir step spends its time (tokenising, forward + backward of the batch cut in
             different ways into forward passes, optimizer step), and the padded tokens of each cut.
  gradcache  plain batch 64 against GradCache at batch 1024 (sub-batches of 64), tiny model:
             peak RSS and pairs/s, each in its own process (plain batch 1024 for reference).

Needs the `bench` (or `st`) extra (datasets, accelerate) for SentenceTransformerTrainer.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MODELS = {"me5": os.environ.get("POLYIR_ME5", "models/me5-small")}  # make study-model builds it there
PROMPTS = {"query": "query: ", "passage": "passage: "}


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rate(times: list[float], batch_size: int, warmup: int) -> float:
    """Pairs per second over the steps after ``warmup`` (times: end of each step)."""
    return (len(times) - warmup) * batch_size / (times[-1] - times[warmup - 1])


def rates(clock: list[tuple[float, float]], batch_size: int, warmup: int) -> dict:
    """Pairs per wall-clock second, and per CPU second of the process (``time.process_time``):
    on a machine other jobs load, CPU time still counts only this process's work."""
    return {"pairs_per_second": rate([wall for wall, _ in clock], batch_size, warmup),
            "pairs_per_cpu_second": rate([cpu for _, cpu in clock], batch_size, warmup)}


def tick(clock: list[tuple[float, float]]) -> None:
    clock.append((time.perf_counter(), time.process_time()))


# ----------------------------------------------------------------------------- children
def child_polyir(args) -> dict:
    from polyir.train import build_config, train

    clock: list[tuple[float, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        config = build_config({
            "model": {"name_or_path": args.model, "prompts": PROMPTS, "max_query_length": args.max_length,
                      "max_passage_length": args.max_length},
            "data": {"sources": [f"syn={args.data}"], "token_cache": args.token_cache}, "out": f"{tmp}/run",
            "sampler": {"strategy": "hybrid", "batch_size": args.batch_size},
            "optim": {"steps": args.steps, "gradcache_chunk": args.gradcache_chunk, "lr": 3e-5},
            "runtime": {"threads": args.threads, "length_buckets": {"auto": "auto", "on": True, "off": False}[
                args.length_buckets], "bucket_overhead": args.bucket_overhead},
            "checkpoint": {"every": 0}, "logging": {"every": 10}})
        train(config, progress=False, callback=lambda info: tick(clock))
    return {**rates(clock, args.batch_size, args.warmup), "peak_rss_mb": peak_rss_mb(),
            "seconds_to_first_step": clock[0][0] - started}


def batch_pairs(data: str, batch_size: int, steps: int) -> tuple[list[str], list[str]]:
    """The (query, positive) texts of polyir's first ``steps`` hybrid batches, in order."""
    from polyir.sampling import SamplerConfig, build_sampler
    from polyir.train.train_config import DataConfig
    from polyir.train.train_data import load_training_data

    data = load_training_data(DataConfig(sources=(f"syn={data}",)))
    sampler = build_sampler(SamplerConfig("hybrid", batch_size), data.index)
    queries, passages = [], []
    while len(queries) < steps * batch_size:
        for batch in sampler:
            queries += [data.collection[i].query for i in batch.query_index]
            passages += [data.collection[i].positive for i in batch.passage_index]
    return queries[:steps * batch_size], passages[:steps * batch_size]


def child_st(args) -> dict:
    """SentenceTransformerTrainer + MultipleNegativesRankingLoss on the texts of polyir's batches."""
    from datasets import Dataset
    from sentence_transformers import losses

    queries, passages = batch_pairs(args.data, args.batch_size, args.steps)
    return _st_trainer(args, Dataset.from_dict({"anchor": queries, "positive": passages}),
                       lambda model: losses.MultipleNegativesRankingLoss(model, scale=20.0), collator=None,
                       prompts={"anchor": PROMPTS["query"], "positive": PROMPTS["passage"]})


def child_st_polyir(args) -> dict:
    """SentenceTransformerTrainer + polyir's sampler, pairing collator and masked InfoNCE (polyir.st):
    the very batches polyir's own trainer draws (hybrid, α 0.5, seed 0)."""
    from polyir.st import HybridBatchSampler, HybridDataCollator, MaskedInfoNCELoss, pairs_dataset
    from polyir.train.train_config import DataConfig
    from polyir.train.train_data import load_training_data

    pairs = load_training_data(DataConfig(sources=(f"syn={args.data}",))).collection.pairs
    return _st_trainer(args, pairs_dataset(pairs), lambda model: MaskedInfoNCELoss(model, temperature=0.05),
                       collator=lambda model: HybridDataCollator(
                           model.preprocess, prompts={"query": PROMPTS["query"], "positive": PROMPTS["passage"]}),
                       batch_sampler=HybridBatchSampler.using(strategy="hybrid", alpha=0.5))


def _st_trainer(args, dataset, make_loss, collator=None, prompts=None, batch_sampler=None) -> dict:
    import torch
    from sentence_transformers import SentenceTransformer, SentenceTransformerTrainer, SentenceTransformerTrainingArguments
    from transformers import TrainerCallback

    torch.set_num_threads(args.threads)
    clock: list[tuple[float, float]] = []

    class Timer(TrainerCallback):
        def on_step_end(self, *_, **__):
            tick(clock)

    model = SentenceTransformer(args.model, device="cpu")
    model.max_seq_length = args.max_length
    extra = {"prompts": prompts} if prompts else {}
    if batch_sampler is not None:
        extra["batch_sampler"] = batch_sampler
    with tempfile.TemporaryDirectory() as tmp:
        training_args = SentenceTransformerTrainingArguments(
            output_dir=tmp, per_device_train_batch_size=args.batch_size, max_steps=args.steps, learning_rate=3e-5,
            warmup_ratio=0.1, weight_decay=0.01, lr_scheduler_type="linear", max_grad_norm=1.0, logging_steps=10,
            save_strategy="no", report_to=[], dataloader_drop_last=True, disable_tqdm=True, use_cpu=True, seed=0,
            **extra)
        trainer = SentenceTransformerTrainer(
            model=model, args=training_args, train_dataset=dataset, loss=make_loss(model), callbacks=[Timer()],
            data_collator=collator(model) if collator else None)
        trainer.train()
    return {**rates(clock, args.batch_size, args.warmup), "peak_rss_mb": peak_rss_mb()}


def child_breakdown(args) -> dict:
    """Seconds per step of each part of a polyir step (median over ``steps``), and the padded
    tokens of each way of cutting the batch into forward passes (mean per step)."""
    import torch

    from polyir.model_loading import Prompts
    from polyir.train.collate import BatchTexts, Bucketing, sub_batches
    from polyir.train.train_config import ModelConfig, OptimConfig
    from polyir.train.embedding_grad import EmbeddingGradBuffer
    from polyir.featurize import Featurizer
    from polyir.train.modeling import load_training_model
    from polyir.train.optim import build_optimizer, parameter_groups
    from polyir.train.setup import _hidden_size
    from polyir.train.buckets import default_overhead

    torch.set_num_threads(args.threads)
    queries, passages = batch_pairs(args.data, args.batch_size, args.steps)
    module = load_training_model(ModelConfig(args.model), device="cpu").module
    cached = Featurizer(module, Prompts(**PROMPTS), max_query_length=args.max_length,
                        max_passage_length=args.max_length)
    plain = Featurizer(module, Prompts(**PROMPTS), max_query_length=args.max_length,
                       max_passage_length=args.max_length, cache=False)
    batches = [(queries[i:i + args.batch_size], passages[i:i + args.batch_size])
               for i in range(0, len(queries), args.batch_size)]
    for q, p in batches:  # fill the token cache (once per distinct text in a real run)
        cached.features(q, "query"), cached.features(p, "passage")
    optimizers = {"fused": build_optimizer(module, OptimConfig()),
                  "foreach": torch.optim.AdamW(parameter_groups(module, 0.01), lr=3e-5, foreach=True),
                  "for-loop": torch.optim.AdamW(parameter_groups(module, 0.01), lr=3e-5, foreach=False)}
    overhead = args.bucket_overhead or default_overhead(_hidden_size(module))
    ways = {"separate": None, "unbucketed": Bucketing(None), "bucketed": Bucketing(float(overhead))}
    parts: dict[str, list[float]] = {k: [] for k in ("tokenize", "token_cache", *[f"forward_backward_{w}" for w in ways],
                                                     "forward_backward_bucketed_embedding_buffer",
                                                     *[f"adamw_{n}" for n in optimizers])}
    tokens: dict[str, list[int]] = {"real": [], **{w: [] for w in ways}}
    for q, p in batches:
        parts["tokenize"].append(_timed(lambda: (plain.features(q, "query"), plain.features(p, "passage"))))
        parts["token_cache"].append(_timed(lambda: (cached.features(q, "query"), cached.features(p, "passage"))))
        texts = BatchTexts(q, p, [], torch.arange(len(q)))
        for way, bucketing in ways.items():
            plan = _separate_plan(cached, texts) if bucketing is None else sub_batches(cached, texts, None, "cpu",
                                                                                        bucketing)
            tokens[way].append(plan.padded_tokens)
            module.zero_grad(set_to_none=True)
            parts[f"forward_backward_{way}"].append(_timed(lambda: _forward_backward(module, plan)))
        tokens["real"].append(plan.tokens)
        module.zero_grad(set_to_none=True)
        buffer = EmbeddingGradBuffer.attach(module)  # what the loop does: the word-embedding gradient in place
        if buffer is not None:
            parts["forward_backward_bucketed_embedding_buffer"].append(_timed(lambda: _forward_backward(module, plan)))
            buffer.detach()
        for name, optimizer in optimizers.items():
            parts[f"adamw_{name}"].append(_timed(optimizer.step))
        module.zero_grad(set_to_none=True)
    out = {name: statistics.median(values[args.warmup:]) for name, values in parts.items() if values[args.warmup:]}
    return {**out, "bucket_overhead": overhead,
            **{f"padded_tokens_{name}": statistics.mean(values) for name, values in tokens.items()}}


def _separate_plan(featurizer, texts):
    """Queries and passages as two passes, each padded to its own longest text (ST's trainer)."""
    from polyir.train.collate import ForwardPlan, SubBatch

    import numpy as np

    n = len(texts.queries)
    batches = [SubBatch(featurizer.task(kind), featurizer.features(t, kind), rows)
               for t, kind, rows in ((texts.queries, "query", np.arange(n)),
                                     (texts.passages, "passage", np.arange(n, 2 * n)))]
    masks = [b.features["attention_mask"] for b in batches]
    return ForwardPlan(batches, (n, n, 0), tokens=int(sum(m.sum() for m in masks)),
                       padded_tokens=sum(m.numel() for m in masks))


def _forward_backward(module, plan) -> None:
    import torch

    embeddings = torch.cat([module(dict(b.features), task=b.task)["sentence_embedding"] for b in plan.batches])
    q, p, _ = plan.split(embeddings)
    (q @ p.T).logsumexp(1).mean().backward()


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


# ----------------------------------------------------------------------------- parent
def spawn(kind: str, model: str, data: str, args, **overrides) -> dict:
    argv = [sys.executable, __file__, "--child", kind, "--model", model, "--data", data]
    settings = {"steps": args.steps, "warmup": args.warmup, "batch_size": args.batch_size,
                "max_length": args.max_length, "threads": args.threads, "token_cache": args.token_cache,
                "length_buckets": args.length_buckets, "bucket_overhead": args.bucket_overhead, **overrides}
    for key, value in settings.items():
        if value is not None:
            argv += [f"--{key.replace('_', '-')}", str(value)]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    done = subprocess.run(argv, env=env, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"{kind} child failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def prepare(root: Path) -> tuple[Path, Path]:
    from polyir.data.synthetic.synthetic_generator import generate_synthetic
    from polyir.modelinit import init_model

    generate_synthetic(root / "syn")
    return root / "syn" / "train", init_model("tiny", [root / "syn" / "train"], root / "tiny")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", choices=("polyir", "st", "st_polyir", "breakdown"))
    parser.add_argument("--model"), parser.add_argument("--data")
    parser.add_argument("--models", nargs="+", default=["tiny"], help="tiny and/or me5")
    parser.add_argument("--sections", nargs="+", default=["compare", "breakdown", "gradcache"])
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--max-length", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--gradcache-chunk", type=int)
    parser.add_argument("--token-cache", default="auto", choices=("auto", "upfront", "lazy", "off"))
    parser.add_argument("--gradcache-steps", type=int, default=12)
    parser.add_argument("--length-buckets", default="auto", choices=("auto", "on", "off"))
    parser.add_argument("--bucket-overhead", type=int)
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), help=f"of {', '.join(VARIANTS)}")
    args = parser.parse_args()
    if args.child:
        child = {"polyir": child_polyir, "st": child_st, "st_polyir": child_st_polyir,
                 "breakdown": child_breakdown}[args.child]
        print(json.dumps(child(args)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        data, tiny = prepare(Path(tmp))
        paths = {"tiny": str(tiny), **MODELS}
        report = {"settings": vars(args)}
        for name in args.models:
            if "compare" in args.sections:
                report[f"compare/{name}"] = compare(paths[name], str(data), args)
            if "breakdown" in args.sections:
                report[f"breakdown/{name}"] = spawn("breakdown", paths[name], str(data), args)
        if "gradcache" in args.sections:
            report["gradcache"] = gradcache(str(tiny), str(data), args)
    print(json.dumps(report, indent=2))


VARIANTS = {"polyir": ("polyir", {"token_cache": "auto"}), "polyir_lazy": ("polyir", {"token_cache": "lazy"}),
            "polyir_unbucketed": ("polyir", {"length_buckets": "off"}), "st": ("st", {}),
            "st_polyir": ("st_polyir", {})}


def compare(model: str, data: str, args) -> dict:
    """polyir as configured by default (token cache ``auto``: every text tokenised once before the
    first step, for collections of up to a million pairs), polyir with the ``lazy`` token cache
    (tokenising new texts inside the steps of the first epoch, as ST does), ST, and ST with
    polyir's batches and loss; alternating."""
    runs: dict[str, list[dict]] = {name: [] for name in args.variants}
    for _ in range(args.repeats):  # alternate, so that machine load hits all alike
        for name in args.variants:
            kind, overrides = VARIANTS[name]
            runs[name].append(spawn(kind, model, data, args, **overrides))
            print(f"{name}: {runs[name][-1]}", file=sys.stderr)
    out: dict = {}
    for key, suffix in (("pairs_per_second", ""), ("pairs_per_cpu_second", "_cpu")):
        median = {name: statistics.median(r[key] for r in results) for name, results in runs.items()}
        out.update({f"{name}_{key}": value for name, value in median.items()})
        out.update({f"speedup{suffix}_{name}": value / median["st"] for name, value in median.items()
                    if name != "st" and "st" in median})
        if "polyir" in median and "st_polyir" in median:  # polyir's trainer against ST's with polyir's batches
            out[f"speedup{suffix}_polyir_over_st_polyir"] = median["polyir"] / median["st_polyir"]
    return {**out, "runs": runs}


def gradcache(model: str, data: str, args) -> dict:
    plain = spawn("polyir", model, data, args, batch_size=64, steps=args.gradcache_steps, warmup=2)
    cached = spawn("polyir", model, data, args, batch_size=1024, gradcache_chunk=64, steps=args.gradcache_steps,
                   warmup=2)
    plain_large = spawn("polyir", model, data, args, batch_size=1024, steps=args.gradcache_steps, warmup=2)
    return {"plain_64": plain, "gradcache_1024": cached, "plain_1024": plain_large,
            "rss_ratio": cached["peak_rss_mb"] / plain["peak_rss_mb"],
            "pairs_per_second_ratio": cached["pairs_per_second"] / plain["pairs_per_second"]}


if __name__ == "__main__":
    main()
