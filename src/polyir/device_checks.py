"""Device settings (``auto``, ``cpu``, ``cuda``, ``cuda:N``, ``mps``): resolved and checked up front;
and the inference precisions an encoder runs in (`PRECISIONS`).

A setting the machine cannot honour is a `ConfigError` naming the setting (``runtime.device``,
``--device``) before anything is loaded: no CUDA for ``cuda``, a GPU index that is not
visible, more processes on a node than visible GPUs, no NCCL for a multi-GPU run.  For
several processes the rule is one GPU per process, ``cuda:LOCAL_RANK``, with NCCL; on CPUs
every process uses Gloo.
"""
from __future__ import annotations

from dataclasses import dataclass

from .errors import ConfigError

PRECISIONS = ("fp32", "bf16", "fp16")  # inference: fp32 as the weights are; bf16 / fp16: torch.autocast


@dataclass(frozen=True)
class ProcessDevice:
    """Where this process computes and which collective backend it joins (None: single process)."""

    device: str
    backend: str | None = None


def _cuda_count() -> int:
    """Visible GPUs: 0 without CUDA, at least 1 with it."""
    import torch

    return max(1, torch.cuda.device_count()) if torch.cuda.is_available() else 0


def _no_cuda(setting: str, device: str) -> ConfigError:
    import torch

    build = f"torch {torch.__version__}" + ("" if torch.version.cuda else " is built without CUDA")
    return ConfigError(f"{setting} is {device!r} but CUDA is not available ({build}, no GPU visible); "
                       f"use {setting} auto or cpu")


def _mps_available() -> bool:
    import torch

    mps = getattr(torch.backends, "mps", None)
    return mps is not None and mps.is_available()


def single_process_device(device: str, setting: str = "device", *, use_mps: bool = True) -> str:
    """``auto`` -> ``cuda`` when available, else ``mps`` (Apple; only with ``use_mps``), else
    ``cpu``; other values are checked against the machine."""
    count = _cuda_count()
    if device == "auto":
        return "cuda" if count else ("mps" if use_mps and _mps_available() else "cpu")
    if device == "cpu":
        return device
    if device.startswith("cuda"):
        if not count:
            raise _no_cuda(setting, device)
        index = _cuda_index(device, setting)
        if index is not None and index >= count:
            raise ConfigError(f"{setting} is {device!r} but only {count} GPU(s) are visible (cuda:0 to "
                              f"cuda:{count - 1}; CUDA_VISIBLE_DEVICES may hide others)")
        return device
    if device == "mps":
        if not _mps_available():
            raise ConfigError(f"{setting} is 'mps' but the MPS backend is not available on this machine")
        return device
    raise ConfigError(f"{setting} must be auto, cpu, cuda, cuda:N or mps, got {device!r}")


def distributed_plan(device: str, world_size: int, local_rank: int, setting: str = "runtime.device") -> ProcessDevice:
    """The device and backend of process ``local_rank`` of ``world_size``: one GPU each with NCCL,
    or Gloo on CPUs (``cpu``, or ``auto`` without CUDA)."""
    import torch.distributed as dist

    count = _cuda_count()
    if device == "cpu" or (device == "auto" and not count):
        return ProcessDevice("cpu", "gloo")
    if device == "mps":
        raise ConfigError(f"{setting} is 'mps': several processes need cuda (NCCL) or cpu (Gloo)")
    if device.startswith("cuda") and not count:
        raise _no_cuda(setting, device)
    if not device.startswith("cuda") and device != "auto":
        raise ConfigError(f"{setting} must be auto, cpu or cuda with several processes, got {device!r}")
    if _cuda_index(device, setting) is not None:
        raise ConfigError(f"{setting} is {device!r} for {world_size} processes: each process takes its own "
                          f"GPU (cuda:LOCAL_RANK); use {setting} cuda")
    if local_rank >= count:
        raise ConfigError(f"{setting} is {device!r} with {world_size} processes, but process LOCAL_RANK={local_rank} "
                          f"has no GPU of its own: only {count} visible on this node; launch at most {count} "
                          f"per node (torchrun --nproc-per-node {count}) or set {setting} cpu")
    if not dist.is_nccl_available():
        raise ConfigError(f"{setting} is {device!r} with {world_size} processes, which needs NCCL, and this torch "
                          f"build has no NCCL (torch.distributed.is_nccl_available() is False); "
                          f"set {setting} cpu to use Gloo")
    return ProcessDevice(f"cuda:{local_rank}", "nccl")


def _cuda_index(device: str, setting: str) -> int | None:
    _, _, index = device.partition(":")
    if not index:
        return None
    if not index.isdigit():
        raise ConfigError(f"{setting}: bad CUDA device {device!r} (expected cuda or cuda:N)")
    return int(index)
