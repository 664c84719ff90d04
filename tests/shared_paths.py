"""Where ../shared/data is, for tests that use real data and skip cleanly without it.

A module of its own (not conftest) so that test files import it unambiguously:
``from shared_paths import shared_data``.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

# POLYIR_SHARED_DATA points elsewhere (e.g. from a git worktree that is not next to ../shared)
SHARED_DATA = Path(os.environ.get("POLYIR_SHARED_DATA") or Path(__file__).resolve().parents[1].parent / "shared" / "data")


def shared_data(*parts: str) -> Path:
    """Path under ../shared/data, or skip the test with a message when it is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} not present (real data lives in ../shared/data)")
    return path
