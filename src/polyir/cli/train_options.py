"""``polyir train``'s options (what the command does: `polyir.cli.train`, imported when it runs)."""
from __future__ import annotations

import argparse

from ..sampling import STRATEGIES
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
    parser.set_defaults(handler="train:run", on_interrupt=_resume_hint)


def _resume_hint(args: argparse.Namespace) -> str:
    """What Ctrl-C keeps: the loop checkpoints the last finished step; ``--resume`` continues from it."""
    again = "the same command" if args.resume else "the same command with --resume"
    out = getattr(args, "resolved_out", None) or "OUT"
    return f"the last finished step, if any, is checkpointed in {out}/checkpoints; run {again} to continue"
