"""Shared fixtures: everything is generated here, offline; nothing is copied from ../shared."""
from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("POLYIR_QUIET", "1")

# POLYIR_SHARED_DATA points elsewhere (e.g. from a git worktree that is not next to ../shared)
SHARED_DATA = Path(os.environ.get("POLYIR_SHARED_DATA") or Path(__file__).resolve().parents[1].parent / "shared" / "data")


def shared_data(*parts: str) -> Path:
    """Path under ../shared/data, or skip the test with a message when it is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} not present (real data lives in ../shared/data)")
    return path


@pytest.fixture(scope="session")
def word_corpus(tmp_path_factory) -> Path:
    """A small random-word corpus (deterministic) for tokenizer training."""
    rng = random.Random(0)
    words = ["".join(rng.choice("abcdefghijklmnop") for _ in range(rng.randint(3, 7))) for _ in range(400)]
    path = tmp_path_factory.mktemp("corpus") / "corpus.txt"
    path.write_text("\n".join(" ".join(rng.choice(words) for _ in range(12)) for _ in range(1500)) + "\n")
    return path


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory, word_corpus) -> Path:
    """A freshly initialised tiny sentence-transformers model (built offline)."""
    from polyir.modelinit import init_model

    return init_model("tiny", [word_corpus], tmp_path_factory.mktemp("models") / "tiny", seed=0)


@pytest.fixture(scope="session")
def synthetic_dir(tmp_path_factory) -> Path:
    """A small synthetic multilingual collection: eval/ (XQuAD-R format) and train/."""
    from polyir.data import generate_synthetic

    out = tmp_path_factory.mktemp("synthetic")
    generate_synthetic(out, n_languages=3, n_groups=200, n_eval_questions=40, seed=0)
    return out


@pytest.fixture(scope="session")
def synthetic_model_dir(tmp_path_factory, synthetic_dir) -> Path:
    """A tiny untrained model whose tokenizer was trained on the synthetic collection."""
    from polyir.modelinit import init_model

    return init_model("tiny", [synthetic_dir / "train"], tmp_path_factory.mktemp("models") / "syn-tiny", seed=0)
