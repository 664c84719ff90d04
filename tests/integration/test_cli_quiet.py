"""``polyir -q`` is an argument: it hides this process's bars and travels to child processes as
``-q`` on their command line (test_sweep_devices.py), never as an environment variable."""
from __future__ import annotations

import os

from polyir.cli import main
from polyir.progress import progress_shown, show_progress


def test_quiet_is_an_argument_not_an_environment_variable(monkeypatch, tmp_path):
    monkeypatch.delenv("POLYIR_QUIET", raising=False)
    show_progress(True)
    try:
        code = main(["-q", "data", "stats", str(tmp_path / "missing.jsonl")])
        shown = progress_shown()
    finally:
        show_progress(False)  # the test session's setting (tests/conftest.py)
    assert code == 2  # the missing file, reported as one line
    assert not shown and "POLYIR_QUIET" not in os.environ
