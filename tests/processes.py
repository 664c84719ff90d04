"""Subprocess helpers for the kill -9 tests (``from processes import sigkill_when``)."""
from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Callable

SRC = Path(__file__).resolve().parents[1] / "src"


def child_env(**extra: str) -> dict:
    """The environment of a child Python: polyir's source first on PYTHONPATH, the existing
    entries kept (packages installed with ``pip install --target`` live there), ``extra`` added."""
    path = os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": path, **extra}


def sigkill_when(process: subprocess.Popen, ready: Callable[[], bool], *, timeout: float = 120.0,
                 what: str = "checkpoint") -> None:
    """SIGKILL ``process`` (started with ``stderr=PIPE``) as soon as ``ready()`` is true; fail the
    test with the process's stderr if it exits first, or after ``timeout`` seconds."""
    deadline = time.time() + timeout
    while not ready():
        assert process.poll() is None, process.stderr.read().decode()
        assert time.time() < deadline, f"no {what} within {timeout:.0f} s"
        time.sleep(0.02)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    process.stderr.close()
