"""A device the machine cannot honour is one `polyir: error:` line naming the setting, exit 2,
before any data is loaded.  The hardware is simulated (torch.cuda patched, launcher variables
set), so these run the same on a CPU machine and on a GPU machine."""
from __future__ import annotations

import pytest
import torch
import torch.distributed as dist

from polyir.cli import main
from polyir.errors import ConfigError


@pytest.fixture
def no_loading(monkeypatch):
    """Fail the test if training or evaluation data is read, or a process group is joined."""
    def forbidden(*args, **kwargs):
        raise AssertionError("loaded data or joined a process group before checking the device")

    import polyir.evaluate.eval_pipeline as pipeline
    import polyir.train.loop as loop

    monkeypatch.setattr(loop, "load_training_data", forbidden)
    monkeypatch.setattr(pipeline, "load_eval_set", forbidden)
    monkeypatch.setattr(dist, "init_process_group", forbidden)


def gpus(monkeypatch, count: int, *, nccl: bool = True):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: count > 0)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: count)
    monkeypatch.setattr(dist, "is_nccl_available", lambda: nccl)


def launched(monkeypatch, world_size: int, rank: int):
    """The environment torchrun gives process ``rank`` of ``world_size`` on one node."""
    for name, value in (("WORLD_SIZE", world_size), ("RANK", rank), ("LOCAL_RANK", rank),
                        ("MASTER_ADDR", "127.0.0.1"), ("MASTER_PORT", 29500)):
        monkeypatch.setenv(name, str(value))


def one_error_line(capsys, *argv) -> str:
    code = main(["-q", *map(str, argv)])
    _, err = capsys.readouterr()
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("polyir: error: ") and "Traceback" not in err, err
    return lines[0]


def train_args(tmp_path, *extra):
    """A command whose paths exist (the CLI checks them first), so the device is what fails."""
    (tmp_path / "model").mkdir(exist_ok=True)
    (tmp_path / "model" / "modules.json").write_text("[]")
    (tmp_path / "pairs.jsonl").write_text("")
    return ["train", "--model", tmp_path / "model", "--data", tmp_path / "pairs.jsonl", "--steps", "2",
            "--out", tmp_path / "run", *extra]


def test_cuda_without_cuda(monkeypatch, capsys, tmp_path, no_loading):
    gpus(monkeypatch, 0)
    line = one_error_line(capsys, *train_args(tmp_path, "--device", "cuda"))
    assert "runtime.device is 'cuda' but CUDA is not available" in line
    line = one_error_line(capsys, *train_args(tmp_path, "--set", "runtime.device=cuda:1"))
    assert "runtime.device is 'cuda:1'" in line
    assert not (tmp_path / "run").exists()


def test_a_gpu_index_that_is_not_visible(monkeypatch, capsys, tmp_path, no_loading):
    gpus(monkeypatch, 2)
    line = one_error_line(capsys, *train_args(tmp_path, "--device", "cuda:2"))
    assert "runtime.device is 'cuda:2' but only 2 GPU(s) are visible" in line


@pytest.mark.parametrize("device", ["auto", "cuda"])
def test_more_processes_than_gpus(monkeypatch, capsys, tmp_path, no_loading, device):
    gpus(monkeypatch, 1)
    launched(monkeypatch, world_size=2, rank=1)
    line = one_error_line(capsys, *train_args(tmp_path, "--device", device))
    assert f"runtime.device is '{device}' with 2 processes" in line
    assert "LOCAL_RANK=1" in line and "only 1 visible" in line


def test_several_gpus_without_nccl(monkeypatch, capsys, tmp_path, no_loading):
    gpus(monkeypatch, 2, nccl=False)
    launched(monkeypatch, world_size=2, rank=0)
    line = one_error_line(capsys, *train_args(tmp_path))
    assert "runtime.device is 'auto' with 2 processes, which needs NCCL" in line


def test_one_gpu_index_for_several_processes(monkeypatch, capsys, tmp_path, no_loading):
    gpus(monkeypatch, 2)
    launched(monkeypatch, world_size=2, rank=0)
    line = one_error_line(capsys, *train_args(tmp_path, "--device", "cuda:0"))
    assert "each process takes its own GPU" in line


def test_evaluate_on_cuda_without_cuda(monkeypatch, capsys, tmp_path, no_loading):
    gpus(monkeypatch, 0)
    train_args(tmp_path)  # makes the model directory
    line = one_error_line(capsys, "evaluate", "--model", tmp_path / "model", "--dataset", "xquad-r",
                          "--data-dir", tmp_path, "--out", tmp_path / "out", "--device", "cuda")
    assert "--device is 'cuda' but CUDA is not available" in line


def test_processes_on_cpus_use_gloo_whatever_the_gpus(monkeypatch):
    from polyir.device_checks import distributed_plan

    gpus(monkeypatch, 1)
    plan = distributed_plan("cpu", world_size=2, local_rank=1)
    assert (plan.device, plan.backend) == ("cpu", "gloo")
    gpus(monkeypatch, 0)
    assert distributed_plan("auto", world_size=4, local_rank=3).backend == "gloo"
    gpus(monkeypatch, 2)
    assert distributed_plan("auto", world_size=2, local_rank=1) == distributed_plan("cuda", 2, 1)
    assert distributed_plan("cuda", 2, 1).device == "cuda:1"
    with pytest.raises(ConfigError, match="mps"):
        distributed_plan("mps", 2, 0)
