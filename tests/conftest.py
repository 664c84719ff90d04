"""Shared fixtures: everything is generated here, offline; nothing is copied from ../shared."""
from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from shared_paths import SHARED_DATA, shared_data  # noqa: E402,F401  (re-exported)

from polyir.progress import show_progress  # noqa: E402

show_progress(False)  # as `polyir -q`: tests in this process draw no bars (child processes get -q)


def pytest_collection_modifyitems(config, items):
    """Tests marked ``cuda`` run where torch sees a GPU and are skipped elsewhere."""
    marked = [item for item in items if item.get_closest_marker("cuda") is not None]
    if not marked:
        return
    import torch

    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA GPU (torch.cuda.is_available() is False)")
    for item in marked:
        item.add_marker(skip)


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
