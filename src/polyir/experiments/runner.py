"""One run = train (resumable) + evaluate every set + write the run record.

``run_one(run_dir)`` reads ``run_dir/spec.json`` and is idempotent: a finished run (its
``record.json`` exists) is returned as is; a finished training (``train/summary.json``)
is not repeated; an interrupted training resumes from its newest checkpoint; evaluation is
cheap and simply redone.  Layout of a run directory: docs/experiments.md ("Run directory").
"""
from __future__ import annotations

import dataclasses
import datetime
import logging
import os
import platform
import shutil
import time
import traceback
from pathlib import Path
from typing import Any

from ..config import set_dotted
from ..dirlock import DirectoryLock
from ..errors import ConfigError, InputError
from ..io import atomic_write_json, atomic_write_text, read_json
from ..train.model_card import CardEvaluation, read_model_card, write_model_card
from .grid import RunSpec
from .record import RunRecord, evaluation_rows, has_record, read_record, write_record
from .spec import EvalSetSpec

log = logging.getLogger(__name__)
SPEC_FILE = "spec.json"
ERROR_FILE = "error.txt"
LOG_FILE = "run.log"
FINISHED = ("completed", "early_stopping")


def write_spec(run_dir: str | Path, spec: RunSpec) -> Path:
    """Write ``spec.json`` (once; an existing one must describe the same run)."""
    path = Path(run_dir) / SPEC_FILE
    if path.exists():
        existing = read_spec(path)
        if existing.hash != spec.hash:
            raise InputError(f"holds run {existing.hash}, not {spec.hash}", path=path)
        return path
    atomic_write_json(path, spec.to_dict())
    return path


def load_spec(run_dir: str | Path) -> RunSpec:
    path = Path(run_dir) / SPEC_FILE
    if not path.exists():
        if path.is_symlink():
            raise InputError("cannot read it: a broken link", path=path)
        raise InputError("not a sweep run directory (no spec.json)", path=run_dir)
    return read_spec(path)


def read_spec(path: Path) -> RunSpec:
    """A run's ``spec.json``; a file that is not one is an `InputError` naming it."""
    doc = read_json(path)
    try:
        return RunSpec.from_dict(doc)
    except ConfigError as err:
        raise InputError(str(err), path=path) from None
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        raise InputError(f"not a run spec (written by polyir sweep): {type(err).__name__}: {err}", path=path) from None


def run_status(run_dir: str | Path) -> str:
    """``finished`` (record written), ``failed``, ``partial`` (training started) or ``todo``."""
    run_dir = Path(run_dir)
    if has_record(run_dir):
        return "finished"
    if (run_dir / ERROR_FILE).exists():
        return "failed"
    train = run_dir / "train"
    if (train / "summary.json").exists() or (train / "checkpoints").is_dir() or (train / "config.yaml").exists():
        return "partial"
    return "todo"


def run_one(run_dir: str | Path, *, progress: bool = True) -> RunRecord:
    """Train and evaluate the run described by ``run_dir/spec.json``; write its record."""
    run_dir = Path(run_dir)
    spec = load_spec(run_dir)
    # first the lock: a process that finds the run in use touches nothing in it (not even error.txt)
    with DirectoryLock(run_dir, "sweep run directory"):
        if has_record(run_dir):
            return read_record(run_dir)
        (run_dir / ERROR_FILE).unlink(missing_ok=True)
        try:
            return _run(spec, run_dir, progress)
        except Exception as err:
            atomic_write_text(run_dir / ERROR_FILE, f"{type(err).__name__}: {err}\n\n{traceback.format_exc()}")
            raise


def _run(spec: RunSpec, run_dir: Path, progress: bool) -> RunRecord:
    started_at = _now()
    tick = time.perf_counter()
    if spec.kind == "train":
        summary = train_stage(spec, run_dir, progress=progress)
        model = select_model(spec, summary)
    else:
        summary, model = None, spec.train["model"]["name_or_path"]
    trained = time.perf_counter()
    threads = (spec.train.get("runtime") or {}).get("threads")
    metrics, bias, matrices, details = [], [], [], {}
    for eval_set in spec.eval_sets:
        rows, bias_rows, mats, info = evaluate_stage(spec, eval_set, model, run_dir / "eval" / eval_set.name,
                                                     threads=threads)
        metrics += rows
        bias += bias_rows
        matrices += mats
        details[eval_set.name] = info
    done = time.perf_counter()
    from .. import __version__

    timings = {"started_at": started_at, "finished_at": _now(), "wall_seconds": done - tick,
               "train_stage_seconds": trained - tick, "eval_seconds": done - trained}
    record = RunRecord(spec, summary, timings, metrics, bias, matrices,
                       {"host": platform.node(), "polyir_version": __version__, "model": str(model),
                        "evaluation": details, "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES")})
    if spec.kind == "train":
        add_evaluations_to_card(model, spec, run_dir)
    write_record(run_dir, record)
    # checkpoints only serve resuming; once the record exists the run is never resumed again
    # (final/ and best/ stay): at 1.3 GB per multilingual-e5-small run they would fill the disk
    shutil.rmtree(run_dir / "train" / "checkpoints", ignore_errors=True)
    return record


