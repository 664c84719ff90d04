"""`polyir sweep` / `polyir report` end to end with real (tiny) training runs in subprocesses:
record + skip-finished, dry-run plan and cost, SIGKILL mid-run + resume, print-commands +
collect, the Ray executor, one-line configuration errors."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from processes import child_env, sigkill_when

from polyir.cli import main
from polyir.experiments.store import ResultsStore

ENV = child_env(HF_HUB_OFFLINE="1")


def sweep_file(root: Path, synthetic_dir: Path, model_dir: Path, *, out: str, steps: int = 6,
               strategies=("cross", "hybrid(0.5)"), checkpoint: int = 3) -> Path:
    data = {
        "name": out, "out": str(root / out),
        "base": {"model": {"name_or_path": str(model_dir)},
                 "data": {"sources": [f"syn={synthetic_dir / 'train'}"]},
                 "sampler": {"batch_size": 16}, "optim": {"lr": 1e-3, "steps": steps},
                 "runtime": {"threads": 1}, "checkpoint": {"every": checkpoint, "keep_last": 2}},
        "grid": {"strategy": list(strategies), "seed": [0]},
        "evaluate": [{"name": "syn", "dataset": "xquad-r", "data_dir": str(synthetic_dir / "eval"),
                      "max_queries": 20, "options": {"batch_size": 64, "measures": ["AP", "R@1"]}}],
    }
    path = root / f"{out}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def run(capsys, *argv):
    code = main(["-q", *map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def swept(tmp_path_factory, synthetic_dir, synthetic_model_dir):
    root = tmp_path_factory.mktemp("sweep")
    config = sweep_file(root, synthetic_dir, synthetic_model_dir, out="main")
    process = subprocess.run([sys.executable, "-m", "polyir.cli", "-q", "sweep", str(config), "--jobs", "2"], env=ENV,
                             capture_output=True, text=True, timeout=300)
    return config, root / "main", process


def test_sweep_records_every_run_and_skips_finished_ones(swept, capsys):
    config, out, first = swept
    assert first.returncode == 0, first.stderr
    assert "3 runs, 0 done, 3 to run" in first.stderr and first.stderr.count(" done  ") == 3
    assert "syn: AP mono" in first.stderr  # key metrics on each "done" line
    with ResultsStore(out / "results.db", create=False) as store:
        runs = store.runs()
        assert sorted(r["label"] for r in runs) == ["X-Y", "hybrid(0.5)", "untrained"]
        assert store.counts()["metrics"] == 3 * 12 * 2  # runs x (3 mono + 6 cross + 3 multi settings) x measures
    records = {p: p.stat().st_mtime_ns for p in out.glob("runs/*/record.json")}
    assert len(records) == 3
    code, _, stderr = run(capsys, "sweep", config, "--jobs", "2")
    assert code == 0 and "3 runs, 3 done, 0 to run" in stderr
    assert {p: p.stat().st_mtime_ns for p in out.glob("runs/*/record.json")} == records


def test_run_directory_layout_and_realised_composition(swept):
    _, out, _ = swept
    with ResultsStore(out / "results.db", create=False) as store:
        runs = {r["label"]: r for r in store.runs()}
    hybrid = runs["hybrid(0.5)"]
    run_dir = Path(hybrid["run_dir"])
    assert {"spec.json", "record.json", "per_query.npz", "run.log", "train", "eval"} <= {p.name for p in run_dir.iterdir()}
    assert (run_dir / "eval" / "syn" / "metrics.json").is_file() and (run_dir / "train" / "final").is_dir()
    assert not (run_dir / "train" / "checkpoints").exists()  # resume state, deleted once recorded
    assert hybrid["steps"] == 6 and hybrid["share_items_cross"] + hybrid["share_mono_batches"] == pytest.approx(1.0)
    card = (run_dir / "train" / "final" / "README.md").read_text()  # the model's card has the sweep's evaluation
    syn = next(line for line in card.splitlines() if line.startswith("| syn | sweep evaluation |"))
    assert f"{hybrid['share_mono_batches']:.1%}" in card and f"polyir sweep --run-one {run_dir}" in card
    assert str(Path(hybrid["run_dir"]).name) in card and "xquad-r" in syn
    assert runs["X-Y"]["share_items_cross"] == 1.0 and hybrid["leakage"] is not None


def test_dry_run_shows_statuses_and_measured_cost(swept, capsys):
    config, _, _ = swept
    code, stdout, _ = run(capsys, "sweep", config, "--dry-run")
    assert code == 0
    lines = stdout.splitlines()
    assert lines[0].split()[:3] == ["hash", "status", "strategy"]
    assert sum(" done " in line for line in lines[1:4]) == 3
    assert "3 runs: 3 done" in stdout
    config_more = config.parent / "more.yaml"
    data = yaml.safe_load(config.read_text())
    data["grid"]["seed"] = [0, 1]
    config_more.write_text(yaml.safe_dump(data))
    code, stdout, _ = run(capsys, "sweep", config_more, "--dry-run")
    todo = [line for line in stdout.splitlines() if " todo " in line]
    assert len(todo) == 2 and all("(database)" in line for line in todo)  # speed measured by the finished runs
    assert "5 runs: 3 done, 2 todo" in stdout
    code, stdout, _ = run(capsys, "sweep", config_more, "--dry-run", "--calibrate")
    todo = [line for line in stdout.splitlines() if " todo " in line]
    assert code == 0 and all("(calibrated)" in line for line in todo)
    assert len(list((config.parent / "main" / "runs").iterdir())) == 3  # calibration trains in a temporary dir


def test_report_cli(swept, capsys, tmp_path):
    _, out, _ = swept
    code, stdout, stderr = run(capsys, "report", out / "results.db", "--out", tmp_path / "rep", "--resamples", "1000",
                               "--measure", "AP", "R@1")
    assert code == 0, stderr
    assert "| X-Y | 1 |" in stdout and "**hybrid(0.5)** (ref)" in stdout and "| untrained | 1 |" in stdout
    text = (tmp_path / "rep" / "report.md").read_text()
    assert "## syn: AP, macro averages" in text and "## syn: R@1, macro averages" in text
    assert (tmp_path / "rep" / "report.html").stat().st_size > 10_000
    code, _, stderr = run(capsys, "report", out / "results.db", "--out", tmp_path / "r2", "--reference", "mixed(0.1)")
    assert code == 2 and "polyir: error: reference 'mixed(0.1)' is not among the recorded strategies" in stderr


def test_sigkill_mid_run_resumes_and_collect_is_idempotent(tmp_path, synthetic_dir, synthetic_model_dir, capsys):
    config = sweep_file(tmp_path, synthetic_dir, synthetic_model_dir, out="killed", steps=150, checkpoint=5,
                        strategies=("hybrid(0.5)",))
    code, stdout, _ = run(capsys, "sweep", config, "--print-commands", "--only", "label=hybrid(0.5)")
    (command,) = stdout.strip().splitlines()
    run_dir = Path(command.split()[-1])
    assert command.startswith("polyir sweep --run-one ") and (run_dir / "spec.json").is_file()
    process = subprocess.Popen([sys.executable, "-m", "polyir.cli", "-q", *command.split()[1:]], env=ENV,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    checkpoints = run_dir / "train" / "checkpoints"
    sigkill_when(process, lambda: any(int(p.name.split("-")[1]) >= 10 for p in checkpoints.glob("step-*")))
    assert not (run_dir / "record.json").exists()

    code, _, stderr = run(capsys, "sweep", config, "--collect")
    assert code == 0 and "collected 0 run(s); 0 of 2 runs" in stderr  # nothing half-done is recorded
    code, stdout, _ = run(capsys, "sweep", config, "--dry-run")
    assert f"{run_dir.name}  partial" in stdout
    code, _, stderr = run(capsys, "sweep", config, "--only", "label=hybrid(0.5)")
    assert code == 0, stderr
    assert "(resuming)" in stderr and "1 finished" in stderr
    log = (run_dir / "train" / "log.jsonl").read_text()
    assert sum('"resume"' in line for line in log.splitlines()) == 1
    with ResultsStore(tmp_path / "killed" / "results.db", create=False) as store:
        (trained,) = [r for r in store.runs() if r["kind"] == "train"]
        assert trained["steps"] == 150 and trained["train_summary"]["resumed_from"] >= 10
    assert not checkpoints.exists() and (run_dir / "train" / "final").is_dir()
    code, _, stderr = run(capsys, "sweep", config, "--collect")
    assert "collected 0 run(s); 1 of 2 runs" in stderr  # recorded once, never twice


def test_ray_executor(tmp_path, synthetic_dir, synthetic_model_dir, capsys):
    pytest.importorskip("ray", reason="Ray is an optional extra (pip install 'polyir[ray]')")
    config = sweep_file(tmp_path, synthetic_dir, synthetic_model_dir, out="ray", steps=3, strategies=("X-Y",))
    code, _, stderr = run(capsys, "sweep", config, "--executor", "ray", "--threads", "1", "--only", "label=X-Y")
    assert code == 0, stderr
    assert "1 finished, 0 already done, 0 failed" in stderr
    with ResultsStore(tmp_path / "ray" / "results.db", create=False) as store:
        assert [r["label"] for r in store.runs()] == ["X-Y"]


def test_configuration_errors_are_one_line(tmp_path, synthetic_dir, synthetic_model_dir, capsys):
    config = sweep_file(tmp_path, synthetic_dir, synthetic_model_dir, out="bad")
    text = config.read_text().replace("steps: 6", "stepz: 6")
    config.write_text(text)
    code, _, stderr = run(capsys, "sweep", config)
    assert code == 2 and "Traceback" not in stderr
    assert stderr.strip().splitlines()[-1].startswith("polyir: error: ")
    assert "base.optim: unknown key 'stepz'" in stderr
    code, _, stderr = run(capsys, "sweep")
    assert code == 2 and "give a sweep file" in stderr
    assert not (tmp_path / "bad").exists()  # nothing ran, nothing was written


def test_a_failing_run_is_reported_and_retried(tmp_path, synthetic_dir, synthetic_model_dir, capsys):
    broken = tmp_path / "broken.jsonl"
    broken.write_text("this is not JSON\n")
    config = sweep_file(tmp_path, synthetic_dir, synthetic_model_dir, out="failing", strategies=("X-Y",))
    data = yaml.safe_load(config.read_text())
    data["base"]["data"]["sources"] = [str(broken)]
    data["baseline"] = False
    config.write_text(yaml.safe_dump(data))
    code, _, stderr = run(capsys, "sweep", config)
    assert code == 1 and "[1/1] FAILED" in stderr and "broken.jsonl" in stderr and "run.log" in stderr
    assert "1 run(s) failed" in stderr.strip().splitlines()[-1]
    code, stdout, _ = run(capsys, "sweep", config, "--dry-run")
    assert " failed " in stdout
    with ResultsStore(tmp_path / "failing" / "results.db", create=False) as store:
        assert store.counts()["runs"] == 0


def test_run_records_where_its_time_went(swept):
    """Each stage from process start to record is timed, in record.json and in run.log."""
    import json

    _, out, first = swept
    assert first.returncode == 0, first.stderr
    run_dir = next(d for d in (out / "runs").iterdir() if (d / "train").is_dir())
    timings = json.loads((run_dir / "record.json").read_text())["timings"]
    stages = timings["stages"]
    for stage in ("import libraries", "train", "load model for evaluation",
                  "load syn", "encode syn", "evaluate syn", "write syn"):
        assert stages[stage] >= 0.0, stage
    assert 0.0 < timings["startup_seconds"] < timings["wall_seconds"] + 60
    assert {"load data", "load model", "steps", "save final model"} <= set(timings["train_stages"])
    assert sum(timings["train_stages"].values()) <= stages["train"] + 0.01
    log = (run_dir / "run.log").read_text()
    assert "stage encode syn:" in log and "from process start to record" in log
    # only metrics.json per evaluation set: the record holds the rest
    assert sorted(p.name for p in (run_dir / "eval" / "syn").iterdir()) == ["metrics.json"]


def test_jobs_bounds_the_run_processes_baseline_included(swept):
    """``--jobs 2``: at most two run processes at any time (run.log has each one's start and end)."""
    import datetime

    _, out, _ = swept
    events = []
    for log in out.glob("runs/*/run.log"):
        for line in log.read_text().splitlines():
            if line.startswith("==== ") and (" start, " in line or " end, " in line):
                stamp = datetime.datetime.strptime(" ".join(line.split()[1:3]), "%Y-%m-%d %H:%M:%S.%f")
                events.append((stamp, 0 if " end, " in line else 1))  # an end before a start at the same time
    assert len(events) == 6  # three runs (the untrained baseline is one of them), one start and one end each
    running = peak = 0
    for _, starts in sorted(events):
        running += 1 if starts else -1
        peak = max(peak, running)
    assert peak == 2


def test_run_processes_die_with_a_killed_sweep_and_the_resumed_sweep_is_alone(tmp_path, synthetic_dir,
                                                                             synthetic_model_dir, capsys):
    import time

    from polyir.dirlock import lock_holder

    config = sweep_file(tmp_path, synthetic_dir, synthetic_model_dir, out="orphans", steps=60, checkpoint=5,
                        strategies=("hybrid(0.5)",))
    parent = subprocess.Popen([sys.executable, "-m", "polyir.cli", "-q", "sweep", str(config), "--only", "label=hybrid(0.5)"],
                              env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    runs = tmp_path / "orphans" / "runs"
    sigkill_when(parent, lambda: any(runs.glob("*/train/checkpoints/step-*")), what="run checkpoint")
    (run_dir,) = [d for d in runs.iterdir() if (d / "train").is_dir()]
    deadline = time.time() + 30
    while lock_holder(run_dir) is not None:  # the orphan gets SIGTERM from the kernel (PR_SET_PDEATHSIG)
        assert time.time() < deadline, f"the run process outlived its sweep: {lock_holder(run_dir)}"
        time.sleep(0.1)
    code, _, stderr = run(capsys, "sweep", config, "--only", "label=hybrid(0.5)")
    assert code == 0 and "(resuming)" in stderr, stderr
    log = (run_dir / "run.log").read_text()
    starts, ends = log.count(" start, pid "), log.count(" end, exit status")
    assert (starts, ends) == (2, 1)  # the killed sweep's run never logged an end; the resumed one did, alone
    assert log.rindex(" start, pid ") < log.rindex(" end, exit status 0")
    assert "KeyboardInterrupt" not in (run_dir / "run.log").read_text().split(" start, pid ")[-1]
