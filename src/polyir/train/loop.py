"""`train(config)`: the training loop, top to bottom.

setup (runtime, data, sampler, model, optimizer, resume) -> for each step: draw the
global batch, take this rank's slice, collate, encode + InfoNCE over the gathered batch
(GradCache or one plain backward), stop on a non-finite loss, clip, step, log, evaluate,
checkpoint -> save the final model and the summary.  See docs/training.md.
"""
from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch

from ..dirlock import DirectoryLock
from ..distributed import DistContext, init_distributed
from ..errors import ConfigError, TrainingError
from ..gradcache import cached_step, direct_step
from ..io import atomic_write_json, atomic_write_text, output_directory, read_json
from ..losses import InfoNCE
from ..model_loading import Prompts, resolve_prompts
from ..progress import progress as progress_bar
from ..sampling import BatchSampler
from ..stages import StageClock
from .checkpoint import Checkpoint, latest_checkpoint, save_checkpoint
from .collate import Bucketing, batch_texts, sub_batches
from .train_config import AUTO_UPFRONT_PAIRS, TrainConfig
from .train_data import TrainingData, load_training_data
from .embedding_grad import EmbeddingGradBuffer
from .dev_evaluation import DevSets, evaluate_model, load_dev_sets
from ..featurize import Featurizer
from .logging import RunLogger
from .model_card import card_files, set_card_data, training_card, write_model_card
from .modeling import count_parameters, load_training_model, save_model
from .optim import build_optimizer, build_scheduler
from .resume import check_resumable, finished_run, restore
from .setup import (
    bucketing,
    encoder,
    fast_dropout,
    freeze_unused,
    global_batches,
    make_sampler,
    seed_step,
    set_runtime,
    tokenize_upfront,
    training_precision,
    wrap,
)
from .summary import Selection, TrainSummary

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StepInfo:
    """What a ``callback`` sees after each optimizer step (return True to stop the run)."""

    step: int
    module: torch.nn.Module
    stats: dict[str, float]


def train(config: TrainConfig, *, resume: bool = False, progress: bool = True,
          callback: Callable[[StepInfo], bool | None] | None = None) -> TrainSummary:
    """Train ``config.model`` on ``config.data``; everything is written to ``config.out``.

    ``resume``: continue from the newest checkpoint in ``config.out`` (start afresh if there
    is none).  ``callback(StepInfo)`` runs after every step; returning True stops the run as
    an interruption would (checkpoints only, no final model).  Raises `TrainingError` on a
    non-finite loss (the last good checkpoint is kept) and `ConfigError` / `InputError` for
    bad configuration or data.
    """
    started = time.perf_counter()
    if not config.out:
        raise ConfigError("no output directory: set 'out' in the configuration or pass --out")
    out = output_directory(config.out, create=False)  # a bad 'out' fails before data and model are loaded
    ctx = init_distributed(device=config.runtime.device)  # checks the device first: fails before any loading
    # the main process holds OUT for the whole run: a second process on it is refused (docs/guarantees.md)
    with DirectoryLock(out, "training output directory") if ctx.is_main else contextlib.nullcontext():
        return _train(config, out, ctx, started, resume=resume, progress=progress, callback=callback)


def _train(config: TrainConfig, out: Path, ctx: DistContext, started: float, *, resume: bool, progress: bool,
           callback: Callable[[StepInfo], bool | None] | None) -> TrainSummary:
    """The table of contents: prepare the run, take the steps (each followed by log / evaluate /
    checkpoint), finish (final model, cards, summary)."""
    clock = StageClock("train")
    checkpoint = latest_checkpoint(out) if resume else None
    finished = _finished_before(config, out, checkpoint, resume=resume)
    if finished is not None:  # resuming a run that already ended: nothing to do
        return finished
    set_runtime(config)
    clock.mark("setup")
    run = _prepare(config, out, ctx, checkpoint, clock)
    state = _LoopState(step=run.start_step)
    if run.dev is not None and config.eval.at_start and state.step == 0 and _evaluate(run, 0):
        state.stopped = "early_stopping"
    clock.mark("evaluate at start")
    _take_steps(run, state, progress=progress, callback=callback)
    clock.mark("steps")
    return _finish(run, state, clock, started)


