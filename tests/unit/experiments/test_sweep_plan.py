"""Planning, statuses, collection, commands and cost estimates (no training: records are constructed)."""
from __future__ import annotations

import pytest
from expfixtures import record

from polyir.errors import ConfigError
from polyir.experiments.cost import DEFAULT_PAIRS_PER_SECOND, estimate, format_seconds
from polyir.experiments.record import write_record
from polyir.experiments.run_dir import load_spec, write_spec
from polyir.experiments.spec import parse_sweep
from polyir.experiments.store import ResultsStore
from polyir.experiments.sweep_driver import collect, plan_sweep, run_commands, select_runs


@pytest.fixture
def spec(tmp_path):
    (tmp_path / "train.jsonl").write_text("")
    (tmp_path / "eval").mkdir()
    (tmp_path / "model").mkdir()
    return parse_sweep({
        "name": "t", "out": str(tmp_path / "out"),
        "base": {"model": {"name_or_path": str(tmp_path / "model")}, "data": {"sources": [str(tmp_path / "train.jsonl")]},
                 "optim": {"steps": 50}},
        "grid": {"strategy": ["mono", "cross", "hybrid(0.5)"], "seed": [0, 1], "batch_size": [8, 16]},
        "evaluate": [{"dataset": "xquad-r", "data_dir": str(tmp_path / "eval")}],
    }, source="t.yaml")


def test_statuses_and_collect_idempotence(spec):
    with ResultsStore(spec.db_path) as store:
        planned = plan_sweep(spec, store)
        assert len(planned) == 13 and {p.status for p in planned} == {"todo"}
        done, finished, failed, partial = (p.spec for p in planned[1:5])
        write_record(done.run_dir(spec.out), record(done, {}))
        assert collect(spec, store) == [done.hash]
        write_record(finished.run_dir(spec.out), record(finished, {}))
        (failed.run_dir(spec.out)).mkdir(parents=True)
        (failed.run_dir(spec.out) / "error.txt").write_text("RuntimeError: boom\n")
        (partial.run_dir(spec.out) / "train" / "checkpoints").mkdir(parents=True)
        status = {p.spec.hash: p.status for p in plan_sweep(spec, store)}
        assert (status[done.hash], status[finished.hash], status[failed.hash], status[partial.hash]) == (
            "done", "finished", "failed", "partial")
        assert sum(s == "todo" for s in status.values()) == 9
        assert collect(spec, store) == [finished.hash]
        assert collect(spec, store) == []  # idempotent
        assert store.counts()["runs"] == 2


def test_only_filters(spec):
    runs = plan_sweep(spec)
    chosen = select_runs([p.spec for p in runs], ["label=hybrid(0.5)", "seed=1", "batch_size=8", "batch_size=16"])
    # the baseline has neither seed nor batch size: those filters keep it, the label filter drops it
    assert [(r.axes["label"], r.axes["seed"]) for r in chosen] == [("hybrid(0.5)", 1)] * 2
    assert [r.hash for r in select_runs([p.spec for p in runs], [runs[3].spec.hash[:6]])] == [runs[3].spec.hash]
    with pytest.raises(ConfigError, match="unknown axis 'sed'"):
        select_runs([p.spec for p in runs], ["sed=1"])


def test_print_commands_write_specs(spec):
    planned = plan_sweep(spec, only=["seed=0", "batch_size=8"])
    lines = run_commands(planned)
    assert len(lines) == 4 and all(line.startswith("polyir sweep --run-one ") for line in lines)
    run_dir = lines[1].split()[-1]
    assert load_spec(run_dir).hash == planned[1].spec.hash
    write_spec(run_dir, planned[1].spec)  # idempotent
    with pytest.raises(Exception, match="holds run"):
        write_spec(run_dir, planned[2].spec)


def test_cost_estimates(spec):
    runs = [p.spec for p in plan_sweep(spec)]
    run = runs[1]  # X-X-mono, batch 8, seed 0: 50 steps
    default = estimate(run, [])
    assert (default.source, default.pairs_per_second) == ("default", DEFAULT_PAIRS_PER_SECOND)
    assert default.seconds == pytest.approx(50 * 8 / DEFAULT_PAIRS_PER_SECOND)
    rows = [{"model": "model", "batch_size": 8, "pairs_per_second": 100.0, "eval_seconds": 4.0, "data": "train",
             "train_summary": {"batches_per_epoch": 7}},
            {"model": "model", "batch_size": 16, "pairs_per_second": 300.0, "eval_seconds": 6.0, "data": "train",
             "train_summary": {"batches_per_epoch": 3}},
            {"model": "other", "batch_size": 8, "pairs_per_second": 1.0, "eval_seconds": 99.0, "data": "train",
             "train_summary": {}}]
    measured = estimate(run, rows)
    assert measured.source == "database" and measured.pairs_per_second == 100.0
    assert measured.seconds == pytest.approx(50 * 8 / 100.0 + 5.0)  # median evaluation time of the model
    assert estimate(run, rows, {("model", 8): 400.0}).source == "calibrated"
    epochs = type(run)(run.kind, run.axes, {**run.train, "optim": {**run.train["optim"], "steps": None, "epochs": 2}},
                       run.evaluate, run.select, run.sweep)
    assert estimate(epochs, rows).steps == 14  # 2 epochs x 7 batches of a finished run on the same data
    assert estimate(runs[0], rows).train_seconds is None  # the baseline does not train
    assert [format_seconds(s) for s in (None, 12, 600, 7200)] == ["?", "12 s", "10 min", "2.0 h"]


def test_a_run_directory_in_use_is_left_alone(spec):
    from polyir.dirlock import DirectoryInUse, DirectoryLock
    from polyir.experiments.executors import execute_run
    from polyir.experiments.runner import run_one

    run = plan_sweep(spec)[1]
    write_spec(run.run_dir, run.spec)
    (run.run_dir / "error.txt").write_text("the other process's error\n")
    with DirectoryLock(run.run_dir, "sweep run directory"):
        with pytest.raises(DirectoryInUse, match="this sweep run directory is in use by another polyir process"):
            run_one(run.run_dir)
        result = execute_run(str(run.run_dir), str(spec.out))
    assert not result.ok and result.error().startswith("run directory in use by another process (pid ")
    assert (run.run_dir / "error.txt").read_text() == "the other process's error\n"
    assert not (run.run_dir / "run.log").exists()  # not even the log of the run in use was touched


def test_one_sweep_process_per_sweep_directory(spec):
    from polyir.dirlock import DirectoryInUse, DirectoryLock
    from polyir.experiments.sweep_driver import run_sweep

    with DirectoryLock(spec.out, "sweep directory"):
        with pytest.raises(DirectoryInUse, match="this sweep directory is in use"):
            run_sweep(spec)
    assert not spec.db_path.exists()
