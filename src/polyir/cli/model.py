"""``polyir model init``: a from-scratch encoder (tokenizer trained on a corpus + random weights)."""
from __future__ import annotations

import argparse

from .argtypes import non_negative_int, positive_int


def register(subparsers) -> None:
    parser = subparsers.add_parser("model", help="build models", description="Build models.")
    commands = parser.add_subparsers(dest="model_command", metavar="SUBCOMMAND", required=True)
    init = commands.add_parser(
        "init", help="a randomly initialised encoder with a tokenizer trained on a corpus (offline)",
        description="Train a Unigram tokenizer on the corpus and save a randomly initialised BERT encoder "
                    "(mean pooling, L2 normalisation) as a sentence-transformers directory. No network.")
    init.add_argument("--preset", choices=("tiny", "small"), default="tiny",
                      help="model size: tiny (hidden 64, 2 layers, ~0.25M parameters; tests and demos) or small "
                           "(hidden 256, 4 layers, ~7.5M parameters); a small corpus gives a smaller vocabulary")
    init.add_argument("--corpus", nargs="+", required=True, metavar="PATH",
                      help="text, JSON or JSONL files, or directories of them (every string is used)")
    init.add_argument("--out", required=True, help="output directory (replaced if it exists)")
    init.add_argument("--seed", type=non_negative_int, default=0, help="weight initialisation seed (default 0)")
    init.add_argument("--max-seq-length", type=positive_int, default=128, help="maximum tokens per text (default 128)")
    init.set_defaults(func=run_init)


def run_init(args: argparse.Namespace) -> int:
    from ..modelinit import init_model

    out = init_model(args.preset, args.corpus, args.out, seed=args.seed, max_seq_length=args.max_seq_length)
    print(out)
    return 0