@dataclass(frozen=True)
class GlobalBatchLoss:
    """InfoNCE over the global batch: this rank's embeddings, gathered with their gradient from
    every rank (built once; `_one_step` binds each step's plan and mask groups)."""

    loss: InfoNCE
    ctx: DistContext
    hard_negatives: int

    def __call__(self, embeddings: torch.Tensor, *, plan, groups: torch.Tensor | None) -> object:
        q, p, negatives = plan.split(embeddings)
        if self.ctx.is_distributed:
            q, p = self.ctx.all_gather_with_grad(q), self.ctx.all_gather_with_grad(p)
            if self.hard_negatives:
                empty = q.new_zeros((0, q.shape[1]))
                negatives = self.ctx.all_gather_with_grad(negatives if negatives is not None else empty)
        if negatives is not None and negatives.shape[0] == 0:
            negatives = None
        return self.loss(q, p, groups, negatives)


@dataclass(frozen=True)
class _Run:
    """What `_prepare` builds and every later stage reads."""

    config: TrainConfig
    out: Path
    ctx: DistContext
    checkpoint: Checkpoint | None
    data: TrainingData
    sampler: BatchSampler
    total_steps: int
    module: torch.nn.Module
    model: torch.nn.Module  # ``module``, wrapped in DDP when distributed
    prompts: Prompts
    featurizer: Featurizer
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LambdaLR
    trainable: list[torch.nn.Parameter]
    passes: Bucketing
    loss: InfoNCE
    batch_loss: GlobalBatchLoss
    selection: Selection
    logger: RunLogger
    dev: DevSets | None
    start_step: int
    precision: str  # runtime.precision resolved on the device, once: bf16 | fp32

    @property
    def masking(self) -> bool:
        return self.config.loss.mask_same_group or self.config.loss.mask_same_positive


@dataclass
class _LoopState:
    """What changes from step to step."""

    step: int
    stopped: str = "completed"
    steps_this_call: int = 0
    train_seconds: float = 0.0
    boundary: dict | None = None  # sampler state after the last completed step

    def pairs_per_second(self, batch_size: int) -> float:
        return self.steps_this_call * batch_size / max(self.train_seconds, 1e-9)


def _finished_before(config: TrainConfig, out: Path, checkpoint: Checkpoint | None, *,
                     resume: bool) -> TrainSummary | None:
    """The summary of a resumed run that already ended (None: there is work to do)."""
    check_resumable(out, config, resume=resume)
    finished = finished_run(out) if resume else None
    if finished is not None:
        log.info("%s: the run already ended (%s at step %d)", out, finished.stopped, finished.steps)
        return finished
    if resume and checkpoint is None and (out / "config.yaml").exists():
        log.warning("%s: no checkpoint to resume from; starting from step 0", out)
    return None


