"""``polyir train``: train a retriever from a YAML configuration plus flag overrides.

Precedence: the configuration file, then the dedicated flags (``--model``, ``--data``,
...), then ``--set key.sub=value`` in the order given.  Runs under ``torchrun`` /
``accelerate launch`` unchanged (one process per device).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .. import train as polyir_train  # torch loads when the command runs
from ..config_io import load_yaml, set_dotted
from ..errors import ConfigError
from ..io import looks_like_local_path
from ..sampling import WITH_ALPHA
from ..train.train_config import build_config


def flag_overrides(args: argparse.Namespace) -> dict[str, object]:
    """Dotted keys set by the dedicated flags."""
    values: dict[str, object] = {}
    if args.model:
        values["model.name_or_path"] = args.model
    if args.data:
        values["data.sources"] = list(args.data)
    for flag, key in (("dev", "eval.dev"), ("strategy", "sampler.strategy"), ("alpha", "sampler.alpha"),
                      ("batch_size", "sampler.batch_size"), ("steps", "optim.steps"), ("lr", "optim.lr"),
                      ("seed", "seed"), ("device", "runtime.device"), ("out", "out")):
        if getattr(args, flag) is not None:
            values[key] = getattr(args, flag)
    if args.steps is not None:
        values["optim.pairs"] = None
    if args.epochs is not None:
        values["optim.epochs"] = args.epochs
        values["optim.steps"] = values["optim.pairs"] = None
    if args.pairs is not None:
        values["optim.pairs"] = args.pairs
        values["optim.steps"] = None
    return values


def resolve_config(args: argparse.Namespace):
    data = load_yaml(args.config) if args.config else {}
    for key, value in flag_overrides(args).items():
        data = set_dotted(data, key, value)
    config = build_config(data, args.overrides, where=args.config or "command line")
    _check_alpha_applies(args, config.sampler.strategy)
    _check_model_path(config.model.name_or_path, args)
    return config


def _check_model_path(model: str, args: argparse.Namespace) -> None:
    """A local model path that does not exist, named with where it was written (before any work)."""
    if looks_like_local_path(model) and not Path(model).expanduser().exists():
        given = args.model == model or any(o.partition("=")[0].strip() == "model.name_or_path" for o in args.overrides)
        where = "--model" if args.model == model else "--set model.name_or_path" if given else args.config
        raise ConfigError(f"{where or 'command line'}: model.name_or_path: model directory not found: {model}")


def _check_alpha_applies(args: argparse.Namespace, strategy: str) -> None:
    """An α given on the command line with a strategy that has none would be ignored: refuse."""
    given = ["--alpha"] if args.alpha is not None else []
    given += [f"--set {text}" for text in args.overrides if text.partition("=")[0].strip() == "sampler.alpha"]
    if given and strategy not in WITH_ALPHA:
        raise ConfigError(f"{given[0]}: α is P(mono) of the hybrid and mixed strategies; strategy {strategy!r} has "
                          "no α (drop it, or choose --strategy hybrid / mixed)")


def run(args: argparse.Namespace) -> int:
    config = resolve_config(args)
    args.resolved_out = config.out
    if args.print_config:
        sys.stdout.write(config.to_yaml())
        return 0

    summary = polyir_train.train_launched(config, resume=args.resume, progress=not args.quiet)
    if summary is None:  # under torchrun: one report, from rank 0
        return 0
    best = f"; best {summary.metric} {summary.best_metric:.4f} at step {summary.best_step}" \
        if summary.best_metric is not None else ""
    print(f"trained {summary.steps} steps ({summary.stopped}), {summary.pairs_per_second:.1f} pairs/s{best}",
          file=sys.stderr)
    print(summary.final_model or summary.out)
    return 0
