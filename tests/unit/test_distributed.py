"""Two Gloo processes on CPU reproduce the single-process full-batch gradient."""
from __future__ import annotations

import os
import socket

import pytest
import torch

from polyir.distributed import DistContext, all_gather_with_grad, init_distributed
from polyir.errors import ConfigError
from polyir.gradcache import cached_step, direct_step
from polyir.losses import InfoNCE

RANK_ROWS = (5, 3)  # uneven on purpose: the gather must handle it
CHUNK = 2
LOSS = InfoNCE(temperature=0.1, symmetric_weight=0.5)


def make_model() -> torch.nn.Module:
    torch.manual_seed(0)
    body = torch.nn.Sequential(torch.nn.Linear(7, 16), torch.nn.Tanh(), torch.nn.Dropout(0.3), torch.nn.Linear(16, 5))
    return torch.nn.Sequential(body, Normalize()).double().train()


class Normalize(torch.nn.Module):
    def forward(self, x):
        return torch.nn.functional.normalize(x, dim=-1)


def global_batch():
    gen = torch.Generator().manual_seed(42)
    n = sum(RANK_ROWS)
    q, p, negs = (torch.randn(n, 7, generator=gen, dtype=torch.float64) for _ in range(3))
    groups = torch.tensor([0, 1, 2, 0, 3, 4, 1, 5])  # groups 0 and 1 span both ranks
    return q, p, negs, groups


def rank_rows(rank: int) -> slice:
    start = sum(RANK_ROWS[:rank])
    return slice(start, start + RANK_ROWS[rank])


def rank_streams(rank: int):
    q, p, negs, _ = global_batch()
    rows = rank_rows(rank)
    return [list(t[rows].split(CHUNK)) for t in (q, p, negs)]


def grads_of(model):
    return {name: prm.grad.detach().clone() for name, prm in model.named_parameters()}


def _worker(rank: int, world_size: int, port: int, out_dir: str) -> None:
    os.environ.update(RANK=str(rank), WORLD_SIZE=str(world_size), LOCAL_RANK=str(rank),
                      MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    ctx = init_distributed(backend="gloo", device="cpu")
    try:
        ddp = torch.nn.parallel.DistributedDataParallel(make_model())
        groups = ctx.all_gather(global_batch()[3][rank_rows(rank)])

        def loss_fn(q, p, negs):
            gather = ctx.all_gather_with_grad
            return LOSS(gather(q), gather(p), groups, gather(negs))

        results = {"groups": groups, "context": (ctx.rank, ctx.world_size, ctx.is_main, ctx.loss_scale)}
        torch.manual_seed(100 + rank)  # each rank draws its own dropout masks
        results["direct_loss"] = direct_step(ddp, rank_streams(rank), loss_fn, backward_scale=ctx.loss_scale).loss
        results["direct"] = grads_of(ddp.module)
        ddp.zero_grad()
        torch.manual_seed(100 + rank)
        step = cached_step(ddp, rank_streams(rank), loss_fn, backward_scale=ctx.loss_scale, no_sync=ddp.no_sync)
        results["cached_loss"], results["cached"] = step.loss, grads_of(ddp.module)
        results["replay_error"] = step.replay_error
        results["broadcast"] = ctx.broadcast_object({"from": rank, "items": [1, 2]} if rank == 0 else None)
        results["mean"] = ctx.all_reduce_mean(torch.tensor([float(rank)]))
        ctx.barrier()
        torch.save(results, os.path.join(out_dir, f"rank{rank}.pt"))
    finally:
        torch.distributed.destroy_process_group()


def single_process_reference():
    """The full global batch in one process: rank r's rows encoded under rank r's seed."""
    model = make_model()
    _, _, _, groups = global_batch()
    per_stream = [[], [], []]
    for rank in range(len(RANK_ROWS)):
        torch.manual_seed(100 + rank)
        for s, stream in enumerate(rank_streams(rank)):
            per_stream[s].append(torch.cat([model(chunk) for chunk in stream]))
    q, p, negs = (torch.cat(parts) for parts in per_stream)
    loss = LOSS(q, p, groups, negs).loss
    loss.backward()
    return loss.item(), grads_of(model)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def two_rank_results(tmp_path_factory):
    out_dir = tmp_path_factory.mktemp("ddp")
    world_size = len(RANK_ROWS)
    torch.multiprocessing.spawn(_worker, args=(world_size, free_port(), str(out_dir)), nprocs=world_size, join=True)
    return [torch.load(out_dir / f"rank{r}.pt") for r in range(world_size)]


@pytest.mark.parametrize("mode", ["direct", "cached"])
def test_ddp_gradient_equals_single_process_full_batch(two_rank_results, mode):
    ref_loss, ref_grads = single_process_reference()
    for results in two_rank_results:
        assert results[f"{mode}_loss"].item() == pytest.approx(ref_loss, rel=1e-9)
        for name, grad in ref_grads.items():
            assert torch.allclose(results[mode][name], grad, atol=1e-6, rtol=0), (name, mode)
    # without the loss scale DDP's average would halve the gradient: make sure it is not trivially equal
    assert max(g.abs().max().item() for g in ref_grads.values()) > 1e-3


def test_collectives_across_two_ranks(two_rank_results):
    _, _, _, groups = global_batch()
    for rank, results in enumerate(two_rank_results):
        assert torch.equal(results["groups"], groups)  # uneven slices gathered in rank order
        assert results["context"] == (rank, 2, rank == 0, 2.0)
        assert results["broadcast"] == {"from": 0, "items": [1, 2]}
        assert results["mean"].item() == pytest.approx(0.5)
        assert results["replay_error"].item() < 1e-12


def test_single_process_is_the_identity(monkeypatch):
    for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        monkeypatch.delenv(name, raising=False)
    ctx = init_distributed(device="cpu")
    assert ctx == DistContext(rank=0, world_size=1, local_rank=0, device=torch.device("cpu"))
    assert ctx.is_main and not ctx.is_distributed and ctx.loss_scale == 1.0
    x = torch.randn(3, 2, requires_grad=True)
    assert ctx.all_gather_with_grad(x) is x and all_gather_with_grad(x) is x
    assert torch.equal(ctx.all_gather(x), x)
    assert torch.equal(ctx.all_reduce_mean(x), x)
    assert ctx.broadcast_object({"a": 1}) == {"a": 1}
    ctx.barrier()
    monkeypatch.setenv("WORLD_SIZE", "1")
    assert init_distributed(device="cpu").world_size == 1


def test_launch_environment_errors(monkeypatch):
    for name in ("RANK", "MASTER_ADDR", "MASTER_PORT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("WORLD_SIZE", "2")
    with pytest.raises(ConfigError, match="RANK, MASTER_ADDR, MASTER_PORT not set"):
        init_distributed()
    monkeypatch.setenv("WORLD_SIZE", "two")
    with pytest.raises(ConfigError, match="WORLD_SIZE='two' is not an integer"):
        init_distributed()
