"""Setting up a run: process-wide settings, the sampler, the model wrapper, per-step seeding."""
from __future__ import annotations

import contextlib
import inspect
import logging
import os
import random
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import torch

from ..distributed import DistContext
from ..errors import ConfigError
from ..sampling import BatchSampler, SamplerConfig, build_sampler
from .buckets import default_overhead
from .collate import Bucketing, SubBatch
from .train_config import TrainConfig, pair_budget_steps
from .cpu_dropout import install as install_cpu_dropout
from ..encode_loop import TOKENIZE_CHUNK, tokenizer_threads
from ..featurize import Featurizer
from .modeling import freeze_unused_parameters, hf_model

log = logging.getLogger(__name__)


def set_runtime(config: TrainConfig) -> None:
    if config.runtime.threads:
        torch.set_num_threads(config.runtime.threads)
    if config.runtime.deterministic:
        deterministic_mode()
    random.seed(config.seed)
    np.random.seed(config.seed)
    torch.manual_seed(config.seed)


def deterministic_mode() -> None:
    """Bitwise-reproducible GPU kernels (docs/training.md, "Reproducibility on a GPU").

    torch's deterministic algorithms (an operation without one is an error, not a silent
    difference), cuDNN without autotuning, and cuBLAS's fixed-size workspace: cuBLAS reads
    ``CUBLAS_WORKSPACE_CONFIG`` when it starts, so it is set here, before the model first
    touches the GPU (a value already in the environment is kept).
    """
    workspace = os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    if workspace not in (":4096:8", ":16:8"):
        raise ConfigError(f"runtime.deterministic needs CUBLAS_WORKSPACE_CONFIG=:4096:8 or :16:8, got {workspace!r}")
    torch.use_deterministic_algorithms(True)
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False


def make_sampler(config: TrainConfig, index, ctx: DistContext) -> tuple[BatchSampler, int]:
    """The run's sampler and its length in steps: ``optim.steps``, the pair budget, or epochs of the sampler."""
    if config.sampler.batch_size % ctx.world_size:
        raise ConfigError(f"sampler.batch_size {config.sampler.batch_size} is not divisible by the "
                          f"{ctx.world_size} processes")
    sampler_config = config.seeded_sampler
    check_cross_lingual_data(sampler_config, index)
    fixed = config.optim.steps or pair_budget_steps(config.optim.pairs, config.sampler.batch_size)
    sampler = build_sampler(sampler_config, index, total_steps=fixed, epochs=None if fixed else config.optim.epochs)
    return sampler, sampler.total_steps


def check_cross_lingual_data(config: SamplerConfig, index) -> None:
    """Cross-lingual items need groups in two or more languages.  With none at all, every such
    item would silently fall back to a monolingual pair (an X-X-mono run under another name):
    refuse.  Data sets whose groups all have one language only make their share fall back: say so."""
    alphas = [config.mono_probability] + ([config.alpha_end] if config.alpha_end is not None else [])
    wants_cross = min(alphas) < 1.0
    if not wants_cross:
        return
    sizes = np.diff(index.group_offsets)
    if index.max_group_size < 2:
        raise ConfigError(f"sampler.strategy {config.strategy!r} draws cross-lingual pairs, but no training group "
                          f"has more than one language ({len(index.languages)} language(s): "
                          f"{', '.join(index.languages)}); give parallel data (the same id in several languages) "
                          "or use --strategy mono")
    single = [name for d, name in enumerate(index.datasets) if sizes[index.groups_of(d)].max(initial=0) < 2]
    if single:
        log.warning("data set(s) %s have one language per group: their cross-lingual items are monolingual "
                    "pairs (share_items_fallback in summary.json)", ", ".join(single))


def global_batches(sampler: BatchSampler) -> Iterator:
    while True:  # one epoch after the other; the sampler moves to the next epoch itself
        yield from sampler


def seed_step(seed: int, step: int, rank: int) -> None:
    """Seed the generators dropout draws from.  Not `torch.manual_seed`, which also queues a
    seeding of every accelerator type with a captured stack trace (0.5 ms per call)."""
    value = int(np.random.SeedSequence([seed, step, rank]).generate_state(1, np.uint64)[0])
    torch.default_generator.manual_seed(value)
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        torch.cuda.manual_seed(value)  # the current device


