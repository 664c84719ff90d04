"""``polyir evaluate``'s options (what the command does: `polyir.cli.evaluate`, imported when it runs)."""
from __future__ import annotations

import argparse

from ..device_checks import PRECISIONS
from ..evaluate.eval_options import DATASET_FORMATS
from ..types import CANDIDATE_TEXT_MODES
from .argtypes import positive_float, positive_int


def add_encoding_arguments(parser: argparse.ArgumentParser) -> None:
    """Encoding options shared by `evaluate` and other commands that encode."""
    g = parser.add_argument_group("encoding")
    g.add_argument("--candidate-text", choices=CANDIDATE_TEXT_MODES, default="sentence",
                   help="encode the candidate sentence alone (default) or sentence + its paragraph (LAReQA)")
    g.add_argument("--prompts", default=None, metavar="PRESET",
                   help="prompt preset: model (default: the model's own), e5 ('query: '/'passage: '), "
                        "paper ('Query: '/'Passage: '), none")
    g.add_argument("--query-prompt", default=None, help="explicit query prefix (overrides the preset)")
    g.add_argument("--passage-prompt", default=None, help="explicit passage prefix (overrides the preset)")
    g.add_argument("--batch-size", type=positive_int, default=32, help="texts per forward pass (default 32)")
    g.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda, cuda:1, mps")
    g.add_argument("--dtype", choices=("float32", "bfloat16", "float16"), default="float32",
                   help="dtype the weights are loaded in (float16 only on GPU)")
    g.add_argument("--precision", choices=PRECISIONS, default="fp32",
                   help="inference precision: fp32 (default) or bf16 / fp16 autocast (fp16 only on GPU); "
                        "see docs/encoding.md for its effect on the metrics")
    g.add_argument("--max-seq-length", type=positive_int, default=None, help="truncate texts to this many tokens")
    cache = g.add_mutually_exclusive_group()
    cache.add_argument("--cache-dir", default=None, help="embedding cache (default $POLYIR_CACHE_DIR or ~/.cache/polyir)")
    cache.add_argument("--no-cache", action="store_true", help="do not read or write the embedding cache")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.description = ("Encode queries and candidates of every language once, then compute every monolingual "
                     "(X->X), cross-lingual (X->Y) and multilingual (X->all) setting, language-bias measures, "
                     "OUT/metrics.json, OUT/report.md, OUT/heatmap.png and OUT/per_query.tsv.gz.")
    p.add_argument("--model", required=True, help="sentence-transformers / Hugging Face model directory or hub name")
    p.add_argument("--dataset", choices=DATASET_FORMATS, required=True,
                   help="format of --data-dir: xquad-r / mlqa-r / lareqa (one SQuAD+sentences JSON per "
                        "language) or beir (corpus.jsonl, queries.jsonl, qrels/; or one such directory per language)")
    p.add_argument("--data-dir", required=True, help="evaluation data directory")
    p.add_argument("--languages", nargs="+", default=None, help="languages to load (default: all found)")
    p.add_argument("--max-queries", type=positive_int, default=None,
                   help="evaluate only the first N questions (all their translations; pools stay complete)")
    p.add_argument("--split", default="test", help="BEIR qrels split (default test)")
    p.add_argument("--translation", action="append", default=[], metavar="LANG=DIR",
                   help="beir: a translation of --data-dir (same ids, e.g. made by polyir translate); evaluates "
                        "original, translation and both cross-lingual variants, and the change against the "
                        "original with a paired test over queries (OUT/translation.json; repeatable)")
    p.add_argument("--out", required=True, help="output directory")
    g = p.add_argument_group("scoring")
    g.add_argument("--measures", nargs="+", default=None,
                   help="measures (AP, RR, R@k, P@k, nDCG@k, AP@k; default AP RR R@1 R@10 nDCG@10, "
                        "for beir nDCG@10 R@100 AP RR, as BEIR reports)")
    g.add_argument("--resamples", type=positive_int, default=10_000,
                   help="with --translation: resamples of the paired tests (default 10000)")
    g.add_argument("--depth", type=positive_int, default=None, help="count ranks beyond this as not retrieved (default: full)")
    g.add_argument("--bias-k", type=positive_int, default=10, help="top-k of the same-language preference (default 10)")
    g.add_argument("--backend", choices=("torch", "faiss"), default="torch", help="top-k backend for run files")
    g.add_argument("--save-runs", action="store_true", help="write TREC run files (OUT/runs) and qrels (OUT/qrels)")
    g.add_argument("--run-depth", type=positive_int, default=None, help="run file depth (default 100 with --save-runs)")
    g.add_argument("--memory-mb", type=positive_float, default=1024, help="memory bound of one block of scores (MB)")
    g.add_argument("--stream-corpus", action="store_true",
                   help="beir, one language: stream the corpus from disk (never all passages in memory), exact "
                        "top-k (k = --run-depth, default 100) and the measures at that depth; writes metrics.json, "
                        "per_query.tsv.gz and, with --save-runs, run.trec (docs/evaluation.md)")
    add_encoding_arguments(p)
    p.set_defaults(handler="evaluate:run", on_interrupt=cache_kept)


def cache_kept(args: argparse.Namespace) -> str:
    """What an interrupted encoding keeps (`polyir.cli.main` prints it)."""
    if args.no_cache:
        return "nothing was written (--no-cache); re-run the same command to start again"
    return "encoded batches are in the embedding cache; re-run the same command to continue from there"
