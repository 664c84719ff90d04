"""GradCache gives the gradients of the uncached step, dropout included."""
from __future__ import annotations

from contextlib import contextmanager

import pytest
import torch

from polyir import gradcache
from polyir.gradcache import RngState, cached_step, direct_step
from polyir.losses import InfoNCE


class TinyEncoder(torch.nn.Module):
    """A small encoder with dropout, so that a wrong RNG replay changes the gradient."""

    def __init__(self, dim_in=7, dim_out=5, dropout=0.3):
        super().__init__()
        self.body = torch.nn.Sequential(torch.nn.Linear(dim_in, 16), torch.nn.Tanh(), torch.nn.Dropout(dropout),
                                        torch.nn.Linear(16, dim_out))

    def forward(self, x):
        return torch.nn.functional.normalize(self.body(x), dim=-1)


def make_batch(n=8, k=1, dim_in=7, dtype=torch.float64, device="cpu"):
    gen = torch.Generator().manual_seed(42)
    q, p, negs = (torch.randn(m, dim_in, generator=gen, dtype=dtype).to(device) for m in (n, n, n * k))
    groups = torch.tensor([0, 1, 2, 0, 3, 4, 1, 5][:n], device=device)
    return q, p, negs, groups


def chunked(x, size):
    return list(x.split(size))


def grads_of(model):
    grads = {name: p.grad.detach().clone() for name, p in model.named_parameters() if p.grad is not None}
    assert len(grads) >= 2
    return grads


def naive_reference(model, encode, streams, loss_fn, seed):
    """Uncached: every sub-batch encoded with its graph, in the same order, one backward."""
    model.zero_grad()
    torch.manual_seed(seed)
    embeddings = [torch.cat([encode(c) for c in stream]) for stream in streams]
    loss = loss_fn(*embeddings).loss
    loss.backward()
    return loss.item(), grads_of(model)


def run_cached(model, encode, streams, loss_fn, seed, **kwargs):
    model.zero_grad()
    torch.manual_seed(seed)
    result = cached_step(encode, streams, loss_fn, **kwargs)
    return result, grads_of(model)


def assert_grads_close(a, b, tol):
    assert a.keys() == b.keys()
    for name in a:
        assert torch.allclose(a[name], b[name], atol=tol, rtol=0), (name, (a[name] - b[name]).abs().max())


@pytest.mark.parametrize("chunk", [1, 3, 8])
def test_cached_equals_uncached_with_dropout(chunk):
    torch.manual_seed(0)
    model = TinyEncoder().double().train()
    q, p, negs, groups = make_batch()
    loss = InfoNCE(temperature=0.1, symmetric_weight=0.5)
    loss_fn = lambda qe, pe, ne: loss(qe, pe, groups, ne)  # noqa: E731
    streams = [chunked(q, chunk), chunked(p, chunk), chunked(negs, chunk)]
    ref_loss, ref_grads = naive_reference(model, model, streams, loss_fn, seed=7)
    result, grads = run_cached(model, model, streams, loss_fn, seed=7)
    assert result.loss.item() == pytest.approx(ref_loss, rel=1e-12)
    assert result.replay_error.item() < 1e-12
    assert_grads_close(grads, ref_grads, 1e-10)


def test_replay_matters_when_dropout_is_on(monkeypatch):
    """Without restoring the RNG the second pass draws new dropout masks: the test above
    would fail, and `replay_error` says so."""
    torch.manual_seed(0)
    model = TinyEncoder().double().train()
    q, p, negs, groups = make_batch()
    loss_fn = lambda qe, pe, ne: InfoNCE()(qe, pe, groups, ne)  # noqa: E731
    streams = [chunked(q, 3), chunked(p, 3), chunked(negs, 3)]
    _, ref_grads = naive_reference(model, model, streams, loss_fn, seed=7)

    @contextmanager
    def no_replay(self):
        yield

    monkeypatch.setattr(RngState, "replay", no_replay)
    result, grads = run_cached(model, model, streams, loss_fn, seed=7)
    assert result.replay_error.item() > 1e-3
    assert max((grads[n] - ref_grads[n]).abs().max().item() for n in grads) > 1e-4


@pytest.mark.parametrize("chunk", [1, 2, 5])
def test_chunking_does_not_change_gradients_without_dropout(chunk):
    torch.manual_seed(1)
    model = TinyEncoder().double().eval()
    q, p, negs, groups = make_batch()
    loss_fn = lambda qe, pe, ne: InfoNCE()(qe, pe, groups, ne)  # noqa: E731
    _, full = naive_reference(model, model, [[q], [p], [negs]], loss_fn, seed=0)
    _, grads = run_cached(model, model, [chunked(q, chunk), chunked(p, chunk), chunked(negs, chunk)], loss_fn, 0)
    assert_grads_close(grads, full, 1e-10)


def test_direct_step_and_rng_stream_match_cached_step():
    torch.manual_seed(0)
    model = TinyEncoder().double().train()
    q, p, negs, groups = make_batch()
    loss_fn = lambda qe, pe, ne: InfoNCE()(qe, pe, groups, ne)  # noqa: E731
    streams = [chunked(q, 3), chunked(p, 3), chunked(negs, 3)]
    model.zero_grad()
    torch.manual_seed(5)
    direct = direct_step(model, streams, loss_fn)
    after_direct = torch.rand(3)
    direct_grads = grads_of(model)
    cached, cached_grads = run_cached(model, model, streams, loss_fn, seed=5)
    after_cached = torch.rand(3)
    assert torch.equal(after_direct, after_cached)  # the replay leaves training's RNG stream untouched
    assert direct.replay_error is None
    assert direct.loss.item() == pytest.approx(cached.loss.item(), rel=1e-12)
    assert_grads_close(cached_grads, direct_grads, 1e-10)


