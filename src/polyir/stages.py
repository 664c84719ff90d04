"""Where the time of a run goes: seconds per named stage, logged as each stage ends.

    clock = StageClock("run")
    ...load data...
    clock.mark("load data")          # seconds since the previous mark (or the clock's start)
    with clock.stage("encode"):      # or time a block explicitly
        ...
    clock.seconds                    # {"load data": 0.41, "encode": 2.3}

A sweep run records its stages in ``record.json`` (``timings.stages``) and its ``run.log``
(docs/experiments.md, "Where a run's time goes").
"""
from __future__ import annotations

import contextlib
import logging
import os
import time
from pathlib import Path
from typing import Iterator

log = logging.getLogger(__name__)


class StageClock:
    """Accumulates seconds per stage name (a repeated name adds up), in first-seen order."""

    def __init__(self, name: str = "", *, log_stages: bool = True):
        self.name = name
        self.seconds: dict[str, float] = {}
        self._log = log_stages
        self._last = time.perf_counter()

    def add(self, stage: str, seconds: float) -> None:
        self.seconds[stage] = self.seconds.get(stage, 0.0) + seconds
        if self._log:
            log.info("%sstage %s: %.2f s", f"{self.name}: " if self.name else "", stage, seconds)

    def mark(self, stage: str) -> float:
        """End ``stage`` now: the seconds since the previous mark (or start, or `stage` block)."""
        now = time.perf_counter()
        seconds, self._last = now - self._last, now
        self.add(stage, seconds)
        return seconds

    def restart(self) -> None:
        """The next `mark` counts from now (after stages recorded with `add`)."""
        self._last = time.perf_counter()

    @contextlib.contextmanager
    def stage(self, stage: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.add(stage, time.perf_counter() - started)
            self._last = time.perf_counter()

    def rounded(self, digits: int = 3) -> dict[str, float]:
        return {k: round(v, digits) for k, v in self.seconds.items()}


def seconds_since_process_start() -> float | None:
    """Wall seconds since this process was created (Linux ``/proc``; None elsewhere), so that
    interpreter start-up and imports before any polyir code ran are counted too."""
    try:
        fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
        started = int(fields[19]) / os.sysconf("SC_CLK_TCK")  # field 22: start time, clock ticks after boot
        uptime = float(Path("/proc/uptime").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return max(0.0, uptime - started)
