"""A run process dies with the sweep that started it.

Executors start each run as ``polyir sweep --run-one RUN_DIR --parent-pid PID``.  The run
process then stops when that parent is gone, however it went (``kill -9`` included), instead
of living on as an orphan that a resumed sweep would race in the same run directory:

* Linux: ``prctl(PR_SET_PDEATHSIG, SIGTERM)`` — the kernel signals the child the moment its
  parent dies.  Set by the child itself at start (``preexec_fn`` is unsafe in a threaded
  parent); a parent that died before that is caught by comparing ``getppid()``.
* elsewhere: a daemon thread polls ``getppid()`` once a second and sends SIGTERM to itself.

SIGTERM is turned into `KeyboardInterrupt`, so a training interrupted this way checkpoints
its last finished step like Ctrl-C does; its directory lock goes with the process.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import signal
import sys
import threading
import time

log = logging.getLogger(__name__)

PR_SET_PDEATHSIG = 1
POLL_SECONDS = 1.0


def exit_with_parent(parent_pid: int) -> str:
    """Arrange for this process to stop when ``parent_pid`` exits; returns the mechanism used."""
    signal.signal(signal.SIGTERM, _interrupt)
    mechanism = "prctl" if sys.platform.startswith("linux") and _set_parent_death_signal() else "polling"
    if os.getppid() != parent_pid:  # the parent died before we could watch it
        os.kill(os.getpid(), signal.SIGTERM)
    if mechanism == "polling":
        threading.Thread(target=_poll, args=(parent_pid,), name="polyir-parent-watch", daemon=True).start()
    return mechanism


def _set_parent_death_signal() -> bool:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0) == 0
    except (OSError, AttributeError) as err:  # no libc / no prctl: fall back to polling
        log.debug("prctl unavailable (%s); polling the parent pid instead", err)
        return False


def _poll(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(POLL_SECONDS)
    os.kill(os.getpid(), signal.SIGTERM)


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt(f"signal {signum}: the sweep that started this run is gone")
