"""``polyir model``'s options (what the sub-commands do: `polyir.cli.model`, imported when one runs)."""
from __future__ import annotations

import argparse

from .argtypes import non_negative_int, positive_int


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``polyir model``'s sub-commands (the parser comes from `polyir.cli.COMMANDS`)."""
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
    init.set_defaults(handler="model:run_init")
    card = commands.add_parser(
        "card", help="print a polyir-trained model's card, or add evaluation results to it",
        description="A model trained by polyir carries a card (README.md, and polyir_card.json with the same facts): "
                    "base model, strategy, α, batch size, loss, data, realised batch composition, evaluations, "
                    "the command that reproduces it. --metrics adds the results of `polyir evaluate` "
                    "(OUT/metrics.json) and rewrites README.md; without it the card is printed.")
    card.add_argument("model_dir", metavar="MODEL_DIR", help="a model directory written by polyir train / sweep")
    card.add_argument("--metrics", nargs="+", default=[], metavar="PATH",
                      help="metrics.json files (or the directories holding them) written by polyir evaluate")
    card.add_argument("--name", action="append", default=[], metavar="NAME",
                      help="name of each evaluation set, in the order of --metrics (default: its data set name)")
    card.set_defaults(handler="model:run_card")
