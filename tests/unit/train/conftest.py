"""Session fixtures for the training tests (generated here, offline)."""
from __future__ import annotations

import pytest
from trainfixtures import make_synthetic, make_tiny_model


@pytest.fixture(scope="session")
def synthetic_dir(tmp_path_factory):
    return make_synthetic(tmp_path_factory.mktemp("train-data") / "syn")


@pytest.fixture(scope="session")
def train_model_dir(tmp_path_factory, synthetic_dir):
    return make_tiny_model(synthetic_dir / "train", tmp_path_factory.mktemp("train-model") / "tiny")
