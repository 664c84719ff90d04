"""AdamW with decoupled weight decay except on biases and normalisation weights, and the
learning-rate schedule (linear warmup, then linear / cosine decay to 0, or constant).

Excluding biases and LayerNorm weights from weight decay is the BERT fine-tuning
convention (Hugging Face Trainer, sentence-transformers): decaying a LayerNorm gain
towards 0 shrinks activations instead of regularising.  The paper gives AdamW,
lr 3e-5 and weight decay 0.01 and is silent on the rest.

The update runs as one fused kernel over all tensors where torch has one (CUDA, and CPU
since torch 2.4): the same AdamW arithmetic, without a Python loop over parameters.
"""
from __future__ import annotations

import logging
import math

import torch

from .train_config import OptimConfig

log = logging.getLogger(__name__)


def is_norm(module: torch.nn.Module) -> bool:
    return isinstance(module, (torch.nn.LayerNorm, torch.nn.GroupNorm)) or "Norm" in type(module).__name__


def parameter_groups(model: torch.nn.Module, weight_decay: float) -> list[dict]:
    """Two groups: decayed weights, and biases + normalisation weights (no decay).  Frozen
    parameters are left out.  Order follows ``named_parameters`` (a checkpoint's optimizer
    state matches it)."""
    no_decay_ids = set()
    for module in model.modules():
        for name, param in module.named_parameters(recurse=False):
            if name.endswith("bias") or is_norm(module):
                no_decay_ids.add(id(param))
    decay, plain = [], []
    for _, param in model.named_parameters():
        if param.requires_grad:
            (plain if id(param) in no_decay_ids else decay).append(param)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": plain, "weight_decay": 0.0}]


def build_optimizer(model: torch.nn.Module, config: OptimConfig) -> torch.optim.AdamW:
    groups = parameter_groups(model, config.weight_decay)
    kwargs = dict(lr=config.lr, betas=tuple(config.betas), eps=config.eps)
    try:
        return torch.optim.AdamW(groups, fused=True, **kwargs)
    except (RuntimeError, ValueError) as err:  # no fused kernel for this device / dtype
        log.debug("fused AdamW unavailable (%s); using the foreach implementation", err)
        return torch.optim.AdamW(groups, foreach=True, **kwargs)


def warmup_steps(config: OptimConfig, total_steps: int) -> int:
    if config.warmup_steps is not None:
        return min(config.warmup_steps, total_steps)
    return int(round(config.warmup_ratio * total_steps))


def lr_factor(step: int, *, warmup: int, total: int, schedule: str) -> float:
    """Multiplier of the base lr for optimizer step ``step`` (0-based); the formulas of
    transformers' ``get_{linear,cosine,constant}_schedule_with_warmup``."""
    if step < warmup:
        return step / max(1, warmup)
    if schedule == "constant":
        return 1.0
    progress = (step - warmup) / max(1, total - warmup)
    if schedule == "cosine":
        return max(0.0, 0.5 * (1.0 + math.cos(math.pi * progress)))
    return max(0.0, 1.0 - progress)


def build_scheduler(optimizer: torch.optim.Optimizer, config: OptimConfig,
                    total_steps: int) -> torch.optim.lr_scheduler.LambdaLR:
    warmup = warmup_steps(config, total_steps)
    schedule = config.schedule
    return torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: lr_factor(step, warmup=warmup, total=total_steps, schedule=schedule))