def test_backward_scale_empty_stream_and_unused_stream():
    torch.manual_seed(0)
    model = TinyEncoder().double().eval()
    q, p, _, _ = make_batch()
    seen = []

    def loss_fn(qe, pe, ne):
        seen.append(ne)
        return InfoNCE()(qe, pe, None, ne).loss

    _, once = run_cached(model, model, [chunked(q, 4), chunked(p, 4), []], loss_fn, 0)
    _, thrice = run_cached(model, model, [chunked(q, 4), chunked(p, 4), []], loss_fn, 0, backward_scale=3.0)
    assert seen == [None, None]
    assert_grads_close({n: 3 * g for n, g in once.items()}, thrice, 1e-12)
    # a stream the loss ignores still gets its (zero) replay, so ranks run the same passes
    calls = []
    encode = lambda x: (calls.append(len(x)), model(x))[1]  # noqa: E731
    result, grads = run_cached(model, encode, [chunked(q, 4), chunked(p, 4)], lambda qe, pe: (qe * qe).sum(), 0)
    assert calls == [4, 4, 4, 4] * 2
    assert all(torch.isfinite(g).all() for g in grads.values())


def test_no_sync_wraps_all_but_the_last_replay():
    model = TinyEncoder().double().eval()
    q, p, _, _ = make_batch()
    entered = []

    @contextmanager
    def no_sync():
        entered.append(True)
        yield

    cached_step(model, [chunked(q, 3), chunked(p, 3)], lambda a, b: InfoNCE()(a, b), no_sync=no_sync)
    assert len(entered) == 2 * 3 - 1


def test_half_precision_embeddings_reach_the_loss_in_float32():
    model = TinyEncoder().eval()
    q, p, _, _ = make_batch(dtype=torch.float32)
    dtypes = []

    def loss_fn(qe, pe):
        dtypes.append(qe.dtype)
        return InfoNCE()(qe, pe).loss

    cached_step(lambda x: model(x).bfloat16(), [chunked(q, 4), chunked(p, 4)], loss_fn)
    assert dtypes == [torch.float32]
    assert all(prm.grad is not None and torch.isfinite(prm.grad).all() for prm in model.parameters())


def _st_encoder(model):
    # sentence-transformers writes its outputs into the features dict it is given; a copy
    # keeps the first pass's activations from being held until the replay
    return lambda features: model(dict(features))["sentence_embedding"]


@pytest.mark.parametrize("chunk", [2, 3, 6])
def test_cached_equals_uncached_with_tiny_transformer(tiny_model_dir, chunk):
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(tiny_model_dir), device="cpu").train()
    assert any(m.p > 0 for m in model.modules() if isinstance(m, torch.nn.Dropout))
    queries = [f"aa{i} bcd efg {'hij ' * i}" for i in range(6)]
    passages = [f"klm {'nop ' * (i % 3)} abc{i} def" for i in range(6)]
    groups = torch.tensor([0, 1, 0, 2, 3, 1])
    streams = [[model.preprocess(queries[i:i + chunk]) for i in range(0, 6, chunk)],
               [model.preprocess(passages[i:i + chunk]) for i in range(0, 6, chunk)]]
    loss_fn = lambda qe, pe: InfoNCE(symmetric_weight=1.0)(qe, pe, groups)  # noqa: E731
    encode = _st_encoder(model)
    torch.manual_seed(3)
    with torch.no_grad():
        first, second = encode(streams[0][0]), encode(streams[0][0])
    assert not torch.allclose(first, second)  # dropout really is on
    ref_loss, ref_grads = naive_reference(model, encode, streams, loss_fn, seed=11)
    result, grads = run_cached(model, encode, streams, loss_fn, seed=11)
    assert result.loss.item() == pytest.approx(ref_loss, rel=1e-5)
    assert result.replay_error.item() < 1e-5
    assert_grads_close(grads, ref_grads, 1e-5)


@pytest.mark.cuda
def test_cuda_rng_is_replayed():
    # fp32 on CUDA (TF32 off): replayed kernels on identical inputs give identical embeddings up
    # to a few roundings (u = 6e-8); gradients of O(1) differ by summation order only (1e-5)
    torch.manual_seed(0)
    model = TinyEncoder().cuda().train()
    q, p, negs, groups = make_batch(dtype=torch.float32, device="cuda")
    loss_fn = lambda qe, pe, ne: InfoNCE()(qe, pe, groups, ne)  # noqa: E731
    streams = [chunked(q, 3), chunked(p, 3), chunked(negs, 3)]
    assert RngState.capture().cuda, "the current CUDA device's generator must be captured"
    _, ref_grads = naive_reference(model, model, streams, loss_fn, seed=7)
    result, grads = run_cached(model, model, streams, loss_fn, seed=7)
    assert result.replay_error.item() < 1e-6
    assert_grads_close(grads, ref_grads, 1e-5)


def test_rng_state_replay_restores_the_outer_stream():
    torch.manual_seed(0)
    state = RngState.capture()
    first = torch.rand(4)
    expected_next = torch.rand(4)
    torch.manual_seed(0)
    torch.rand(4)
    with state.replay():
        assert torch.equal(torch.rand(4), first)
    assert torch.equal(torch.rand(4), expected_next)
    assert gradcache._default_cuda_devices() == (
        (torch.cuda.current_device(),) if torch.cuda.is_available() and torch.cuda.is_initialized() else ())
