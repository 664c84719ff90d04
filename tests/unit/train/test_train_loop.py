"""The training loop end to end on a tiny model: outputs, determinism, GradCache, hard negatives."""
from __future__ import annotations

import json

import pytest
import torch
from trainfixtures import base_config, max_weight_difference, read_log, weights

from polyir.data.pairs.pair_files import write_pairs
from polyir.errors import ConfigError
from polyir.train import build_config, train
from polyir.types import Pair


def run(tmp_path, name, model_dir, data_path, **sections):
    config = build_config(base_config(model_dir, data_path, tmp_path / name, **sections))
    return train(config, progress=False)


def test_outputs_summary_and_log(tmp_path, train_model_dir, synthetic_dir):
    summary = run(tmp_path, "run", train_model_dir, synthetic_dir / "train",
                  eval={"dev": str(synthetic_dir / "eval"), "max_queries": 20, "every": 4},
                  checkpoint={"every": 4, "keep_last": 1})
    out = tmp_path / "run"
    assert sorted(p.name for p in out.iterdir()) == [".polyir.lock", "best", "checkpoints", "config.yaml", "final",
                                                     "log.jsonl", "summary.json"]
    assert summary.final_model == out / "final" and (out / "final" / "config.yaml").is_file()
    assert summary.steps == summary.total_steps == 8 and summary.stopped == "completed"
    assert summary.best_model == out / "best" and summary.best_step in (0, 4, 8)
    assert json.loads((out / "best" / "best.json").read_text())["step"] == summary.best_step
    assert set(summary.last_metrics) >= {"multi/AP", "cross/AP", "mono/AP", "rank_distance"}
    # the leakage guard ran against the dev set (a separate synthetic split: nothing leaks)
    assert summary.data["leakage"]["dropped_groups"] == 0 and summary.data["languages"] == ["qaa", "qab", "qac"]
    assert summary.sampling["batches"] == 8 and 0 <= summary.sampling["share_batches_mono"] <= 1
    assert sum(summary.language_pairs.values()) == 8 * 16
    assert [c.name for c in (out / "checkpoints").iterdir()] == ["step-00000004"]  # keep_last 1, none at the end
    log = read_log(out)
    assert [r["step"] for r in log if r["event"] == "train"] == list(range(1, 9))
    assert [r["step"] for r in log if r["event"] == "eval"] == [0, 4, 8]
    assert {"loss", "lr", "grad_norm", "pairs_per_second", "share_batches_mono"} <= set(log[2])
    assert json.loads((out / "summary.json").read_text())["steps"] == 8
    assert (summary.precision, summary.device) == ("fp32", "cpu")  # what the steps ran in, resolved


def test_same_seed_same_numbers_other_seed_other_numbers(tmp_path, train_model_dir, synthetic_dir):
    runs = [run(tmp_path, name, train_model_dir, synthetic_dir / "train", seed=seed, model=dict(
        name_or_path=str(train_model_dir), dropout=0.1)) for name, seed in (("a", 3), ("b", 3), ("c", 4))]
    a, b, c = (weights(r.final_model) for r in runs)
    assert max_weight_difference(a, b) == 0.0
    assert max_weight_difference(a, c) > 1e-4
    losses = [[r["loss"] for r in read_log(s.out) if r["event"] == "train"] for s in runs]
    assert losses[0] == losses[1] != losses[2]


def test_gradcache_in_the_loop_equals_the_direct_step(tmp_path, train_model_dir, synthetic_dir):
    # dropout off: the direct step encodes each stream in one pass, GradCache in sub-batches of 5, so
    # with dropout on they would draw different masks (GradCache itself replays them: tests/unit/test_gradcache.py)
    direct = run(tmp_path, "direct", train_model_dir, synthetic_dir / "train", optim={"steps": 3})
    cached = run(tmp_path, "cached", train_model_dir, synthetic_dir / "train",
                 optim={"steps": 3, "gradcache_chunk": 5})
    d, c = ([r for r in read_log(s.out) if r["event"] == "train"] for s in (direct, cached))
    for a, b in zip(d, c):
        assert a["loss"] == pytest.approx(b["loss"], rel=1e-5)
        assert a["grad_norm"] == pytest.approx(b["grad_norm"], rel=1e-4)  # the gradient itself, before clipping
        assert b["replay_error"] < 1e-5
    assert max_weight_difference(weights(direct.final_model), weights(cached.final_model)) < 1e-5


def test_hard_negatives_and_shared_positives_reach_the_loss(tmp_path, train_model_dir):
    pairs = []
    for g in range(40):
        for lang in ("qaa", "qab"):
            positive = f"shared passage {lang} {g // 2}"  # two questions per passage, as in SQuAD
            pairs.append(Pair(f"g{g}", lang, f"question {lang} {g}", positive, (f"negative {lang} {g}", "other one"),
                              "toy"))
    write_pairs(pairs, tmp_path / "toy.jsonl")
    with_negatives = run(tmp_path, "neg", train_model_dir, tmp_path / "toy.jsonl", data={
        "sources": [str(tmp_path / "toy.jsonl")], "hard_negatives": 1}, sampler={"strategy": "mono"},
        optim={"steps": 2})
    plain = run(tmp_path, "plain", train_model_dir, tmp_path / "toy.jsonl", data={
        "sources": [str(tmp_path / "toy.jsonl")]}, sampler={"strategy": "mono"}, optim={"steps": 2},
        loss={"mask_same_positive": False})
    neg_log, plain_log = (read_log(s.out) for s in (with_negatives, plain))
    first = [r for r in neg_log if r["event"] == "train"][0]
    assert first["masked_per_query"] > 0  # questions sharing a passage are not each other's negatives
    assert [r for r in plain_log if r["event"] == "train"][0]["masked_per_query"] == 0
    assert first["loss"] != [r for r in plain_log if r["event"] == "train"][0]["loss"]


def test_refuses_to_mix_runs(tmp_path, train_model_dir, synthetic_dir):
    config = build_config(base_config(train_model_dir, synthetic_dir / "train", tmp_path / "r", optim={"steps": 2}))
    train(config, progress=False)
    with pytest.raises(ConfigError, match="already holds a training run; pass --resume"):
        train(config, progress=False)
    with pytest.raises(ConfigError, match="no output directory"):
        train(build_config({**base_config(train_model_dir, synthetic_dir / "train", tmp_path / "x"), "out": ""}))


def test_batch_size_must_divide_over_processes(tmp_path, train_model_dir, synthetic_dir, monkeypatch):
    from polyir.distributed import DistContext
    from polyir.train import loop

    monkeypatch.setattr(loop, "init_distributed", lambda device=None: DistContext(rank=0, world_size=3))
    config = build_config(base_config(train_model_dir, synthetic_dir / "train", tmp_path / "r"))
    with pytest.raises(ConfigError, match="batch_size 16 is not divisible by the 3 processes"):
        train(config, progress=False)
    assert torch.get_num_threads() >= 1


def test_a_pair_budget_sets_the_steps(tmp_path, train_model_dir, synthetic_dir):
    summary = run(tmp_path, "pairs", train_model_dir, synthetic_dir / "train", optim={"pairs": 40, "steps": None})
    assert summary.steps == summary.total_steps == 3  # ceil(40 / 16)
