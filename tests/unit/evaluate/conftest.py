"""Fixtures of the evaluation tests; the generators live in evalfixtures.py (importable by name)."""
from __future__ import annotations

import pytest

from evalfixtures import parallel_set


@pytest.fixture
def make_parallel_set():
    return parallel_set
