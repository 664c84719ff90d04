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
from ..sampling import STRATEGIES, WITH_ALPHA
from ..train.train_config import build_config
from .argtypes import non_negative_int, positive_float, positive_int, probability


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = ("Train a sentence-transformers encoder with InfoNCE over sampled batches. Everything is "
                          "written to OUT: config.yaml, log.jsonl, checkpoints/, best/ and final/ "
                          "(sentence-transformers models), summary.json. See docs/cli-train.md.")
    parser.add_argument("--config", metavar="YAML", help="training configuration (see configs/)")
    parser.add_argument("--model", metavar="NAME_OR_PATH", help="model.name_or_path: hub name or local directory")
    parser.add_argument("--data", action="append", metavar="[NAME=]PATH",
                        help="training source (repeatable; replaces data.sources): a pair file, an XQuAD-R-format "
                             "directory, a SQuAD .json file, ...")
    parser.add_argument("--dev", metavar="DIR", help="eval.dev: XQuAD-R / MLQA-R-format dev directory")
    parser.add_argument("--strategy", choices=STRATEGIES, help="sampler.strategy")
    parser.add_argument("--alpha", type=probability, help="sampler.alpha: P(mono) for hybrid / mixed")
    parser.add_argument("--batch-size", type=positive_int, help="sampler.batch_size (global, all processes)")
    length = parser.add_mutually_exclusive_group()
    length.add_argument("--steps", type=positive_int, help="optim.steps: optimizer steps")
    length.add_argument("--epochs", type=positive_int, help="optim.epochs (sets optim.steps and optim.pairs to null)")
    length.add_argument("--pairs", type=positive_int,
                        help="optim.pairs: a budget of training pairs, steps = ceil(pairs / batch size)")
    parser.add_argument("--lr", type=positive_float, help="optim.lr")
    parser.add_argument("--seed", type=non_negative_int, help="seed")
    parser.add_argument("--device", help="runtime.device: auto (CUDA when present), cpu, cuda, cuda:N, mps")
    parser.add_argument("--out", help="output directory")
    parser.add_argument("--resume", action="store_true", help="continue from the newest checkpoint in OUT")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="any option, e.g. --set optim.gradcache_chunk=32 --set eval.metric=cross/AP "
                             "(value parsed as YAML; repeatable)")
    parser.add_argument("--print-config", action="store_true", help="print the resolved configuration and exit")
    parser.set_defaults(func=run, on_interrupt=_resume_hint)


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


def _resume_hint(args: argparse.Namespace) -> str:
    """What Ctrl-C keeps: the loop checkpoints the last finished step; ``--resume`` continues from it."""
    again = "the same command" if args.resume else "the same command with --resume"
    out = getattr(args, "resolved_out", None) or "OUT"
    return f"the last finished step, if any, is checkpointed in {out}/checkpoints; run {again} to continue"


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
