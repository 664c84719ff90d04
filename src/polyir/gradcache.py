"""Gradient caching: the gradient of a contrastive loss over a batch larger than fits in
memory, exactly (Gao et al. 2021, "Scaling Deep Contrastive Learning Batch Size under
Memory Limited Setup"; reference implementation luyug/GradCache).

1. encode every sub-batch without a graph, recording the RNG state before each;
2. compute the loss over all (detached) embeddings and backpropagate to the embeddings
   only — the "gradient cache";
3. re-encode each sub-batch with a graph, under its recorded RNG state (so dropout draws
   the same masks), and backpropagate the cached embedding gradient through it.

Peak activation memory is that of one sub-batch; the price is a second forward pass.
The varying parts are functions: ``encode_fn(sub_batch) -> [n, d]`` and
``loss_fn(*stream_embeddings) -> Tensor`` (or an object with a ``.loss`` tensor, such as
`polyir.losses.ContrastiveLossOutput`).  Inputs come as *streams* (e.g. queries,
passages, hard negatives), each a sequence of sub-batches whose embeddings are
concatenated in order before ``loss_fn`` sees them.  ``loss_fn`` may all-gather across
ranks (`polyir.distributed`); each rank then replays only its own sub-batches.
"""
from __future__ import annotations

from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any, Callable, ContextManager, Iterator, Sequence

import torch
from torch import Tensor

EncodeFn = Callable[[Any], Tensor]
LossFn = Callable[..., Any]


@dataclass(frozen=True)
class StepResult:
    """What ``loss_fn`` returned (computed on the full batch) and, for a cached step, the
    largest absolute difference between first-pass and replayed embeddings (should be ~0;
    a large value means the encoder is not replayable: unseeded randomness, batch norm)."""

    output: Any
    replay_error: Tensor | None = None

    @property
    def loss(self) -> Tensor:
        return _loss_tensor(self.output).detach()


@dataclass(frozen=True)
class RngState:
    """The CPU generator state and the states of the given CUDA devices."""

    cpu: Tensor
    cuda: tuple[tuple[int, Tensor], ...] = ()

    @classmethod
    def capture(cls, cuda_devices: Sequence[int] | None = None) -> "RngState":
        devices = _default_cuda_devices() if cuda_devices is None else tuple(cuda_devices)
        return cls(torch.get_rng_state(), tuple((d, torch.cuda.get_rng_state(d)) for d in devices))

    def restore(self) -> None:
        torch.set_rng_state(self.cpu)
        for device, state in self.cuda:
            torch.cuda.set_rng_state(state, device)

    @contextmanager
    def replay(self) -> Iterator[None]:
        """Run the block from this state, then put the generators back where they were, so
        a replay does not change the random numbers the rest of training draws."""
        current = RngState.capture([d for d, _ in self.cuda])
        self.restore()
        try:
            yield
        finally:
            current.restore()


def cached_step(encode_fn: EncodeFn, streams: Sequence[Sequence[Any]], loss_fn: LossFn, *,
                backward_scale: float = 1.0, no_sync: Callable[[], ContextManager] | None = None,
                cuda_devices: Sequence[int] | None = None) -> StepResult:
    """One GradCache step: accumulates into ``.grad`` the gradient of
    ``backward_scale * loss_fn(*embeddings)``, one sub-batch of activations at a time.

    An empty stream reaches ``loss_fn`` as None.  ``no_sync``: e.g. ``ddp_model.no_sync``,
    so that DDP all-reduces once (after the last sub-batch) instead of once per
    sub-batch — needed for speed, and for correctness when ranks hold different numbers of
    sub-batches.  ``cuda_devices``: whose RNG to replay (default: the current device when
    CUDA is in use).
    """
    chunks = [(s, chunk) for s, stream in enumerate(streams) for chunk in stream]
    states, embeddings = [], []
    with torch.no_grad():
        for _, chunk in chunks:
            states.append(RngState.capture(cuda_devices))
            embeddings.append(encode_fn(chunk))
    leaves = [_leaf(_concat([e for (s, _), e in zip(chunks, embeddings) if s == i])) for i in range(len(streams))]
    output = loss_fn(*leaves)
    (_loss_tensor(output) * backward_scale).backward()
    grads = _split_grads(leaves, chunks, embeddings)
    replay_error = torch.zeros((), device=embeddings[0].device if embeddings else None)
    for index, ((_, chunk), state, cached, grad) in enumerate(zip(chunks, states, embeddings, grads)):
        sync = no_sync() if (no_sync is not None and index < len(chunks) - 1) else nullcontext()
        with sync:
            with state.replay():
                replayed = encode_fn(chunk)
            replay_error = torch.maximum(replay_error, (replayed.detach() - cached).abs().max())
            replayed.backward(grad.to(replayed.dtype))
    return StepResult(output, replay_error)


def direct_step(encode_fn: EncodeFn, streams: Sequence[Sequence[Any]], loss_fn: LossFn, *,
                backward_scale: float = 1.0) -> StepResult:
    """The same step without caching: every sub-batch keeps its graph until one backward.
    Same gradients as `cached_step` (same sub-batches, same RNG), one forward pass, all
    activations in memory at once."""
    chunks = [(s, chunk) for s, stream in enumerate(streams) for chunk in stream]
    embeddings = [(s, encode_fn(chunk)) for s, chunk in chunks]
    per_stream = [_concat([e for s, e in embeddings if s == i]) for i in range(len(streams))]
    output = loss_fn(*[None if e is None else _loss_dtype(e) for e in per_stream])
    (_loss_tensor(output) * backward_scale).backward()
    return StepResult(output)


def _default_cuda_devices() -> tuple[int, ...]:
    # only the current device: touching every visible GPU would create a context on each
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        return (torch.cuda.current_device(),)
    return ()


def _concat(parts: list[Tensor]) -> Tensor | None:
    return torch.cat(parts) if parts else None


def _loss_dtype(t: Tensor) -> Tensor:
    # the loss sees at least float32: embedding gradients of a 0.05-temperature loss lose
    # most of their bits in bfloat16
    return t.float() if t.dtype in (torch.float16, torch.bfloat16) else t


def _leaf(t: Tensor | None) -> Tensor | None:
    return None if t is None else _loss_dtype(t.detach()).requires_grad_()


def _loss_tensor(output: Any) -> Tensor:
    return output if isinstance(output, Tensor) else output.loss


def _split_grads(leaves: list[Tensor | None], chunks: list[tuple[int, Any]],
                 embeddings: list[Tensor]) -> list[Tensor]:
    """The cached gradient of each sub-batch, in chunk order (zeros where the loss does
    not depend on a stream, so that every rank still runs the same backward passes)."""
    sizes: dict[int, list[int]] = {}
    for (s, _), e in zip(chunks, embeddings):
        sizes.setdefault(s, []).append(e.shape[0])
    pieces = {s: list((leaves[s].grad if leaves[s].grad is not None else torch.zeros_like(leaves[s]))
                      .split(sizes[s])) for s in sizes}
    return [pieces[s].pop(0) for s, _ in chunks]