def _prepare(config: TrainConfig, out: Path, ctx: DistContext, checkpoint: Checkpoint | None,
             clock: StageClock) -> _Run:
    """Data and sampler (every rank draws the same global batches and keeps its slice), model and
    tokens, optimizer and loss, the restored state, logging and the dev sets."""
    data = load_training_data(config.data, dev=config.eval.dev)
    sampler, total_steps = make_sampler(config, data.index, ctx)
    clock.mark("load data")
    module = load_training_model(config.model, device=str(ctx.device),
                                 source=checkpoint.model_dir if checkpoint else None).module
    fast_dropout(config, module, ctx.device)
    clock.mark("load model")
    prompts = resolve_prompts(config.model.prompts, module)
    featurizer = _featurizer(config, module, prompts, data.collection.pairs)
    clock.mark("tokenize")
    freeze_unused(module, featurizer, data.collection.pairs[0], ctx.device)
    optimizer = build_optimizer(module, config.optim)
    trainable = [p for group in optimizer.param_groups for p in group["params"]]
    scheduler = build_scheduler(optimizer, config.optim, total_steps)
    model = wrap(module, ctx)
    passes = bucketing(config, module, ctx.device)
    loss = InfoNCE(temperature=config.loss.temperature, symmetric_weight=config.loss.symmetric_weight,
                   mask_same_group=config.loss.mask_same_group or config.loss.mask_same_positive)
    selection = Selection(config.eval.metric, config.eval.patience)
    step = restore(checkpoint, optimizer=optimizer, scheduler=scheduler, sampler=sampler,
                   selection=selection) if checkpoint else 0
    logger = _start_log(config, out, ctx, checkpoint, step, sampler, total_steps, module, data)
    dev = load_dev_sets(config.eval) if config.eval.enabled else None
    clock.mark("prepare")
    return _Run(config, out, ctx, checkpoint, data, sampler, total_steps, module, model, prompts, featurizer,
                optimizer, scheduler, trainable, passes, loss, GlobalBatchLoss(loss, ctx, config.data.hard_negatives),
                selection, logger, dev, step, training_precision(config.runtime.precision, ctx.device))


def _featurizer(config: TrainConfig, module, prompts, pairs) -> Featurizer:
    featurizer = Featurizer(module, prompts, max_query_length=config.model.max_query_length,
                            max_passage_length=config.model.max_passage_length,
                            cache=config.data.token_cache != "off")
    if config.data.token_cache == "upfront" or (config.data.token_cache == "auto"
                                                 and len(pairs) <= AUTO_UPFRONT_PAIRS):
        tokenize_upfront(featurizer, pairs, with_negatives=config.data.hard_negatives > 0)
    return featurizer


def _start_log(config: TrainConfig, out: Path, ctx: DistContext, checkpoint: Checkpoint | None, step: int, sampler,
               total_steps: int, module, data) -> RunLogger:
    """The run's logger; rank 0 writes the resolved ``config.yaml`` and the start (or resume) record."""
    logger = RunLogger(out, config.logging, enabled=ctx.is_main, resume_step=step if checkpoint else None)
    if ctx.is_main:
        atomic_write_text(out / "config.yaml", config.to_yaml())
        logger.log_config(config)
        logger.log("resume" if checkpoint else "start", step, {
            "total_steps": total_steps, "batches_per_epoch": len(sampler), "world_size": ctx.world_size,
            **count_parameters(module), "data": data.describe()})
    return logger


def _take_steps(run: _Run, state: _LoopState, *, progress: bool,
                callback: Callable[[StepInfo], bool | None] | None) -> None:
    """Steps until the budget is spent or the run stops; Ctrl-C checkpoints the last finished step."""
    batches = global_batches(run.sampler)
    encode = encoder(run.model, run.ctx.device, run.precision)
    embedding_grad = EmbeddingGradBuffer.attach(run.module, distributed=run.ctx.is_distributed)  # after DDP's wrap
    state.boundary = run.sampler.state_dict()
    bar = progress_bar(total=run.total_steps, initial=state.step, desc="train", unit="step",
                       disable=None if (progress and run.ctx.is_main) else True)
    try:
        while state.step < run.total_steps and state.stopped == "completed":
            tick = time.perf_counter()
            batch, stats = _one_step(run, encode, batches, state.step, embedding_grad)
            state.step += 1
            state.steps_this_call += 1
            state.boundary = run.sampler.state_dict()
            state.train_seconds += time.perf_counter() - tick
            _after_step(run, state, batch, stats, bar, callback)
    except KeyboardInterrupt:
        if state.steps_this_call:
            _checkpoint(run, state)
        raise
    finally:
        bar.close()
        if embedding_grad is not None:
            embedding_grad.detach()


