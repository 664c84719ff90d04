"""Ranks, devices and collectives: the only module of polyir that knows about them.

Launch with ``torchrun`` or ``accelerate launch`` (both set RANK, WORLD_SIZE, LOCAL_RANK,
MASTER_ADDR and MASTER_PORT); `init_distributed` joins the process group with plain
``torch.distributed`` (NCCL on GPUs, Gloo on CPUs).  Without those variables everything
here is the identity: one process, rank 0, no communication.

Loss scaling (docs/training.md has the derivation).  Every rank gathers the embeddings of
the global batch with `all_gather_with_grad` — the other ranks' rows are constants, its
own rows keep their graph — and computes the *same* global loss ``L``.  The gradient
reaching rank ``r``'s parameters is therefore ``dL/de_r · de_r/dθ``: exactly rank ``r``'s
share of the full gradient ``Σ_r dL/de_r · de_r/dθ``.  DDP *averages* gradients over
``W`` ranks, so backpropagating ``W · L`` (`DistContext.loss_scale`) makes the averaged
gradient equal the single-process full-batch gradient.
"""
from __future__ import annotations

import datetime
import os
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist
from torch import Tensor

from .device_checks import distributed_plan, single_process_device
from .errors import ConfigError

LAUNCH_VARIABLES = ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")


@dataclass(frozen=True)
class DistContext:
    """Where this process stands: rank, world size, and the device it computes on."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def is_distributed(self) -> bool:
        return self.world_size > 1

    @property
    def loss_scale(self) -> float:
        """Multiply the global loss by this before ``backward`` so that DDP's gradient
        average equals the single-process gradient (see the module docstring)."""
        return float(self.world_size)

    def all_gather_with_grad(self, tensor: Tensor) -> Tensor:
        return all_gather_with_grad(tensor)

    def all_gather(self, tensor: Tensor) -> Tensor:
        return all_gather(tensor)

    def all_reduce_mean(self, tensor: Tensor) -> Tensor:
        return all_reduce_mean(tensor)

    def barrier(self) -> None:
        barrier()

    def broadcast_object(self, obj: Any, src: int = 0) -> Any:
        return broadcast_object(obj, src)


def init_distributed(backend: str | None = None, device: str | torch.device | None = None,
                     timeout_s: float = 1800.0, setting: str = "runtime.device") -> DistContext:
    """Join the process group described by the launcher's environment variables (or reuse
    one that is already initialised); single-process when WORLD_SIZE is unset or 1.

    ``device`` (``None`` = ``auto``) is checked against the machine first (`polyir.device_checks`;
    a `ConfigError` naming ``setting`` before anything is loaded or joined): with several
    processes each takes ``cuda:LOCAL_RANK`` and NCCL when CUDA is there (``auto``/``cuda``),
    else the CPU and Gloo; a single process uses CUDA when available.  ``backend`` overrides
    the collective backend.
    """
    device = str(device) if device is not None else "auto"
    if _initialized():
        return _context(int(os.environ.get("LOCAL_RANK", dist.get_rank())), backend,
                        None if device == "auto" else device)
    world_size = _env_int("WORLD_SIZE", 1)
    if world_size <= 1:
        return DistContext(device=torch.device(single_process_device(device, setting, use_mps=False)))
    missing = [v for v in LAUNCH_VARIABLES if v not in os.environ]
    if missing:
        raise ConfigError(f"WORLD_SIZE={world_size} but {', '.join(missing)} not set; "
                          "launch with torchrun or accelerate launch")
    local_rank = _env_int("LOCAL_RANK", _env_int("RANK", 0))
    plan = distributed_plan(device, world_size, local_rank, setting)
    backend = backend or plan.backend
    if backend == "nccl":
        torch.cuda.set_device(torch.device(plan.device))
    dist.init_process_group(backend=backend, init_method="env://",
                            timeout=datetime.timedelta(seconds=timeout_s))
    return DistContext(rank=dist.get_rank(), world_size=dist.get_world_size(), local_rank=local_rank,
                       device=torch.device(plan.device))


def destroy_distributed() -> None:
    """Leave the process group (no-op when single-process)."""
    if _initialized():
        dist.destroy_process_group()


def all_gather(tensor: Tensor) -> Tensor:
    """The ranks' tensors concatenated along dim 0 in rank order, without gradient.
    First dimensions may differ between ranks; the other dimensions must agree."""
    if not _initialized():
        return tensor
    return torch.cat(_gather_parts(tensor.detach()))


def all_gather_with_grad(tensor: Tensor) -> Tensor:
    """Like `all_gather`, but the rows of this rank are ``tensor`` itself, so the gradient
    of a loss over the gathered batch flows back into this rank's computation; the other
    ranks' rows are constants here (their own ranks backpropagate through them)."""
    if not _initialized():
        return tensor
    parts = _gather_parts(tensor.detach())
    parts[dist.get_rank()] = tensor
    return torch.cat(parts)


def all_reduce_mean(tensor: Tensor) -> Tensor:
    """Mean over ranks (a new tensor; for logging metrics that differ per rank)."""
    if not _initialized():
        return tensor.detach().clone()
    out = tensor.detach().clone()
    dist.all_reduce(out, op=dist.ReduceOp.SUM)
    return out / dist.get_world_size()


def barrier() -> None:
    if not _initialized():
        return
    if dist.get_backend() == "nccl":
        dist.barrier(device_ids=[torch.cuda.current_device()])
    else:
        dist.barrier()


def broadcast_object(obj: Any, src: int = 0) -> Any:
    """``obj`` as held by rank ``src`` (any picklable object), on every rank."""
    if not _initialized():
        return obj
    holder = [obj]
    dist.broadcast_object_list(holder, src=src, device=_collective_device())
    return holder[0]


def _gather_parts(tensor: Tensor) -> list[Tensor]:
    world_size = dist.get_world_size()
    size = torch.tensor([tensor.shape[0]], dtype=torch.long, device=tensor.device)
    sizes = [torch.empty_like(size) for _ in range(world_size)]
    dist.all_gather(sizes, size)
    counts = torch.cat(sizes).tolist()  # one device sync
    longest = max(counts)
    padded = tensor
    if tensor.shape[0] < longest:  # all_gather needs equal shapes: pad, then cut back
        padded = torch.cat([tensor, tensor.new_zeros((longest - tensor.shape[0], *tensor.shape[1:]))])
    buffers = [torch.empty_like(padded) for _ in range(world_size)]
    dist.all_gather(buffers, padded.contiguous())
    return [b[:n] for b, n in zip(buffers, counts)]


def _initialized() -> bool:
    return dist.is_available() and dist.is_initialized()


def _context(local_rank: int, backend: str | None, device: str | torch.device | None) -> DistContext:
    if device is None:
        on_gpu = (backend or dist.get_backend()) == "nccl"
        device = torch.device("cuda", local_rank) if on_gpu else torch.device("cpu")
    return DistContext(rank=dist.get_rank(), world_size=dist.get_world_size(), local_rank=local_rank,
                       device=torch.device(device))


def _collective_device() -> torch.device:
    return torch.device("cuda", torch.cuda.current_device()) if dist.get_backend() == "nccl" else torch.device("cpu")


def launched_rank() -> int:
    """This process's rank as the launcher (torchrun, accelerate launch) set it; 0 without one."""
    return _env_int("RANK", 0)


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ConfigError(f"environment variable {name}={value!r} is not an integer") from None
