"""``polyir model init``: a from-scratch encoder (tokenizer trained on a corpus + random weights).
``polyir model card``: show a trained model's card, or add `polyir evaluate` results to it."""
from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import ConfigError, InputError
from ..io import read_json
from ..modelinit import init_model
from ..train.model_card import CARD_FILE, CardEvaluation, read_model_card, write_model_card


def run_init(args: argparse.Namespace) -> int:
    out = init_model(args.preset, args.corpus, args.out, seed=args.seed, max_seq_length=args.max_seq_length)
    print(out)
    return 0


def run_card(args: argparse.Namespace) -> int:
    card = read_model_card(args.model_dir)
    if card is None:
        raise InputError(f"no {CARD_FILE}: not a model trained by polyir (or trained before polyir wrote cards)",
                         path=args.model_dir)
    if len(args.name) > len(args.metrics):
        raise ConfigError(f"{len(args.name)} --name for {len(args.metrics)} --metrics")
    evaluations = []
    for i, path in enumerate(args.metrics):
        path = Path(path) / "metrics.json" if Path(path).is_dir() else Path(path)
        if not path.is_file():
            raise InputError("no metrics.json (run polyir evaluate --out DIR first)", path=path)
        doc = read_json(path)
        if not isinstance(doc, dict) or doc.get("schema") != "polyir.metrics/1":
            raise InputError("not a polyir evaluate metrics.json (schema polyir.metrics/1)", path=path)
        data = (doc.get("run") or {}).get("data") or {}
        source = " ".join(str(v) for v in (data.get("dataset"), data.get("data_dir")) if v) or str(path.parent)
        name = args.name[i] if i < len(args.name) else str(doc.get("dataset") or path.parent.name)
        evaluations.append(CardEvaluation.from_metrics(doc, name=name, source=source, how="polyir evaluate"))
    if evaluations:
        print(write_model_card(args.model_dir, card.with_evaluations(evaluations)))
    else:
        print((Path(args.model_dir) / "README.md").read_text(encoding="utf-8"))
    return 0
