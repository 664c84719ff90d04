"""Two Gloo processes train exactly as one process on the same global batches."""
from __future__ import annotations

import os
import socket
import time

import pytest
import torch
from trainfixtures import base_config, max_weight_difference, read_log, weights

from polyir.data.pairs.pair_files import write_pairs
from polyir.train import build_config, train
from polyir.train.train_data import read_source
from polyir.train.train_config import DataSource

# (optim, runtime) settings: the default (length buckets on), many small buckets (ranks then make
# different numbers of forward passes), and the unbucketed step
MODES = {"direct": ({}, {}), "gradcache": ({"gradcache_chunk": 3}, {}),
         "direct-small-buckets": ({}, {"bucket_overhead": 2}),
         "gradcache-unbucketed": ({"gradcache_chunk": 3}, {"length_buckets": False})}


def configs(model_dir, data_path, root, suffix):
    """Direct and GradCache runs with hard negatives (gathered across ranks) and shared-positive masks.

    eps 1e-6: Adam divides by |g| + eps, which turns float noise in near-zero gradients (~1e-10; the
    two runs sum in different orders) into visible weight differences when eps is 1e-8."""
    return {mode: build_config(base_config(
        model_dir, data_path, root / f"{mode}-{suffix}",
        data={"sources": [str(data_path)], "hard_negatives": 1},
        optim={"steps": 4, "lr": 1e-3, "warmup_ratio": 0.0, "eps": 1e-6, **optim}, runtime={"threads": 1, **runtime}))
        for mode, (optim, runtime) in MODES.items()}


def _worker(rank, world_size, port, model_dir, data_path, root):
    os.environ.update(RANK=str(rank), WORLD_SIZE=str(world_size), LOCAL_RANK=str(rank),
                      MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    from pathlib import Path

    try:
        for config in configs(Path(model_dir), Path(data_path), Path(root), "ddp").values():
            train(config, progress=False)
    finally:
        torch.distributed.destroy_process_group()


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def negatives_file(tmp_path_factory, synthetic_dir):
    every = read_source(DataSource(path=str(synthetic_dir / "train"), name="syn"))
    groups = list(dict.fromkeys(p.group for p in every))[:80]  # 80 parallel groups x 3 languages: hybrid needs them
    pairs = [p for p in every if p.group in set(groups)]
    # only some pairs have a negative: ranks then hold different numbers of texts and forward passes
    with_negatives = [p.__class__(p.group, p.lang, p.query, p.positive,
                                  (pairs[(i + 37) % len(pairs)].positive,) if i % 3 else (), p.dataset)
                      for i, p in enumerate(pairs)]
    path = tmp_path_factory.mktemp("ddp-data") / "pairs.jsonl"
    write_pairs(with_negatives, path)
    return path


@pytest.fixture(scope="module")
def runs(tmp_path_factory, train_model_dir, negatives_file):
    root = tmp_path_factory.mktemp("ddp")
    context = torch.multiprocessing.spawn(
        _worker, args=(2, free_port(), str(train_model_dir), str(negatives_file), str(root)), nprocs=2, join=False)
    deadline = time.time() + 180
    while not context.join(timeout=2):
        if time.time() > deadline:  # a collective mismatch hangs: fail instead of waiting forever
            for process in context.processes:
                process.kill()
            pytest.fail("the two training processes did not finish within 180 s (deadlock?)")
    single = {mode: train(config, progress=False)
              for mode, config in configs(train_model_dir, negatives_file, root, "single").items()}
    return root, single


@pytest.mark.parametrize("mode", list(MODES))
def test_two_processes_match_one_process(runs, mode):
    root, single = runs
    ddp_out, single_out = root / f"{mode}-ddp", single[mode].out
    assert max_weight_difference(weights(ddp_out / "final"), weights(single_out / "final")) < 1e-5
    ddp_log, single_log = ([r for r in read_log(out) if r["event"] == "train"] for out in (ddp_out, single_out))
    assert len(ddp_log) == len(single_log) == 4
    for a, b in zip(ddp_log, single_log):
        assert a["loss"] == pytest.approx(b["loss"], rel=1e-5)
        assert a["grad_norm"] == pytest.approx(b["grad_norm"], rel=1e-4)
        assert a["share_batches_mono"] == b["share_batches_mono"]
        if mode == "direct-small-buckets":  # the equality above holds for rank slices bucketed apart
            assert a["forward_passes"] >= 3 and b["forward_passes"] > a["forward_passes"]
    start = next(r for r in read_log(ddp_out) if r["event"] == "start")
    assert start["world_size"] == 2
    # only rank 0 wrote: one start record, one final model
    assert sum(r["event"] == "start" for r in read_log(ddp_out)) == 1
