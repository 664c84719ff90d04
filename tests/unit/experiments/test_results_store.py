"""The results database: round trip, one transaction per run, never twice, never half."""
from __future__ import annotations

import sqlite3

import numpy as np
import pytest

from expfixtures import record, spec
from polyir.errors import InputError
from polyir.experiments.record import read_record, write_record
from polyir.experiments.store import ResultsStore


@pytest.fixture
def store(tmp_path):
    with ResultsStore(tmp_path / "results.db") as s:
        yield s


def test_record_round_trip(store):
    rec = record(spec("hybrid(0.5)", seed=3), {"cross": 0.1}, noise=0.05)
    assert store.record(rec, run_dir="runs/x")
    (run,) = store.runs()
    assert (run["hash"], run["label"], run["alpha"], run["seed"], run["batch_size"]) == (
        rec.spec.hash, "hybrid(0.5)", 0.5, 3, 64)
    assert run["axes"] == rec.spec.axes and run["config"] == rec.spec.train
    assert run["share_mono_batches"] == 0.5 and run["leakage_dropped_groups"] == 3 and run["pairs_per_second"] == 320
    counts = store.counts()
    assert counts["metrics"] == len(rec.metrics) == 12 and counts["bias"] == 4 and counts["per_query"] == 4
    assert counts["question_lists"] == 1  # the same question list is stored once
    for m in rec.matrices:
        back = store.matrix(run["run_id"], m.eval_set, m.kind, m.measure)
        assert back.settings == m.settings and back.questions == m.questions
        np.testing.assert_array_equal(back.values, m.values)
    macro = {(r["kind"], r["measure"]): r["value"] for r in store.macro()}
    assert macro["cross", "AP"] == pytest.approx(np.mean([r["value"] for r in rec.metrics if r["kind"] == "cross"]))


def test_a_run_is_never_recorded_twice(store):
    rec = record(spec("X-Y"), {})
    assert store.record(rec)
    before = store.counts()
    assert not store.record(rec)
    assert store.counts() == before
    with pytest.raises(sqlite3.IntegrityError):  # the constraint itself, not only the check
        store.conn.execute("INSERT INTO runs (hash, sweep, kind, strategy, label, axes, config, eval_specs, "
                           "recorded_at) VALUES (?, 's', 'train', 'cross', 'X-Y', '{}', '{}', '[]', 'now')",
                           (rec.spec.hash,))


def test_a_failure_mid_transaction_leaves_nothing(store, monkeypatch):
    rec = record(spec("X-X-mono"), {})

    def crash(*args, **kwargs):
        raise RuntimeError("simulated crash while writing the per-query rows")

    monkeypatch.setattr(ResultsStore, "_insert_matrices", crash)
    with pytest.raises(RuntimeError, match="simulated crash"):
        store.record(rec)
    assert set(store.counts().values()) == {0}
    monkeypatch.undo()
    assert store.record(rec)  # and the run can be recorded afterwards, exactly once
    assert store.counts()["runs"] == 1 and store.counts()["metrics"] == 12


def test_record_files_round_trip_and_completion_marker(tmp_path):
    rec = record(spec("mixed(0.3)", seed=1), {"multi": 0.05}, noise=0.02)
    run_dir = tmp_path / "run"
    write_record(run_dir, rec)
    assert sorted(p.name for p in run_dir.iterdir()) == ["per_query.npz", "record.json"]
    back = read_record(run_dir)
    assert back.spec == rec.spec and back.metrics == rec.metrics and back.train_summary == rec.train_summary
    for a, b in zip(back.matrices, rec.matrices):
        assert (a.kind, a.measure, a.settings, a.questions) == (b.kind, b.measure, b.settings, b.questions)
        np.testing.assert_array_equal(a.values, b.values)


def test_not_a_database(tmp_path):
    bad = tmp_path / "bad.db"
    bad.write_text("not sqlite at all, just text " * 100)
    with pytest.raises(InputError, match="not a polyir results database"):
        ResultsStore(bad)
    with pytest.raises(InputError, match="results database not found"):
        ResultsStore(tmp_path / "missing.db", create=False)


def test_concurrent_store_handles_see_committed_runs_only(tmp_path):
    path = tmp_path / "results.db"
    with ResultsStore(path) as writer, ResultsStore(path) as reader:
        rec = record(spec("X-Y"), {})
        assert writer.record(rec)
        assert reader.hashes() == {rec.spec.hash}
        assert not reader.record(rec)  # a second handle (another process) cannot add it again


def _snapshot(path):
    return path.read_bytes(), path.stat().st_mtime_ns


@pytest.mark.parametrize("content", ["empty", "other-sqlite", "text"])
def test_a_reader_refuses_what_is_not_a_results_database_and_leaves_it_unchanged(tmp_path, content):
    path = tmp_path / "other.db"
    if content == "empty":
        path.write_bytes(b"")
    elif content == "text":
        path.write_text("id,name\n1,a\n")
    else:
        with sqlite3.connect(path) as conn:
            conn.execute("CREATE TABLE people (id INTEGER, name TEXT)")
            conn.execute("INSERT INTO people VALUES (1, 'a')")
        conn.close()
    before = _snapshot(path)
    with pytest.raises(InputError, match="not a polyir results database"):
        ResultsStore(path, create=False)
    assert _snapshot(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.db"]  # no journal or WAL left beside it


def test_a_writer_adds_nothing_to_another_programs_database(tmp_path):
    path = tmp_path / "results.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE people (id INTEGER, name TEXT)")
    conn.close()
    before = _snapshot(path)
    with pytest.raises(InputError, match="not a polyir results database"):
        ResultsStore(path)
    assert _snapshot(path) == before


def test_a_reader_opens_read_only(tmp_path):
    path = tmp_path / "results.db"
    with ResultsStore(path) as store:
        store.record(record(spec("X-Y"), {}))
    before = _snapshot(path)
    with ResultsStore(path, create=False) as reader:
        assert len(reader.runs()) == 1
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            reader.set_meta("reference", "X-Y")
    assert _snapshot(path) == before