def _one_step(run: _Run, encode, batches, step: int, embedding_grad) -> tuple[object, dict[str, float]]:
    """Draw the global batch, encode this rank's slice, InfoNCE over the gathered batch (GradCache
    or one plain backward), stop on a non-finite loss, clip, one optimizer step."""
    config, ctx = run.config, run.ctx
    seed_step(config.seed, step, ctx.rank)  # dropout masks: a function of (seed, step, rank)
    batch = next(batches)
    local = batch.slice(ctx.rank, ctx.world_size) if ctx.is_distributed else batch
    texts = batch_texts(run.data.collection.pairs, batch, local, hard_negatives=config.data.hard_negatives,
                        mask_same_group=config.loss.mask_same_group,
                        mask_same_positive=config.loss.mask_same_positive, seed=config.seed)
    groups = texts.mask_groups.to(ctx.device) if run.masking else None
    plan = sub_batches(run.featurizer, texts, config.optim.gradcache_chunk, ctx.device, run.passes)
    loss_fn = functools.partial(run.batch_loss, plan=plan, groups=groups)
    if config.optim.gradcache_chunk:
        no_sync = run.model.no_sync if ctx.is_distributed else None
        result = cached_step(encode, [plan.batches], loss_fn, backward_scale=ctx.loss_scale, no_sync=no_sync)
    else:
        result = direct_step(encode, [plan.batches], loss_fn, backward_scale=ctx.loss_scale)
    stats = {**result.output.as_floats(), **plan.stats()}
    if not math.isfinite(stats["loss"]):
        raise TrainingError(f"non-finite loss ({stats['loss']}) at step {step + 1}; stopped. "
                            f"Last good checkpoint: {_latest_text(run.out)}")
    if config.optim.max_grad_norm is not None:
        stats["grad_norm"] = float(torch.nn.utils.clip_grad_norm_(run.trainable, config.optim.max_grad_norm))
    stats["lr"] = run.scheduler.get_last_lr()[0]
    run.optimizer.step()
    run.scheduler.step()
    run.optimizer.zero_grad(set_to_none=True)
    if embedding_grad is not None:
        embedding_grad.reset(full=not math.isfinite(stats.get("grad_norm", 0.0)))
    if result.replay_error is not None:
        stats["replay_error"] = float(result.replay_error)
    return batch, stats


def _after_step(run: _Run, state: _LoopState, batch, stats: dict[str, float], bar,
                callback: Callable[[StepInfo], bool | None] | None) -> None:
    """Log (every ``logging.every`` steps), evaluate (every ``eval.every``), checkpoint (every
    ``checkpoint.every``), then ask the callback."""
    config, step = run.config, state.step
    if step % config.logging.every == 0 or step == run.total_steps:
        _log_step(run, state, batch, stats, bar)
    bar.update(1)
    due = config.eval.every and step % config.eval.every == 0
    if run.dev is not None and (due or step == run.total_steps) and _evaluate(run, step):
        state.stopped = "early_stopping"
    if config.checkpoint.every and step % config.checkpoint.every == 0 and step < run.total_steps:
        _checkpoint(run, state)
    if callback is not None and callback(StepInfo(step, run.module, stats)):
        state.stopped = "callback"


def _log_step(run: _Run, state: _LoopState, batch, stats: dict[str, float], bar) -> None:
    pairs_per_second = state.pairs_per_second(run.config.sampler.batch_size)
    shares = run.sampler.stats.summary()
    run.logger.log("train", state.step, {**stats, "epoch": state.step / len(run.sampler), "kind": batch.kind,
                                         "pairs_per_second": pairs_per_second, **shares})
    bar.set_postfix(loss=f"{stats['loss']:.4f}", lr=f"{stats['lr']:.2e}", pairs_s=f"{pairs_per_second:.0f}",
                    mono=f"{shares['share_batches_mono']:.2f}", refresh=False)


