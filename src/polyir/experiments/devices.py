"""Which accelerator each concurrent run gets: device slots for the local executor.

``--devices 0,1,2,3 --runs-per-device 2`` makes 8 slots (each GPU twice); a run takes a free
slot when it starts and gives it back when it ends, and its process sees only that GPU
(``CUDA_VISIBLE_DEVICES``), where it is ``cuda:0``.  ``--devices none`` hides every GPU from
the runs (CPU runs on a GPU machine).  Without ``--devices`` the visible GPUs are used: the
driver's ``CUDA_VISIBLE_DEVICES`` when set, else every GPU torch sees; on a machine without
GPUs nothing changes (runs inherit the driver's environment).
"""
from __future__ import annotations

import os
import queue
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Iterator, Sequence

from ..errors import ConfigError

NO_DEVICES = ("none", "cpu")


@dataclass(frozen=True)
class DevicePlan:
    """``devices``: device ids (strings as ``CUDA_VISIBLE_DEVICES`` takes them); empty with
    ``hide`` = runs see no GPU; empty without ``hide`` = runs inherit the environment."""

    devices: tuple[str, ...] = ()
    runs_per_device: int = 1
    hide: bool = False
    detected: bool = False  # the devices were found, not given: more jobs than slots share them

    def __post_init__(self) -> None:
        if not isinstance(self.runs_per_device, int) or self.runs_per_device < 1:
            raise ConfigError(f"--runs-per-device must be a positive integer, got {self.runs_per_device!r}")
        if len(set(self.devices)) != len(self.devices):
            raise ConfigError(f"--devices lists a device twice: {','.join(self.devices)}")

    @property
    def slots(self) -> int | None:
        """Runs that may execute at once (None: no limit from devices)."""
        return len(self.devices) * self.runs_per_device if self.devices else None

    def for_jobs(self, requested: int | None) -> tuple["DevicePlan", int]:
        """The plan and the number of concurrent runs for ``--jobs requested`` (None: one per slot).

        Given devices refuse more jobs than slots; detected devices are shared by more runs instead."""
        if requested is not None and requested < 1:
            raise ConfigError(f"--jobs must be >= 1, got {requested}")
        if self.slots is None:
            return self, requested or 1
        if requested is None or requested <= self.slots:
            return self, requested or self.slots
        if self.detected:
            return replace(self, runs_per_device=-(-requested // len(self.devices))), requested
        raise ConfigError(f"--jobs {requested} exceeds the {self.slots} device slots ({len(self.devices)} "
                          f"device(s) × --runs-per-device {self.runs_per_device})")


def parse_devices(text: str | None, runs_per_device: int = 1, *,
                  environ: dict[str, str] | None = None) -> DevicePlan:
    """``"0,1,3"``, ``"none"``, or None (auto: the visible GPUs, see the module docstring)."""
    if text is not None and text.strip().lower() in NO_DEVICES:
        return DevicePlan((), runs_per_device, hide=True)
    if text is not None:
        devices = tuple(part.strip() for part in text.split(",") if part.strip())
        if not devices:
            raise ConfigError(f"--devices: no device ids in {text!r} (e.g. --devices 0,1 or --devices none)")
        return DevicePlan(devices, runs_per_device)
    return DevicePlan(visible_gpus(os.environ if environ is None else environ), runs_per_device, detected=True)


def visible_gpus(environ: dict[str, str]) -> tuple[str, ...]:
    """The driver's ``CUDA_VISIBLE_DEVICES`` entries when set, else the GPUs torch counts."""
    listed = environ.get("CUDA_VISIBLE_DEVICES")
    if listed is not None:
        return tuple(part.strip() for part in listed.split(",") if part.strip() and part.strip() != "-1")
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency
        return ()
    return tuple(str(i) for i in range(torch.cuda.device_count())) if torch.cuda.is_available() else ()


class DeviceSlots:
    """A thread-safe pool of the plan's slots; ``with slots.device() as env:`` gives a run's
    environment additions (``{}`` when devices are not managed)."""

    def __init__(self, plan: DevicePlan):
        self.plan = plan
        self._free: queue.Queue[str] = queue.Queue()
        for _ in range(plan.runs_per_device):  # round robin: GPU 0, 1, ..., then 0, 1, ... again
            for device in plan.devices:
                self._free.put(device)

    @contextmanager
    def device(self) -> Iterator[dict[str, str]]:
        if not self.plan.devices:
            yield {"CUDA_VISIBLE_DEVICES": ""} if self.plan.hide else {}
            return
        device = self._free.get()
        try:
            yield {"CUDA_VISIBLE_DEVICES": device}
        finally:
            self._free.put(device)


def gpu_env(gpu_ids: Sequence[object]) -> dict[str, str]:
    """The environment addition for a run that was given ``gpu_ids`` (e.g. by Ray): only those GPUs."""
    return {"CUDA_VISIBLE_DEVICES": ",".join(str(g) for g in gpu_ids)}
