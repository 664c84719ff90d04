"""Toy parallel data for the translation tests (English-like random words, deterministic)."""
from __future__ import annotations

import json
import os
import random
from pathlib import Path

import pytest

from polyir.translate.backends import DecodingSettings

# greedy and short: fast, and deterministic regardless of batch composition
TOY_DECODING = DecodingSettings(num_beams=1, max_length=12)
LETTERS = "abcdefghijklmnop"


def _sentence(rng: random.Random, words: list[str], end: str = ".") -> str:
    return " ".join(rng.choice(words) for _ in range(rng.randint(3, 8))).capitalize() + end


def toy_records(n: int, *, seed: int = 0, lang: str = "en", dataset: str = "toy", negatives: int = 1,
                sentences: tuple[int, int] = (1, 3)) -> list[dict]:
    word_rng = random.Random(12345)  # the same vocabulary for every seed
    words = ["".join(word_rng.choice(LETTERS) for _ in range(word_rng.randint(3, 7))) for _ in range(200)]
    rng = random.Random(seed)
    return [{"id": f"{dataset}-{seed}-{i}", "lang": lang, "query": _sentence(rng, words, "?"),
             "positive": " ".join(_sentence(rng, words) for _ in range(rng.randint(*sentences))),
             "negatives": [_sentence(rng, words) for _ in range(negatives)], "dataset": dataset}
            for i in range(n)]


def write_records(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


def shared_path(*parts: str) -> Path:
    """A path under ../shared/data (as tests/conftest.py finds it), or skip the test."""
    root = os.environ.get("POLYIR_SHARED_DATA") or Path(__file__).resolve().parents[4] / "shared" / "data"
    path = Path(root).joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} not present (real data lives in ../shared/data)")
    return path
