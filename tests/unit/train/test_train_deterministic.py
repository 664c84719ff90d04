"""runtime.deterministic switches on every switch GPU reproducibility needs (docs/training.md)."""
from __future__ import annotations

import pytest
import torch

from polyir.errors import ConfigError
from polyir.train.setup import deterministic_mode


@pytest.fixture
def restored(monkeypatch):
    monkeypatch.delenv("CUBLAS_WORKSPACE_CONFIG", raising=False)
    before = (torch.are_deterministic_algorithms_enabled(), torch.backends.cudnn.deterministic,
              torch.backends.cudnn.benchmark)
    yield
    torch.use_deterministic_algorithms(before[0])
    torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = before[1], before[2]


def test_deterministic_mode_sets_torch_cudnn_and_cublas(restored):
    import os

    torch.backends.cudnn.benchmark = True
    deterministic_mode()
    assert torch.are_deterministic_algorithms_enabled()
    assert not torch.is_deterministic_algorithms_warn_only_enabled()  # a non-deterministic op is an error
    assert torch.backends.cudnn.deterministic and not torch.backends.cudnn.benchmark
    assert os.environ["CUBLAS_WORKSPACE_CONFIG"] == ":4096:8"


def test_deterministic_mode_refuses_a_cublas_workspace_that_is_not_reproducible(restored, monkeypatch):
    monkeypatch.setenv("CUBLAS_WORKSPACE_CONFIG", ":0:0")
    with pytest.raises(ConfigError, match="CUBLAS_WORKSPACE_CONFIG"):
        deterministic_mode()
