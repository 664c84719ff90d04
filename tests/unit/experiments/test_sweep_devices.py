"""GPU placement of sweep runs, checked without GPUs: each run process records the
``CUDA_VISIBLE_DEVICES`` it was started with and when it ran (a stand-in for ``polyir sweep --run-one``).
Ray is given fake GPUs (``ray.init(num_gpus=2)`` works on a CPU-only machine)."""
from __future__ import annotations

import json
import sys
from itertools import combinations
from pathlib import Path

import pytest

from polyir.errors import ConfigError
from polyir.experiments.devices import DevicePlan, parse_devices
from polyir.experiments.executors import local_executor, ray_executor, ray_gpus_per_run
from polyir.experiments.sweep_driver import executor_setup

RECORD = """import json, os, sys, time
start = time.time(); time.sleep(0.3)
json.dump({"cuda": os.environ.get("CUDA_VISIBLE_DEVICES"), "start": start, "end": time.time()},
          open(os.path.join(sys.argv[1], "seen.json"), "w"))
"""


def recording_command(run_dir: Path) -> list[str]:
    return [sys.executable, "-c", RECORD, str(run_dir)]


def run_dirs(root: Path, n: int) -> list[Path]:
    dirs = [root / f"run{i}" for i in range(n)]
    for d in dirs:
        d.mkdir(parents=True)
    return dirs


def seen(dirs: list[Path]) -> list[dict]:
    return [json.loads((d / "seen.json").read_text()) for d in dirs]


def most_at_once(runs: list[dict]) -> int:
    """The largest number of these runs that were running at the same moment."""
    return max(sum(r["start"] <= t["start"] < r["end"] for r in runs) for t in runs) if runs else 0


def test_parse_devices():
    assert parse_devices("0, 1,3", 2) == DevicePlan(("0", "1", "3"), 2)
    assert parse_devices("none").hide and parse_devices("none").slots is None
    assert parse_devices(None, environ={"CUDA_VISIBLE_DEVICES": "2,5"}) == DevicePlan(("2", "5"), detected=True)
    assert parse_devices(None, environ={"CUDA_VISIBLE_DEVICES": ""}).devices == ()
    with pytest.raises(ConfigError, match="lists a device twice"):
        parse_devices("0,0")
    with pytest.raises(ConfigError, match="runs-per-device must be a positive integer"):
        parse_devices("0", 0)


def test_jobs_follow_the_device_slots():
    given = DevicePlan(("0", "1"), runs_per_device=2)
    assert given.for_jobs(None) == (given, 4) and given.for_jobs(3) == (given, 3)
    with pytest.raises(ConfigError, match="--jobs 5 exceeds the 4 device slots"):
        given.for_jobs(5)
    detected = DevicePlan(("0", "1"), detected=True)
    assert detected.for_jobs(3) == (DevicePlan(("0", "1"), runs_per_device=2, detected=True), 3)
    assert DevicePlan().for_jobs(None) == (DevicePlan(), 1)  # no GPU: one run at a time, as before


def test_local_runs_each_get_their_own_gpu_slot(tmp_path):
    dirs = run_dirs(tmp_path, 8)
    plan = DevicePlan(("0", "1"), runs_per_device=2)
    results = list(local_executor(dirs, jobs=4, devices=plan, command=recording_command))
    assert all(r.ok for r in results) and len(results) == 8
    runs = seen(dirs)
    assert {r["cuda"] for r in runs} == {"0", "1"}  # one GPU each, both used
    for device in ("0", "1"):
        assert most_at_once([r for r in runs if r["cuda"] == device]) <= 2  # --runs-per-device 2
    assert "[CUDA_VISIBLE_DEVICES=" in (dirs[0] / "run.log").read_text()


def test_local_runs_without_a_plan_inherit_and_none_hides(tmp_path, monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "7")
    inherit, hidden = run_dirs(tmp_path / "a", 2), run_dirs(tmp_path / "b", 2)
    list(local_executor(inherit, jobs=2, command=recording_command))
    list(local_executor(hidden, jobs=2, devices=parse_devices("none"), command=recording_command))
    assert [r["cuda"] for r in seen(inherit)] == ["7", "7"]
    assert [r["cuda"] for r in seen(hidden)] == ["", ""]


