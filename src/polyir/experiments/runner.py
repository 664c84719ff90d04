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

from .. import __version__
from ..config_io import set_dotted
from ..dirlock import DirectoryLock
from ..evaluate.eval_pipeline import evaluate_model, load_eval_set, write_metrics
from ..io import atomic_write_text, read_json
from ..model_loading import load_model
from ..stages import StageClock, seconds_since_process_start
from ..train import build_config, train
from ..train.model_card import CardEvaluation, read_model_card, write_model_card
from .grid import RunSpec
from .record import RunRecord, evaluation_rows, has_record, read_record, write_record
from .run_dir import ERROR_FILE, SPEC_FILE, load_spec
from .sweep_types import EvalSetSpec

log = logging.getLogger(__name__)
FINISHED = ("completed", "early_stopping")


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
    startup = seconds_since_process_start()  # interpreter, imports and argument parsing before this call
    clock = StageClock(spec.hash)
    tick = time.perf_counter()
    _import_libraries()
    _set_threads((spec.train.get("runtime") or {}).get("threads"))  # torch's and numba's (numba is imported here)
    clock.mark("import libraries")
    summary, model_path, model = _train_and_select(spec, run_dir, progress, clock)
    trained = time.perf_counter()
    metrics, bias, matrices, details = [], [], [], {}
    for eval_set in spec.eval_sets:
        rows, bias_rows, mats, info = evaluate_stage(spec, eval_set, model, run_dir / "eval" / eval_set.name,
                                                     clock=clock, source=str(model_path))
        metrics, bias, matrices, details[eval_set.name] = metrics + rows, bias + bias_rows, matrices + mats, info
    if spec.kind == "train":
        add_evaluations_to_card(model_path, spec, run_dir)
        clock.mark("model card")
    done = time.perf_counter()

    timings = {"started_at": started_at, "finished_at": _now(), "wall_seconds": done - tick,
               "train_stage_seconds": trained - tick, "eval_seconds": done - trained,
               "startup_seconds": startup, "stages": clock.rounded(),
               "train_stages": (summary or {}).get("stage_seconds", {})}
    record = RunRecord(spec, summary, timings, metrics, bias, matrices,
                       {"host": platform.node(), "polyir_version": __version__, "model": str(model_path),
                        "evaluation": details, "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES")})
    write_record(run_dir, record)
    clock.mark("write record")
    # checkpoints only serve resuming; once the record exists the run is never resumed again
    # (final/ and best/ stay): at 1.3 GB per multilingual-e5-small run they would fill the disk
    shutil.rmtree(run_dir / "train" / "checkpoints", ignore_errors=True)
    total = seconds_since_process_start()
    log.info("%s: %s s from process start to record (start-up %s s)", spec.hash,
             f"{total:.1f}" if total is not None else "?", f"{startup:.1f}" if startup is not None else "?")
    return record


def _train_and_select(spec: RunSpec, run_dir: Path, progress: bool, clock: StageClock):
    """``(train summary or None, path of the model to evaluate, the model)``."""
    in_memory = None
    if spec.kind == "train":
        summary, in_memory = train_stage(spec, run_dir, progress=progress)
        model_path = select_model(spec, summary)
    else:
        summary, model_path = None, spec.train["model"]["name_or_path"]
    clock.mark("train")
    final = model_path == (summary or {}).get("final_model")
    model = evaluation_model(spec, model_path, in_memory if final else None)
    clock.mark("load model for evaluation")
    return summary, model_path, model


def _import_libraries() -> None:
    """Import the heavy libraries up front, so that their cost is a stage of its own."""
    import numba  # noqa: F401
    import sentence_transformers  # noqa: F401
    import torch  # noqa: F401
    import transformers  # noqa: F401


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


def train_stage(spec: RunSpec, run_dir: Path, *, progress: bool = True) -> tuple[dict[str, Any], Any]:
    """The train summary and the trained model in memory (None when training had finished
    before: its summary comes from ``train/summary.json``).  Training resumes from the newest
    checkpoint, or starts from scratch when there is none."""
    out = run_dir / "train"
    finished = finished_training(out)
    if finished is not None:
        log.info("%s: training already finished (%s steps); evaluating", spec.hash, finished["steps"])
        return finished, None
    config = build_config(set_dotted(spec.train, "out", str(out)), where=f"{run_dir / SPEC_FILE}")
    last: dict[str, Any] = {}  # the module of the last step is the model saved as final/
    summary = train(config, resume=True, progress=progress, callback=lambda info: last.update(module=info.module))
    return summary.to_dict(), last.get("module")


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


def evaluation_model(spec: RunSpec, model_path: str, in_memory=None):
    """The model every evaluation set of the run is encoded with: the trained model still in
    memory (the very weights saved as ``final/``, not read back), else loaded once."""
    if in_memory is not None:
        return in_memory
    device = (spec.train.get("runtime") or {}).get("device", "auto")
    return load_model(model_path, device=device)


def evaluate_stage(spec: RunSpec, eval_set: EvalSetSpec, model, out: Path, *, clock: StageClock | None = None,
                   source: str | None = None) -> tuple[list[dict], list[dict], list, dict]:
    """Evaluate ``model`` (a `LoadedModel`, or the trained SentenceTransformer still in memory,
    saved at ``source``) on one set; writes ``out/metrics.json``.

    Only ``metrics.json`` is written: the run record holds every number of the evaluation
    (``record.json`` + ``per_query.npz``), and the report is drawn from the database;
    ``polyir evaluate`` writes the per-set report, heatmap and per-query table when wanted."""
    clock = clock or StageClock(spec.hash)
    rset = load_eval_set(eval_set.data)
    clock.mark(f"load {eval_set.name}")
    options = eval_options(eval_set, spec.train["model"].get("prompts", "model"))
    evaluation = evaluate_model(model, rset, options, cache=None, progress=False)
    if source is not None:
        evaluation.info["model"] = source
    for stage, seconds in evaluation.info["seconds"].items():
        clock.add(f"{stage} {eval_set.name}", seconds)
    clock.restart()
    write_metrics(evaluation, out)
    metrics, bias, matrices = evaluation_rows(eval_set.name, evaluation.result)
    clock.mark(f"write {eval_set.name}")
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