def add_evaluations_to_card(model_dir: str | Path, spec: RunSpec, run_dir: Path) -> None:
    """Put the run's evaluation sets and the commands that reproduce it into the model's card."""
    card = read_model_card(model_dir)
    if card is None:  # a model trained before polyir wrote cards
        return
    evaluations = [CardEvaluation.from_metrics(read_json(run_dir / "eval" / e.name / "metrics.json"), name=e.name,
                                               source=f"{e.data.dataset} {e.data.data_dir}", how="sweep evaluation")
                   for e in spec.eval_sets]
    reproduce = (f"# sweep run {spec.hash} ({spec.axes.get('label')}): the training alone\n"
                 "polyir train --config config.yaml --out OUT\n"
                 f"# training and evaluation, from the run's spec.json\npolyir sweep --run-one {run_dir}")
    write_model_card(model_dir, dataclasses.replace(card.with_evaluations(evaluations), reproduce=reproduce))


def train_stage(spec: RunSpec, run_dir: Path, *, progress: bool = True) -> dict[str, Any]:
    """The train summary: from ``train/summary.json`` when training finished, else by training
    (``resume=True``: from the newest checkpoint, or from scratch when there is none)."""
    from ..train import build_config, train

    out = run_dir / "train"
    finished = finished_training(out)
    if finished is not None:
        log.info("%s: training already finished (%s steps); evaluating", spec.hash, finished["steps"])
        return finished
    config = build_config(set_dotted(spec.train, "out", str(out)), where=f"{run_dir / SPEC_FILE}")
    return train(config, resume=True, progress=progress).to_dict()


def finished_training(out: Path) -> dict[str, Any] | None:
    path = out / "summary.json"
    if not path.exists():
        return None
    summary = read_json(path)
    if summary.get("stopped") not in FINISHED or not summary.get("final_model"):
        return None
    return summary if Path(summary["final_model"]).is_dir() else None


def select_model(spec: RunSpec, summary: dict[str, Any]) -> str:
    if spec.select == "best" and summary.get("best_model"):
        return summary["best_model"]
    return summary["final_model"]


def evaluate_stage(spec: RunSpec, eval_set: EvalSetSpec, model_path: str, out: Path, *,
                   threads: int | None = None) -> tuple[list[dict], list[dict], list, dict]:
    """Evaluate ``model_path`` on one set; writes ``out`` (metrics.json, report.md, ...)."""
    from ..evaluate.pipeline import evaluate_model, load_eval_set, write_outputs
    from ..model import load_model

    _set_threads(threads)
    rset = load_eval_set(eval_set.data)
    device = (spec.train.get("runtime") or {}).get("device", "auto")
    model = load_model(model_path, device=device)
    options = eval_options(eval_set, spec.train["model"].get("prompts", "model"))
    evaluation = evaluate_model(model, rset, options, cache=None, progress=False)
    write_outputs(evaluation, rset, out, title=f"{spec.axes.get('label')} ({spec.hash}) on {eval_set.name}")
    metrics, bias, matrices = evaluation_rows(eval_set.name, evaluation.result)
    return metrics, bias, matrices, evaluation.info


def eval_options(eval_set: EvalSetSpec, train_prompts: Any):
    """The set's options; without explicit prompts, those the model was trained with."""
    options = eval_set.options
    if options.prompts is not None or options.query_prompt is not None or options.passage_prompt is not None:
        return options
    if isinstance(train_prompts, dict):
        return dataclasses.replace(options, query_prompt=train_prompts.get("query", ""),
                                   passage_prompt=train_prompts.get("passage", ""))
    return dataclasses.replace(options, prompts=None if train_prompts == "model" else train_prompts)


def _set_threads(threads: int | None) -> None:
    if not threads:
        return
    import torch

    torch.set_num_threads(threads)
    try:
        import numba

        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    except (ImportError, ValueError):
        pass


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
