"""The word-embedding gradient, accumulated in place into one persistent buffer.

A dense ``nn.Embedding`` backward allocates a zero ``[vocabulary, hidden]`` tensor and adds
the batch's rows into it — for multilingual-e5-small a 384 MB allocation, page faults and a
memset per forward pass, ~17% of a CPU step (docs/benchmarks.md) and more with every extra
forward pass (length buckets, GradCache sub-batches).  Here the embedding runs with
``sparse=True``, so its backward yields only the rows of the batch's tokens, and autograd
adds them in place into a dense ``.grad`` that stays allocated across steps.  The gradient
the optimizer and clipping see is the same dense tensor as before (same values up to float
summation order); only the rows that were touched are zeroed after the step.

CPU only: on a GPU the dense backward costs little (a cached allocation and a fast memset),
and the sparse path's ``index_add`` has no deterministic CUDA kernel.

The zeroing by rows relies on the embedding weight being used by the embedding lookup only;
the first `reset` checks that no other row is non-zero and falls back to zeroing the whole
buffer if one is (as it must under DDP, where other ranks' rows arrive in the all-reduce).
"""
from __future__ import annotations

import logging

import torch

from .modeling import hf_model

log = logging.getLogger(__name__)


class EmbeddingGradBuffer:
    """Attach with `attach`; call `reset` after each ``optimizer.zero_grad(set_to_none=True)``
    and `detach` when training ends."""

    def __init__(self, embedding: torch.nn.Embedding, *, zero_rows: bool = True):
        self.embedding = embedding
        self.grad = torch.zeros_like(embedding.weight)
        self.zero_rows = zero_rows
        self._checked = not zero_rows
        self._ids: list[torch.Tensor] = []
        self._was_sparse = embedding.sparse
        embedding.sparse = True
        self._hook = embedding.register_forward_pre_hook(self._record)
        embedding.weight.grad = self.grad

    @classmethod
    def attach(cls, module: torch.nn.Module, *, distributed: bool = False) -> "EmbeddingGradBuffer | None":
        """A buffer for the input embedding of ``module``'s transformer, or None when there is
        nothing to gain (not on a CPU, frozen or non-standard embedding)."""
        try:
            embedding = hf_model(module).get_input_embeddings()
        except Exception:  # noqa: BLE001 - no transformer or no input embedding: leave it dense
            return None
        if (type(embedding) is not torch.nn.Embedding or embedding.weight.device.type != "cpu"
                or not embedding.weight.requires_grad
                or embedding.sparse or embedding.max_norm is not None or embedding.weight.grad is not None):
            return None
        return cls(embedding, zero_rows=not distributed)

    def _record(self, module, args) -> None:
        if self.zero_rows and torch.is_grad_enabled():
            self._ids.append(args[0].detach().reshape(-1))

    def reset(self, *, full: bool = False) -> None:
        """Zero the buffer (the touched rows, or all of it) and make it the weight's ``.grad``."""
        ids = torch.cat(self._ids).unique() if self._ids else None
        self._ids = []
        if self.zero_rows and not self._checked and ids is not None:
            self._checked = True
            outside = torch.ones(self.grad.shape[0], dtype=torch.bool, device=self.grad.device)
            outside[ids] = False
            if bool(self.grad[outside].any()):
                log.warning("the word-embedding gradient has rows outside the batch's tokens (tied weights?): "
                            "zeroing all of it after every step")
                self.zero_rows = False
        if full or not self.zero_rows:
            self.grad.zero_()
        elif ids is not None:
            self.grad.index_fill_(0, ids, 0.0)
        self.embedding.weight.grad = self.grad

    def detach(self) -> None:
        """Back to a plain dense embedding without a gradient."""
        self._hook.remove()
        self.embedding.sparse = self._was_sparse
        if self.embedding.weight.grad is self.grad:
            self.embedding.weight.grad = None
