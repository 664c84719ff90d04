"""Checkpoints and resume: an interrupted run ends with the weights of an uninterrupted one."""
from __future__ import annotations

import math

import pytest
import torch
from trainfixtures import base_config, max_weight_difference, read_log, weights

from polyir.errors import ConfigError, TrainingError
from polyir.train import build_config, list_checkpoints, train

STEPS = 8


def config_for(tmp_path, name, model_dir, data_path, **sections):
    sections.setdefault("optim", {"steps": STEPS})
    sections.setdefault("checkpoint", {"every": 2, "keep_last": 2})
    # dropout on: resuming must also reproduce the random masks
    sections.setdefault("model", {"name_or_path": str(model_dir), "dropout": 0.1})
    # small length buckets: several forward passes a step, each drawing its own masks
    sections.setdefault("runtime", {"threads": 1, "bucket_overhead": 8})
    return build_config(base_config(model_dir, data_path, tmp_path / name, **sections))


def stop_after(k):
    return lambda info: info.step >= k


def train_losses(out):
    return [record["loss"] for record in read_log(out) if record["event"] == "train"]


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory, train_model_dir, synthetic_dir):
    tmp = tmp_path_factory.mktemp("reference")
    return train(config_for(tmp, "ref", train_model_dir, synthetic_dir / "train"), progress=False)


def test_stopped_and_resumed_run_equals_uninterrupted_run(tmp_path, train_model_dir, synthetic_dir, uninterrupted):
    config = config_for(tmp_path, "run", train_model_dir, synthetic_dir / "train")
    stopped = train(config, progress=False, callback=stop_after(5))
    assert stopped.stopped == "callback" and stopped.steps == 5 and stopped.final_model is None
    assert [c.step for c in list_checkpoints(config.out)] == [2, 4]  # keep_last 2; step 5 is lost
    with open(stopped.out / "log.jsonl", "a", encoding="utf-8") as log:
        log.write('{"event": "train", "step": 6, "lo')  # a record cut short by kill -9
    resumed = train(config, resume=True, progress=False)
    assert resumed.resumed_from == 4 and resumed.steps == STEPS and resumed.stopped == "completed"
    assert max_weight_difference(weights(resumed.final_model), weights(uninterrupted.final_model)) <= 1e-6
    assert train_losses(resumed.out) == pytest.approx(train_losses(uninterrupted.out), rel=1e-6)
    assert resumed.sampling == uninterrupted.sampling  # the sampler continued where it stopped
    log = read_log(resumed.out)
    events = [(r["event"], r["step"]) for r in log]
    assert len(events) == len(set(events)), "a resumed run logs each (event, step) once"
    assert [e for e in events if e[0] != "resume"] == [(e, s) for e, s in
                                                     ((r["event"], r["step"]) for r in read_log(uninterrupted.out))]
    assert ("resume", 4) in events and ("stop", 5) not in events
    assert all(r["forward_passes"] >= 2 for r in read_log(resumed.out) if r["event"] == "train")


def test_interrupt_saves_the_last_completed_step(tmp_path, train_model_dir, synthetic_dir, uninterrupted):
    config = config_for(tmp_path, "run", train_model_dir, synthetic_dir / "train")

    def interrupt(info):
        if info.step == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(config, progress=False, callback=interrupt)
    assert [c.step for c in list_checkpoints(config.out)] == [2, 3]
    resumed = train(config, resume=True, progress=False)
    assert resumed.resumed_from == 3
    assert max_weight_difference(weights(resumed.final_model), weights(uninterrupted.final_model)) <= 1e-6


def test_non_finite_loss_stops_and_keeps_the_last_good_checkpoint(tmp_path, train_model_dir, synthetic_dir):
    config = config_for(tmp_path, "nan", train_model_dir, synthetic_dir / "train",
                        checkpoint={"every": 3, "keep_last": 5})

    def poison(info):
        if info.step == 3:  # after the step-3 checkpoint: the next loss is NaN
            with torch.no_grad():
                next(p for p in info.module.parameters() if p.requires_grad).fill_(math.nan)

    with pytest.raises(TrainingError, match=r"non-finite loss \(nan\) at step 4.*step-00000003"):
        train(config, progress=False, callback=poison)
    checkpoints = list_checkpoints(config.out)
    assert [c.step for c in checkpoints] == [3]
    assert all(torch.isfinite(t).all() for t in weights(checkpoints[-1].model_dir).values())
    assert not (tmp_path / "nan" / "final").exists()
    assert TrainingError.exit_code != 0


def test_resume_refuses_a_changed_configuration(tmp_path, train_model_dir, synthetic_dir):
    config = config_for(tmp_path, "run", train_model_dir, synthetic_dir / "train")
    train(config, progress=False, callback=stop_after(2))
    changed = config_for(tmp_path, "run", train_model_dir, synthetic_dir / "train",
                         optim={"steps": STEPS, "lr": 5e-4})
    with pytest.raises(ConfigError, match=r"optim.lr was 0.001 in the saved run and is 0.0005 now"):
        train(changed, resume=True, progress=False)
    harmless = config_for(tmp_path, "run", train_model_dir, synthetic_dir / "train", logging={"every": 3},
                          checkpoint={"every": 4})
    assert train(harmless, resume=True, progress=False).steps == STEPS


def test_resuming_a_finished_run_does_nothing(tmp_path, train_model_dir, synthetic_dir, uninterrupted):
    config = config_for(tmp_path, "ref", train_model_dir, synthetic_dir / "train")
    first = train(config, progress=False)
    modified = (tmp_path / "ref" / "final" / "model.safetensors").stat().st_mtime_ns
    again = train(config, resume=True, progress=False)
    assert again == first and again.steps == STEPS
    assert (tmp_path / "ref" / "final" / "model.safetensors").stat().st_mtime_ns == modified


def test_resume_without_checkpoint_starts_afresh(tmp_path, train_model_dir, synthetic_dir, uninterrupted):
    config = config_for(tmp_path, "fresh", train_model_dir, synthetic_dir / "train")
    summary = train(config, resume=True, progress=False)
    assert summary.resumed_from is None
    assert max_weight_difference(weights(summary.final_model), weights(uninterrupted.final_model)) == 0.0


def test_a_second_process_on_the_output_directory_is_refused(tmp_path, train_model_dir, synthetic_dir):
    from polyir.dirlock import DirectoryInUse, DirectoryLock

    config = config_for(tmp_path, "busy", train_model_dir, synthetic_dir / "train")
    with DirectoryLock(config.out, "training output directory"):
        for resume in (False, True):
            with pytest.raises(DirectoryInUse, match="busy: this training output directory is in use"):
                train(config, resume=resume, progress=False)
        assert [p.name for p in (tmp_path / "busy").iterdir()] == [".polyir.lock"]  # nothing else written