def _evaluate(run: _Run, at_step: int) -> bool:
    """Evaluate (rank 0), keep the best model; every rank learns whether to stop."""
    stop = False
    if run.ctx.is_main:
        config, selection = run.config, run.selection
        metrics = evaluate_model(run.module, run.dev, config.eval, prompts=run.prompts, featurizer=run.featurizer,
                                 loss=run.loss, batch_size=config.sampler.batch_size, device=run.ctx.device,
                                 chunk=config.optim.gradcache_chunk)
        improved = selection.update(metrics, at_step)
        run.logger.log("eval", at_step, {**metrics, "best": selection.best_value, "improved": improved})
        if improved and config.checkpoint.save_best:
            save_model(run.module, run.out / "best", config, extra_files={"best.json": _best_json(selection)})
        stop = selection.should_stop
    return bool(run.ctx.broadcast_object(stop))


def _finish(run: _Run, state: _LoopState, clock: StageClock, started: float) -> TrainSummary:
    """The summary, the final model and the model cards (rank 0); every rank returns the summary."""
    config, selection, sampler = run.config, run.selection, run.sampler
    final = run.out / "final" if state.stopped != "callback" else None
    best = run.out / "best" if selection.best_step is not None and config.checkpoint.save_best else None
    summary = TrainSummary(
        out=run.out, final_model=final, best_model=best, steps=state.step, total_steps=run.total_steps,
        batches_per_epoch=len(sampler), stopped=state.stopped, metric=selection.metric,
        best_metric=selection.best_value, best_step=selection.best_step, last_metrics=selection.last_metrics,
        sampling=sampler.stats.summary(), language_pairs=sampler.stats.pair_table(), data=run.data.describe(),
        parameters=count_parameters(run.module), resumed_from=run.checkpoint.step if run.checkpoint else None,
        seconds=time.perf_counter() - started, train_seconds=state.train_seconds,
        pairs_per_second=(state.steps_this_call * config.sampler.batch_size / state.train_seconds
                          if state.train_seconds else 0.0),
        precision=run.precision, device=str(run.ctx.device))
    if run.ctx.is_main:
        _save_with_cards(run.module, config, summary, selection)
    clock.mark("save final model")
    summary = dataclasses.replace(summary, stage_seconds=clock.rounded())
    if run.ctx.is_main:
        atomic_write_json(run.out / "summary.json", summary.to_dict())
        run.logger.log("stop" if state.stopped == "callback" else "end", state.step, {"stopped": state.stopped})
    run.logger.close()
    run.ctx.barrier()
    return summary


def _save_with_cards(module, config: TrainConfig, summary: TrainSummary, selection: Selection) -> None:
    """The final model with its card, and the card of the best checkpoint (saved during training)."""
    if summary.final_model is not None:
        card = training_card(config, summary, selected=f"the final model, after step {summary.steps}",
                             dev_metrics=selection.last_metrics, dev_step=summary.steps)
        set_card_data(module, card)
        save_model(module, summary.final_model, config, extra_files=card_files(card))
    if summary.best_model is not None and (summary.best_model / "best.json").is_file():
        best = read_json(summary.best_model / "best.json")
        selected = (f"the best checkpoint by {summary.metric} on the dev set: step {best['step']}, "
                    f"{summary.metric} = {best['value']:.4f}")
        write_model_card(summary.best_model, training_card(config, summary, selected=selected,
                                                           dev_metrics=best["metrics"], dev_step=best["step"]))


def _checkpoint(run: _Run, state: _LoopState) -> None:
    if run.ctx.is_main:
        state_dict = {"optimizer": run.optimizer.state_dict(), "scheduler": run.scheduler.state_dict(),
                      "sampler": state.boundary, "progress": {"step": state.step, **run.selection.state_dict()}}
        saved = save_checkpoint(run.out, state.step, run.module, state_dict, config=run.config,
                                keep_last=run.config.checkpoint.keep_last)
        run.logger.log("checkpoint", state.step, {"path": str(saved.path)})
    run.ctx.barrier()


def _best_json(selection: Selection) -> str:
    return json.dumps({"metric": selection.metric, "value": selection.best_value, "step": selection.best_step,
                       "metrics": selection.last_metrics}, indent=2) + "\n"


def _latest_text(out: Path) -> str:
    found = latest_checkpoint(out)
    return str(found.path) if found else "none (no checkpoint was written yet)"
