"""``polyir data synthetic``: write the synthetic multilingual parallel QA collection."""
from __future__ import annotations

import argparse
import sys

from ..data.synthetic.synthetic_generator import generate_synthetic
from .argtypes import non_negative_int, positive_int


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "synthetic", help="generate a synthetic multilingual parallel QA collection (XQuAD-R format)",
        description="Write OUT/eval/<lang>.json and OUT/train/<lang>.json (XQuAD-R format, parallel question ids, "
                    "disjoint articles) plus OUT/README.md and OUT/manifest.json. Languages are qaa, qab, ... "
                    "(ISO 639 private use). Deterministic for a seed.")
    parser.add_argument("--languages", type=positive_int, default=4, metavar="N", help="number of languages (default 4)")
    parser.add_argument("--groups", type=positive_int, default=1500, metavar="M",
                        help="training question groups, each in every language (default 1500)")
    parser.add_argument("--eval-questions", type=positive_int, default=300, metavar="K",
                        help="evaluation questions per language (default 300)")
    parser.add_argument("--seed", type=non_negative_int, default=0, help="random seed (default 0)")
    parser.add_argument("--partial", action="store_true",
                        help="MLQA-R shape for eval: each question in 2-4 languages, unequal candidate pools")
    parser.add_argument("--out", required=True, help="output directory")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    summary = generate_synthetic(args.out, n_languages=args.languages, n_groups=args.groups,
                                 n_eval_questions=args.eval_questions, seed=args.seed, partial=args.partial)
    evaluation, training = summary.counts["eval"], summary.counts["train"]
    first = summary.languages[0]
    print(f"wrote {summary.out_dir}: {len(summary.languages)} languages ({', '.join(summary.languages)}); "
          f"eval {evaluation[first]['questions']} questions / {evaluation[first]['sentences']} sentences in "
          f"{first}; train {training[first]['questions']} groups", file=sys.stderr)
    return 0
