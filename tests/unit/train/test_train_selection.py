"""Model selection (dev_loss, early stopping), the leakage guard's counts, and the optional loggers."""
from __future__ import annotations

import sys
import types
from collections import Counter

import pytest
from trainfixtures import base_config, read_log

from polyir.errors import ConfigError, InputError
from polyir.train import build_config, train
from polyir.train.train_config import DataConfig, LoggingConfig
from polyir.train.train_data import load_training_data
from polyir.train.logging import RunLogger
from polyir.train.summary import Selection


def test_selection_tracks_best_and_patience():
    selection = Selection("dev_loss", patience=2)
    assert selection.update({"dev_loss": 2.0}, 0) and selection.best_step == 0
    assert selection.update({"dev_loss": 1.5}, 10)
    assert not selection.update({"dev_loss": 1.5}, 20) and not selection.should_stop  # equal is not better
    assert not selection.update({"dev_loss": 1.7}, 30) and selection.should_stop
    assert (selection.best_value, selection.best_step) == (1.5, 10)
    higher = Selection("multi/AP")
    assert higher.update({"multi/AP": 0.2}, 0) and not higher.update({"multi/AP": 0.1}, 5)
    assert not higher.update({"multi/AP": float("nan")}, 6)
    with pytest.raises(ConfigError, match="'cross/AP' was not computed"):
        Selection("cross/AP").update({"multi/AP": 0.1}, 0)
    restored = Selection("dev_loss", patience=2)
    restored.load_state_dict(selection.state_dict())
    assert restored.state_dict() == selection.state_dict() and restored.should_stop


def test_dev_loss_selection_and_early_stopping(tmp_path, train_model_dir, synthetic_dir):
    config = build_config(base_config(
        train_model_dir, synthetic_dir / "train", tmp_path / "run", optim={"steps": 20, "lr": 1e-12},
        eval={"metric": "dev_loss", "loss_data": [f"dev={synthetic_dir / 'eval'}"], "every": 1, "patience": 2}))
    summary = train(config, progress=False)
    assert summary.stopped == "early_stopping" and summary.steps == 2  # lr ~0: the loss cannot improve
    assert summary.final_model.is_dir() and summary.best_step == 0
    evaluations = [r for r in read_log(summary.out) if r["event"] == "eval"]
    assert [r["step"] for r in evaluations] == [0, 1, 2] and all(r["dev_loss"] > 0 for r in evaluations)
    assert "multi/AP" not in evaluations[0]  # no retrieval dev set given


def test_leakage_guard_counts_are_reported(synthetic_dir):
    config = DataConfig(sources=(f"train={synthetic_dir / 'train'}", f"copy={synthetic_dir / 'eval'}"))
    data = load_training_data(config, dev=str(synthetic_dir / "eval"))
    leakage = data.describe()["leakage"]
    assert leakage["dropped_groups"] == 60 and leakage["groups_by_reason"] == {"id": 60}  # the copied dev questions
    assert data.describe()["datasets"] == ["train"]
    kept = load_training_data(DataConfig(sources=config.sources, exclude_dev=False), dev=str(synthetic_dir / "eval"))
    assert kept.leakage is None and kept.describe()["datasets"] == ["copy", "train"]
    with pytest.raises(InputError, match="no training pairs left"):
        load_training_data(DataConfig(sources=(f"copy={synthetic_dir / 'eval'}",)), dev=str(synthetic_dir / "eval"))


def test_tensorboard_logger_writes_events(tmp_path):
    pytest.importorskip("tensorboard")
    logger = RunLogger(tmp_path, LoggingConfig(tensorboard=True))
    logger.log("train", 1, {"loss": 1.5, "kind": "mono", "nan": float("nan")})
    logger.close()
    assert list((tmp_path / "tensorboard").glob("events.out.tfevents.*"))
    assert '"kind": "mono"' in (tmp_path / "log.jsonl").read_text()


def test_mlflow_logger_uses_the_mlflow_api(tmp_path, monkeypatch):
    calls = Counter()
    fake = types.SimpleNamespace(
        set_tracking_uri=lambda uri: calls.update(["uri"]), set_experiment=lambda name: calls.update([name]),
        start_run=lambda run_name: calls.update([f"run:{run_name}"]),
        log_metrics=lambda values, step: calls.update(values.keys()), log_params=lambda p: calls.update(["params"]),
        end_run=lambda status: calls.update([status]))
    monkeypatch.setitem(sys.modules, "mlflow", fake)
    logger = RunLogger(tmp_path / "run", LoggingConfig(mlflow=True, mlflow_tracking_uri="file:x"))
    logger.log("eval", 5, {"multi/AP": 0.3, "note": "x"})
    logger.close()
    assert calls == Counter({"uri": 1, "polyir": 1, "run:run": 1, "eval.multi/AP": 1, "FINISHED": 1})


def test_missing_optional_logger_is_a_config_error(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "mlflow", None)  # import fails
    with pytest.raises(ConfigError, match=r"pip install 'polyir\[mlflow\]'"):
        RunLogger(tmp_path, LoggingConfig(mlflow=True))
