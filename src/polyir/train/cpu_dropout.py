"""Dropout for CPU training whose random numbers cost ~1 ns per element instead of ~9.

torch draws a CPU dropout mask with ``bernoulli_`` from its Mersenne-Twister generator, one
element after the other on one core: for multilingual-e5-small at batch 32 and lengths 32/64
that is ~52M draws and ~0.45 s per step, the same with one thread or two, so it is ~15% of an
fp32 step and ~25% of a bf16 step on two cores (docs/benchmarks.md, "Where a bf16 step goes").
Here the mask is a counter-based hash (splitmix64) of a 64-bit seed and the element index,
computed by a compiled loop; the seed of every call is drawn from torch's default generator,
so masks remain a function of (run seed, step, rank) through `polyir.train.setup.seed_step`
and are replayed exactly by GradCache, which restores that generator's state.

`install(module)` replaces every ``nn.Dropout`` of a model with `CPUDropout` (the same
probabilities) and routes a Hugging Face encoder's attention through `attention`, which
computes attention with this dropout while training on a CPU and hands everything else
(evaluation, GPUs, causal or grouped-query attention) to transformers' own SDPA function.
Same expectation as torch's dropout (keep probability 1 - p, kept values scaled by 1/(1 - p));
other random numbers, so a run with it is not bitwise the run without it.
"""
from __future__ import annotations

import logging

import numpy as np
import torch
from numba import njit

log = logging.getLogger(__name__)

ATTENTION_NAME = "polyir_cpu_sdpa"
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


@njit(cache=True, nogil=True)
def _keep(out, seed, threshold):  # pragma: no cover - compiled
    """``out[i] = splitmix64(seed + (i + 1) * golden) >> 40 >= threshold`` (24-bit uniforms)."""
    state = np.uint64(seed)
    for i in range(out.shape[0]):
        state += _GOLDEN
        z = state
        z = (z ^ (z >> np.uint64(30))) * _MIX1
        z = (z ^ (z >> np.uint64(27))) * _MIX2
        z = z ^ (z >> np.uint64(31))
        out[i] = (z >> np.uint64(40)) >= threshold


def keep_mask(shape: torch.Size, p: float, seed: int) -> torch.Tensor:
    """A boolean mask of ``shape``: each element kept with probability ``1 - p`` (to 2^-24)."""
    out = np.empty(int(np.prod(shape, dtype=np.int64)), dtype=np.bool_)
    _keep(out, np.uint64(seed), np.uint64(round(p * (1 << 24))))
    return torch.from_numpy(out).view(shape)


def draw_seed() -> int:
    """One 63-bit seed from torch's default CPU generator (what `seed_step` seeds)."""
    return int(torch.empty((), dtype=torch.int64).random_())


class _Dropout(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, p, seed):  # noqa: D102
        keep = keep_mask(x.shape, p, seed)
        ctx.save_for_backward(keep)
        ctx.scale = 1.0 / (1.0 - p)
        return x.mul(keep).mul_(ctx.scale)

    @staticmethod
    def backward(ctx, grad):  # noqa: D102
        (keep,) = ctx.saved_tensors
        return grad.mul(keep).mul_(ctx.scale), None, None


def fast_dropout(x: torch.Tensor, p: float, training: bool = True) -> torch.Tensor:
    """`torch.nn.functional.dropout` with the fast mask on a CPU tensor (torch's elsewhere)."""
    if not training or p == 0.0 or x.device.type != "cpu":
        return torch.nn.functional.dropout(x, p, training)
    if p >= 1.0:
        return x * 0.0
    return _Dropout.apply(x, float(p), draw_seed())


class CPUDropout(torch.nn.Dropout):
    """``nn.Dropout`` with the fast mask on CPU tensors (a subclass: ``.p`` and ``inplace`` as before)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # noqa: D102
        return fast_dropout(x, self.p, self.training)


def attention(module, query, key, value, attention_mask, dropout: float = 0.0, scaling=None, is_causal=None,
              **kwargs):
    """transformers' attention-function signature: scaled dot-product attention whose
    probabilities go through the fast dropout (training on a CPU); transformers' SDPA otherwise."""
    from transformers.integrations.sdpa_attention import sdpa_attention_forward

    grouped = getattr(module, "num_key_value_groups", 1) > 1
    if (not module.training or not dropout or query.device.type != "cpu" or is_causal or grouped
            or kwargs.get("position_bias") is not None or kwargs.get("softcap") is not None):
        return sdpa_attention_forward(module, query, key, value, attention_mask, dropout=dropout, scaling=scaling,
                                      is_causal=is_causal, **kwargs)
    scaling = query.size(-1) ** -0.5 if scaling is None else scaling
    scores = torch.matmul(query, key.transpose(2, 3)) * scaling
    if attention_mask is not None:
        if attention_mask.dtype == torch.bool:
            scores = scores.masked_fill(~attention_mask, torch.finfo(scores.dtype).min)
        else:
            scores = scores + attention_mask
    probs = fast_dropout(torch.softmax(scores, dim=-1), dropout)
    return torch.matmul(probs, value).transpose(1, 2).contiguous(), None


def install(module: torch.nn.Module) -> int:
    """Use `CPUDropout` for every ``nn.Dropout`` of ``module`` and `attention` for its Hugging
    Face encoders; returns how many dropout modules were replaced.  An encoder whose
    transformers version has no attention-function registry keeps its own attention (with
    torch's dropout inside); that is logged."""
    replaced = 0
    for parent in module.modules():
        for name, child in parent.named_children():
            if type(child) is torch.nn.Dropout:
                setattr(parent, name, CPUDropout(child.p, child.inplace))
                replaced += 1
    for sub in module.modules():
        config = getattr(sub, "config", None)
        if getattr(config, "_attn_implementation", None) == "sdpa" and _register():
            config._attn_implementation = ATTENTION_NAME
    return replaced


def _register() -> bool:
    try:
        from transformers.masking_utils import ALL_MASK_ATTENTION_FUNCTIONS, sdpa_mask
        from transformers.modeling_utils import AttentionInterface
    except ImportError as err:  # transformers without the registries (< 4.53)
        log.info("transformers has no attention registry (%s): attention keeps torch's dropout", err)
        return False
    AttentionInterface.register(ATTENTION_NAME, attention)
    ALL_MASK_ATTENTION_FUNCTIONS.register(ATTENTION_NAME, sdpa_mask)
    return True
