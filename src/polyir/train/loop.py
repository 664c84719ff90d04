"""`train(config)`: the training loop, top to bottom.

setup (runtime, data, sampler, model, optimizer, resume) -> for each step: draw the
global batch, take this rank's slice, collate, encode + InfoNCE over the gathered batch
(GradCache or one plain backward), stop on a non-finite loss, clip, step, log, evaluate,
checkpoint -> save the final model and the summary.  See docs/training.md.
"""
from __future__ import annotations

import contextlib
import dataclasses
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
from ..model_loading import resolve_prompts
from ..progress import progress as progress_bar
from ..stages import StageClock
from .checkpoint import latest_checkpoint, save_checkpoint
from .collate import batch_texts, sub_batches
from .train_config import AUTO_UPFRONT_PAIRS, TrainConfig
from .train_data import load_training_data
from .embedding_grad import EmbeddingGradBuffer
from .dev_evaluation import evaluate_model, load_dev_sets
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
    clock = StageClock("train")
    checkpoint = latest_checkpoint(out) if resume else None
    check_resumable(out, config, resume=resume)
    finished = finished_run(out) if resume else None
    if finished is not None:  # resuming a run that already ended: nothing to do
        log.info("%s: the run already ended (%s at step %d)", out, finished.stopped, finished.steps)
        return finished
    if resume and checkpoint is None and (out / "config.yaml").exists():
        log.warning("%s: no checkpoint to resume from; starting from step 0", out)
    set_runtime(config)
    clock.mark("setup")

    # ---- data and sampler: every rank draws the same global batches and keeps its slice
    data = load_training_data(config.data, dev=config.eval.dev)
    pairs = data.collection.pairs
    sampler, total_steps = make_sampler(config, data.index, ctx)
    clock.mark("load data")

    # ---- model, collate, optimizer, loss
    loaded = load_training_model(config.model, device=str(ctx.device),
                                 source=checkpoint.model_dir if checkpoint else None)
    module = loaded.module
    fast_dropout(config, module, ctx.device)
    clock.mark("load model")
    prompts = resolve_prompts(config.model.prompts, module)
    featurizer = Featurizer(module, prompts, max_query_length=config.model.max_query_length,
                            max_passage_length=config.model.max_passage_length,
                            cache=config.data.token_cache != "off")
    if config.data.token_cache == "upfront" or (config.data.token_cache == "auto"
                                                 and len(pairs) <= AUTO_UPFRONT_PAIRS):
        tokenize_upfront(featurizer, pairs, with_negatives=config.data.hard_negatives > 0)
    clock.mark("tokenize")
    freeze_unused(module, featurizer, pairs[0], ctx.device)
    optimizer = build_optimizer(module, config.optim)
    trainable = [p for group in optimizer.param_groups for p in group["params"]]
    scheduler = build_scheduler(optimizer, config.optim, total_steps)
    model = wrap(module, ctx)
    passes = bucketing(config, module, ctx.device)
    masking = config.loss.mask_same_group or config.loss.mask_same_positive
    loss = InfoNCE(temperature=config.loss.temperature, symmetric_weight=config.loss.symmetric_weight,
                   mask_same_group=masking)
    selection = Selection(config.eval.metric, config.eval.patience)
    step = restore(checkpoint, optimizer=optimizer, scheduler=scheduler, sampler=sampler,
                   selection=selection) if checkpoint else 0

    # ---- logging and evaluation
    logger = RunLogger(out, config.logging, enabled=ctx.is_main, resume_step=step if checkpoint else None)
    if ctx.is_main:
        atomic_write_text(out / "config.yaml", config.to_yaml())
        logger.log_config(config)
        logger.log("resume" if checkpoint else "start", step, {
            "total_steps": total_steps, "batches_per_epoch": len(sampler), "world_size": ctx.world_size,
            **count_parameters(module), "data": data.describe()})
    dev = load_dev_sets(config.eval) if config.eval.enabled else None
    clock.mark("prepare")

    def run_evaluation(at_step: int) -> bool:
        """Evaluate (rank 0), keep the best model; every rank learns whether to stop."""
        stop = False
        if ctx.is_main:
            metrics = evaluate_model(module, dev, config.eval, prompts=prompts, featurizer=featurizer, loss=loss,
                                     batch_size=config.sampler.batch_size, device=ctx.device)
            improved = selection.update(metrics, at_step)
            logger.log("eval", at_step, {**metrics, "best": selection.best_value, "improved": improved})
            if improved and config.checkpoint.save_best:
                save_model(module, out / "best", config, extra_files={"best.json": _best_json(selection)})
            stop = selection.should_stop
        return bool(ctx.broadcast_object(stop))

    stopped = "completed"
    if dev is not None and config.eval.at_start and step == 0 and run_evaluation(0):
        stopped = "early_stopping"
    clock.mark("evaluate at start")

    # ---- the loop
    train_seconds, steps_this_call = 0.0, 0
    batches_of_run = global_batches(sampler)
    encode = encoder(model, ctx.device, config.runtime.precision)
    embedding_grad = EmbeddingGradBuffer.attach(module, distributed=ctx.is_distributed)  # after DDP's wrap
    boundary = sampler.state_dict()  # sampler state after the last completed step
    bar = progress_bar(total=total_steps, initial=step, desc="train", unit="step",
                       disable=None if (progress and ctx.is_main) else True)
    try:
        while step < total_steps and stopped == "completed":
            tick = time.perf_counter()
            seed_step(config.seed, step, ctx.rank)  # dropout masks: a function of (seed, step, rank)
            batch = next(batches_of_run)
            local = batch.slice(ctx.rank, ctx.world_size) if ctx.is_distributed else batch
            texts = batch_texts(pairs, batch, local, hard_negatives=config.data.hard_negatives,
                                mask_same_group=config.loss.mask_same_group,
                                mask_same_positive=config.loss.mask_same_positive, seed=config.seed)
            groups = texts.mask_groups.to(ctx.device) if masking else None
            plan = sub_batches(featurizer, texts, config.optim.gradcache_chunk, ctx.device, passes)

            def loss_fn(embeddings):
                q, p, negatives = plan.split(embeddings)
                if ctx.is_distributed:
                    q, p = ctx.all_gather_with_grad(q), ctx.all_gather_with_grad(p)
                    if config.data.hard_negatives:
                        empty = q.new_zeros((0, q.shape[1]))
                        negatives = ctx.all_gather_with_grad(negatives if negatives is not None else empty)
                if negatives is not None and negatives.shape[0] == 0:
                    negatives = None
                return loss(q, p, groups, negatives)

            if config.optim.gradcache_chunk:
                no_sync = model.no_sync if ctx.is_distributed else None
                result = cached_step(encode, [plan.batches], loss_fn, backward_scale=ctx.loss_scale, no_sync=no_sync)
            else:
                result = direct_step(encode, [plan.batches], loss_fn, backward_scale=ctx.loss_scale)
            stats = {**result.output.as_floats(), **plan.stats()}
            if not math.isfinite(stats["loss"]):
                raise TrainingError(f"non-finite loss ({stats['loss']}) at step {step + 1}; stopped. "
                                    f"Last good checkpoint: {_latest_text(out)}")
            if config.optim.max_grad_norm is not None:
                stats["grad_norm"] = float(torch.nn.utils.clip_grad_norm_(trainable, config.optim.max_grad_norm))
            stats["lr"] = scheduler.get_last_lr()[0]
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            if embedding_grad is not None:
                embedding_grad.reset(full=not math.isfinite(stats.get("grad_norm", 0.0)))
            step += 1
            steps_this_call += 1
            boundary = sampler.state_dict()
            train_seconds += time.perf_counter() - tick
            if result.replay_error is not None:
                stats["replay_error"] = float(result.replay_error)
            pairs_per_second = steps_this_call * config.sampler.batch_size / max(train_seconds, 1e-9)

            if step % config.logging.every == 0 or step == total_steps:
                shares = sampler.stats.summary()
                logger.log("train", step, {**stats, "epoch": step / len(sampler), "kind": batch.kind,
                                           "pairs_per_second": pairs_per_second, **shares})
                bar.set_postfix(loss=f"{stats['loss']:.4f}", lr=f"{stats['lr']:.2e}",
                                pairs_s=f"{pairs_per_second:.0f}", mono=f"{shares['share_batches_mono']:.2f}",
                                refresh=False)
            bar.update(1)
            due = config.eval.every and step % config.eval.every == 0
            if dev is not None and (due or step == total_steps) and run_evaluation(step):
                stopped = "early_stopping"
            if config.checkpoint.every and step % config.checkpoint.every == 0 and step < total_steps:
                _checkpoint(out, step, module, optimizer, scheduler, boundary, selection, config, ctx, logger)
            if callback is not None and callback(StepInfo(step, module, stats)):
                stopped = "callback"
    except KeyboardInterrupt:
        if steps_this_call:
            _checkpoint(out, step, module, optimizer, scheduler, boundary, selection, config, ctx, logger)
        raise
    finally:
        bar.close()
        if embedding_grad is not None:
            embedding_grad.detach()

    # ---- the summary, the final model and the model cards
    clock.mark("steps")
    final = out / "final" if stopped != "callback" else None
    best = out / "best" if selection.best_step is not None and config.checkpoint.save_best else None
    summary = TrainSummary(
        out=out, final_model=final, best_model=best, steps=step, total_steps=total_steps,
        batches_per_epoch=len(sampler), stopped=stopped, metric=selection.metric,
        best_metric=selection.best_value, best_step=selection.best_step, last_metrics=selection.last_metrics,
        sampling=sampler.stats.summary(), language_pairs=sampler.stats.pair_table(), data=data.describe(),
        parameters=count_parameters(module), resumed_from=checkpoint.step if checkpoint else None,
        seconds=time.perf_counter() - started, train_seconds=train_seconds,
        pairs_per_second=steps_this_call * config.sampler.batch_size / train_seconds if train_seconds else 0.0)
    if ctx.is_main:
        _save_with_cards(module, config, summary, selection)
    clock.mark("save final model")
    summary = dataclasses.replace(summary, stage_seconds=clock.rounded())
    if ctx.is_main:
        atomic_write_json(out / "summary.json", summary.to_dict())
        logger.log("stop" if stopped == "callback" else "end", step, {"stopped": stopped})
    logger.close()
    ctx.barrier()
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


def _checkpoint(out: Path, step: int, module, optimizer, scheduler, sampler_state: dict, selection: Selection,
                config: TrainConfig, ctx: DistContext, logger: RunLogger) -> None:
    if ctx.is_main:
        state = {"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(), "sampler": sampler_state,
                 "progress": {"step": step, **selection.state_dict()}}
        saved = save_checkpoint(out, step, module, state, config=config, keep_last=config.checkpoint.keep_last)
        logger.log("checkpoint", step, {"path": str(saved.path)})
    ctx.barrier()


def _best_json(selection: Selection) -> str:
    return json.dumps({"metric": selection.metric, "value": selection.best_value, "step": selection.best_step,
                       "metrics": selection.last_metrics}, indent=2) + "\n"


def _latest_text(out: Path) -> str:
    found = latest_checkpoint(out)
    return str(found.path) if found else "none (no checkpoint was written yet)"
