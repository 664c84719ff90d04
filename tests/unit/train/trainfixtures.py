"""Builders for the training tests: a small synthetic parallel set and a tiny model trained on it."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from polyir.config_io import to_dict


def make_synthetic(out: Path, *, languages: int = 3, groups: int = 300, eval_questions: int = 60, seed: int = 0) -> Path:
    from polyir.data.synthetic.synthetic_generator import generate_synthetic

    generate_synthetic(out, n_languages=languages, n_groups=groups, n_eval_questions=eval_questions, seed=seed)
    return out


def make_tiny_model(corpus: Path, out: Path, seed: int = 0) -> Path:
    from polyir.modelinit import init_model

    return init_model("tiny", [corpus], out, seed=seed, max_seq_length=64)


def base_config(model_dir: Path, data_path: Path, out: Path, **sections: Any) -> dict:
    """A fast, deterministic single-thread configuration (no dropout: exact comparisons).

    Pinned to the CPU in float32: the tests comparing weights to 1e-5 check a CPU property
    (``device: auto`` would pick CUDA and bf16 on a GPU machine); the GPU paths have their own
    tests (test_train_cuda.py)."""
    config = {
        "model": {"name_or_path": str(model_dir), "dropout": 0.0},
        "data": {"sources": [f"syn={data_path}"]},
        "out": str(out),
        "sampler": {"strategy": "hybrid", "batch_size": 16, "alpha": 0.5},
        "optim": {"lr": 1e-3, "steps": 8, "warmup_ratio": 0.25},
        "runtime": {"threads": 1, "device": "cpu", "precision": "fp32"},
        "checkpoint": {"every": 0},
        "logging": {"every": 1},
    }
    for name, values in sections.items():
        if isinstance(values, dict) and isinstance(config.get(name), dict):
            config[name] = {**config[name], **values}
        else:
            config[name] = values
    return config


def read_log(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]


def weights(model_dir: Path) -> dict:
    from safetensors.torch import load_file

    return load_file(str(model_dir / "model.safetensors"))


def max_weight_difference(a: dict, b: dict) -> float:
    assert a.keys() == b.keys()
    return max(float((a[k].double() - b[k].double()).abs().max()) for k in a)


__all__ = ["make_synthetic", "make_tiny_model", "base_config", "read_log", "weights", "max_weight_difference", "to_dict"]
