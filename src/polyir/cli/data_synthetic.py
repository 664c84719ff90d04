"""``polyir data synthetic``: write the synthetic multilingual parallel QA collection."""
from __future__ import annotations

import argparse
import sys

from ..data.synthetic.synthetic_generator import generate_synthetic


def run(args: argparse.Namespace) -> int:
    summary = generate_synthetic(args.out, n_languages=args.languages, n_groups=args.groups,
                                 n_eval_questions=args.eval_questions, seed=args.seed, partial=args.partial)
    evaluation, training = summary.counts["eval"], summary.counts["train"]
    first = summary.languages[0]
    print(f"wrote {summary.out_dir}: {len(summary.languages)} languages ({', '.join(summary.languages)}); "
          f"eval {evaluation[first]['questions']} questions / {evaluation[first]['sentences']} sentences in "
          f"{first}; train {training[first]['questions']} groups", file=sys.stderr)
    return 0