def tokenize_upfront(featurizer: Featurizer, pairs, *, with_negatives: bool) -> None:
    """Every training text tokenised once, before the first step, in several threads as encoding
    does (`polyir.encode_loop.tokenizer_threads`: the ids do not depend on it)."""
    started = time.perf_counter()
    queries = [p.query for p in pairs]
    count = featurizer.warm(queries, "query", chunk=TOKENIZE_CHUNK, workers=tokenizer_threads(len(queries)))
    passages = [p.positive for p in pairs] + ([n for p in pairs for n in p.negatives] if with_negatives else [])
    count += featurizer.warm(passages, "passage", chunk=TOKENIZE_CHUNK, workers=tokenizer_threads(len(passages)))
    log.info("tokenised %d distinct texts in %.1f s", count, time.perf_counter() - started)


# CPU flags of native bf16 dot products: without them bf16 autocast is emulated and slower than fp32
CPU_BF16_FLAGS = ("avx512_bf16", "amx_bf16")


def cpu_has_native_bf16(cpuinfo: str | None = None) -> bool:
    """Whether this CPU multiplies bf16 natively (AVX512-BF16 or AMX), read from the flags of
    ``/proc/cpuinfo`` (Linux; elsewhere: no)."""
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return False
    for line in cpuinfo.splitlines():
        name, _, value = line.partition(":")
        if name.strip() == "flags":
            return not set(CPU_BF16_FLAGS).isdisjoint(value.split())
    return False


def training_precision(precision: str, device: torch.device) -> str:
    """What ``runtime.precision`` means on ``device``: ``auto`` is bf16 autocast on a GPU that
    supports it and on a CPU with native bf16 (1.7x the pairs per CPU-second there, metrics within
    0.0003 of fp32: docs/training.md), else fp32."""
    if precision != "auto":
        return precision
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp32"
    return "bf16" if device.type == "cpu" and cpu_has_native_bf16() else "fp32"


def encoder(model: torch.nn.Module, device: torch.device, precision: str) -> Callable[[SubBatch], Any]:
    use_bf16 = training_precision(precision, device) == "bf16"
    autocast = (lambda: torch.autocast(device.type, dtype=torch.bfloat16)) if use_bf16 else contextlib.nullcontext

    def encode(batch: SubBatch):
        with autocast():
            # a sentence-transformers model writes into the dict it is given: pass a copy
            return model(dict(batch.features), task=batch.task)["sentence_embedding"]

    return encode


def wrap(module: torch.nn.Module, ctx: DistContext) -> torch.nn.Module:
    if not ctx.is_distributed:
        return module
    device_ids = [ctx.device.index] if ctx.device.type == "cuda" else None
    # no buffer broadcast: transformer buffers (position ids) are constants, and a broadcast on
    # every forward would deadlock when ranks make different numbers of forward passes
    # (sub-batches differ with the slice's text lengths and hard negatives)
    ddp = torch.nn.parallel.DistributedDataParallel
    no_sync = ({"forward_sync_buffers": False} if "forward_sync_buffers" in inspect.signature(ddp).parameters
               else {"broadcast_buffers": False})
    return ddp(module, device_ids=device_ids, **no_sync)


def freeze_unused(module, featurizer: Featurizer, pair, device) -> None:
    from sentence_transformers.util import batch_to_device

    features = batch_to_device(featurizer.features([pair.query], "query"), device)
    freeze_unused_parameters(module, features, featurizer.task("query"))


def fast_dropout(config: TrainConfig, module: torch.nn.Module, device: torch.device) -> None:
    """The counter-based dropout of `polyir.train.cpu_dropout` where it pays: ``auto`` = CPU training."""
    setting = config.runtime.fast_dropout
    if setting is True or (setting == "auto" and device.type == "cpu"):
        replaced = install_cpu_dropout(module)
        log.info("fast CPU dropout: %d dropout modules replaced", replaced)


def bucketing(config: TrainConfig, module: torch.nn.Module, device: torch.device) -> Bucketing:
    """Length buckets as configured: ``auto`` turns them on for CPU training, where their
    cost model was measured (docs/benchmarks.md); the pass overhead defaults to
    ``32768 / hidden size`` tokens."""
    setting = config.runtime.length_buckets
    if setting is False or (setting == "auto" and device.type != "cpu"):
        return Bucketing(None)
    overhead = config.runtime.bucket_overhead
    return Bucketing(float(overhead if overhead is not None else default_overhead(_hidden_size(module))))


def _hidden_size(module: torch.nn.Module) -> int | None:
    try:
        return int(hf_model(module).config.hidden_size)
    except Exception:  # noqa: BLE001 - not a transformer with a config: the embedding dimension
        return getattr(module, "get_sentence_embedding_dimension", lambda: None)()
