"""Fixtures for the translation tests: toy pair files and tiny models, generated offline."""
from __future__ import annotations

from pathlib import Path

import pytest

from translate_fixtures import TOY_DECODING, toy_records, write_records  # noqa: F401


@pytest.fixture(scope="session")
def tiny_marian(tmp_path_factory) -> Path:
    from polyir.translate.tiny import build_tiny_translation_model

    texts = [f"{r['query']} {r['positive']} {' '.join(r['negatives'])}" for r in toy_records(60, seed=99)]
    return build_tiny_translation_model(tmp_path_factory.mktemp("models") / "marian", texts, seed=0)


@pytest.fixture(scope="session")
def tiny_nllb(tmp_path_factory) -> Path:
    from polyir.translate.tiny import build_tiny_translation_model

    texts = [f"{r['query']} {r['positive']}" for r in toy_records(60, seed=98)]
    return build_tiny_translation_model(tmp_path_factory.mktemp("models") / "nllb", texts, family="nllb",
                                        languages=["en", "de", "zh"], seed=0)


@pytest.fixture
def toy_file(tmp_path) -> Path:
    return write_records(tmp_path / "toy.jsonl", toy_records(10, seed=1))