def test_placement_options_belong_to_their_executor():
    with pytest.raises(ConfigError, match="--gpus-per-run is for --executor ray"):
        executor_setup("local", None, DevicePlan(), 1.0, None)
    with pytest.raises(ConfigError, match="with --executor ray use --gpus-per-run"):
        executor_setup("ray", None, DevicePlan(("0",)), None, None)
    _, jobs, placement = executor_setup("local", None, DevicePlan(("0", "1", "2")), None, None)
    assert jobs == 3 and placement["devices"].devices == ("0", "1", "2")


def test_ray_gpus_per_run():
    assert ray_gpus_per_run(None, 4.0) == 1.0 and ray_gpus_per_run(None, 0.0) == 0.0
    assert ray_gpus_per_run(0.5, 1.0) == 0.5
    with pytest.raises(ConfigError, match="the Ray cluster has 2 GPU"):
        ray_gpus_per_run(3, 2.0)
    with pytest.raises(ConfigError, match="a fraction below 1 or a whole number"):
        ray_gpus_per_run(1.5, 4.0)


@pytest.fixture(scope="module")
def fake_gpu_ray():
    ray = pytest.importorskip("ray", reason="Ray is an optional extra (pip install 'polyir[ray]')")
    if ray.is_initialized():
        pytest.skip("a Ray instance is already running in this process")
    ray.init(num_cpus=4, num_gpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield ray
    ray.shutdown()


@pytest.mark.parametrize("gpus, per_gpu", [(1.0, 1), (0.5, 2)])
def test_ray_runs_ask_for_gpus_and_see_only_theirs(fake_gpu_ray, tmp_path, gpus, per_gpu):
    dirs = run_dirs(tmp_path, 6)
    results = list(ray_executor(dirs, jobs=4, threads=1, gpus_per_run=gpus, command=recording_command))
    assert all(r.ok for r in results)
    runs = seen(dirs)
    assert {r["cuda"] for r in runs} <= {"0", "1"}
    for device in ("0", "1"):
        assert most_at_once([r for r in runs if r["cuda"] == device]) <= per_gpu
    if per_gpu == 1:  # whole GPUs: two runs running at once never share one
        assert all(a["cuda"] != b["cuda"] for a, b in combinations(runs, 2)
                   if a["start"] < b["end"] and b["start"] < a["end"])


def test_ray_runs_without_gpus_see_none(fake_gpu_ray, tmp_path):
    dirs = run_dirs(tmp_path, 2)
    assert all(r.ok for r in ray_executor(dirs, jobs=2, gpus_per_run=0, command=recording_command))
    assert [r["cuda"] for r in seen(dirs)] == ["", ""]


def test_remote_runs_get_only_the_settings_they_need(monkeypatch):
    from polyir.experiments.executors import remote_env

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    monkeypatch.setenv("PYTHONPATH", "/somewhere/src")
    monkeypatch.setenv("SOME_SECRET_TOKEN", "x")
    env = remote_env(threads=2)
    assert env["HF_HUB_OFFLINE"] == env["TRANSFORMERS_OFFLINE"] == "1"
    assert env["OMP_NUM_THREADS"] == env["MKL_NUM_THREADS"] == env["NUMBA_NUM_THREADS"] == "2"
    assert not {"PYTHONPATH", "SOME_SECRET_TOKEN", "PATH", "HOME"} & set(env)
    assert "OMP_NUM_THREADS" not in remote_env(threads=None)


def test_quiet_reaches_the_runs_as_a_flag():
    from polyir.experiments.executors import run_command

    assert run_command("RUN", "py", quiet=True) == ["py", "-m", "polyir.cli", "-q", "sweep", "--run-one", "RUN"]
    assert "-q" not in run_command("RUN", "py")
