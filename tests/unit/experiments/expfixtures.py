"""Constructed run records (no training): systems with known per-question effects."""
from __future__ import annotations

import numpy as np

from polyir.experiments.grid import RunSpec
from polyir.experiments.record import MACRO, Matrix, RunRecord
from polyir.sampling import Strategy

LANGS = ("aa", "bb", "cc")
EVAL = {"name": "set", "data": {"dataset": "xquad-r", "data_dir": "d"}, "options": {"measures": ["AP"]}}


def settings(kind: str) -> list[str]:
    if kind == "mono":
        return [f"{x}-{x}" for x in LANGS]
    if kind == "cross":
        return [f"{x}-{y}" for x in LANGS for y in LANGS if x != y]
    return [f"{x}-multi" for x in LANGS]


def spec(label: str, seed: int = 0, *, batch_size: int = 64, model: str = "m", kind: str = "train") -> RunSpec:
    point = Strategy.parse(label)
    axes = {"model": model, "strategy": point.name, "alpha": point.alpha, "label": point.label}
    train = {"model": {"name_or_path": model, "prompts": "model"}, "runtime": {"threads": 1}}
    if kind == "train":
        axes = {"model": model, "data": "d", "batch_size": batch_size, "seed": seed, "strategy": point.name,
                "alpha": point.alpha, "label": point.label}
        train.update({"seed": seed, "sampler": {**point.sampler_fields(), "batch_size": batch_size},
                      "optim": {"steps": 10, "epochs": 1}})
    return RunSpec(kind, axes, train, (EVAL,), "final", "test")


def record(run: RunSpec, effects: dict[str, float], *, n_questions: int = 60, noise: float = 0.0,
           rank_distance: float = 100.0, base_seed: int = 0) -> RunRecord:
    """Per-question AP = question difficulty (shared by all systems) + ``effects[kind]`` (+ noise)."""
    rng = np.random.default_rng(base_seed)
    difficulty = rng.uniform(0.2, 0.7, size=n_questions)
    noise_rng = np.random.default_rng(int(run.hash[:8], 16))
    questions = tuple(f"q{i:03d}" for i in range(n_questions))
    metrics, matrices = [], []
    for kind in ("mono", "cross", "multi"):
        names = settings(kind)
        values = np.clip(difficulty[None, :] + effects.get(kind, 0.0)
                         + noise * noise_rng.standard_normal((len(names), n_questions)), 0, 1).astype(np.float32)
        matrices.append(Matrix("set", kind, "AP", tuple(names), questions, values))
        for name, row in zip(names, values):
            query_lang, pool = name.split("-")
            metrics.append({"eval_set": "set", "kind": kind, "query_lang": query_lang, "pool": pool, "measure": "AP",
                            "value": float(np.mean(row.astype(np.float64))), "n_queries": n_questions})
    distances = np.full((len(LANGS), n_questions), rank_distance + effects.get("rank_distance", 0.0), np.float32)
    distances += (difficulty * 10).astype(np.float32)[None, :]
    matrices.append(Matrix("set", "bias", "rank_distance", LANGS, questions, distances))
    bias = [{"eval_set": "set", "query_lang": lang, "measure": "rank_distance",
             "value": float(distances[i].astype(np.float64).mean()), "n_queries": n_questions}
            for i, lang in enumerate(LANGS)]
    bias.append({"eval_set": "set", "query_lang": MACRO, "measure": "rank_distance",
                 "value": float(np.mean([b["value"] for b in bias])), "n_queries": 3 * n_questions})
    summary = None if run.kind == "baseline" else {
        "steps": 10, "total_steps": 10, "train_seconds": 2.0, "pairs_per_second": 320.0, "batches_per_epoch": 5,
        "sampling": {"share_batches_mono": 0.5, "share_items_cross": 0.5},
        "data": {"leakage": {"dropped_groups": 3, "dropped_pairs": 9}}}
    timings = {"started_at": "2026-01-01T00:00:00+00:00", "finished_at": "2026-01-01T00:00:10+00:00",
               "wall_seconds": 10.0, "eval_seconds": 1.5}
    return RunRecord(run, summary, timings, metrics, bias, matrices, {"host": "test", "polyir_version": "0"})


def fill(store, systems: dict[str, dict[str, float]], seeds=(0, 1), *, baseline: bool = True, noise: float = 0.01,
         batch_sizes=(64,)) -> list[RunRecord]:
    """Record every system × seed (× batch size), plus an untrained baseline."""
    records = []
    if baseline:
        records.append(record(spec("untrained", kind="baseline"), {"mono": -0.15, "cross": -0.15, "multi": -0.15}))
    for batch_size in batch_sizes:
        for label, effects in systems.items():
            for seed in seeds:
                records.append(record(spec(label, seed, batch_size=batch_size), effects, noise=noise))
    for r in records:
        assert store.record(r)
    return records
