"""Shared fixtures: everything is generated here, offline; nothing is copied from ../shared."""
from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("POLYIR_QUIET", "1")

# POLYIR_SHARED_DATA overrides the location (e.g. for a git worktree outside the project folder)
SHARED_DATA = Path(os.environ.get("POLYIR_SHARED_DATA")
                   or Path(__file__).resolve().parents[1].parent / "shared" / "data")


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
