"""``polyir translate``'s options (pair files and BEIR directories; what the command does:
`polyir.cli.translate`, imported when it runs), and the quality-filter options it shares with
``polyir data filter`` (their values for the library: `polyir.cli.translate_settings`)."""
from __future__ import annotations

import argparse

from ..translate.filter_config import FilterConfig
from .argtypes import non_negative_float, non_negative_int, positive_float, positive_int

DEFAULT_MODEL = "Helsinki-NLP/opus-mt-{src}-{tgt}"


def add_filter_arguments(p: argparse.ArgumentParser, *, optional: bool) -> None:
    d = FilterConfig()
    g = p.add_argument_group("quality filters (docs/translation.md)")
    if optional:
        g.add_argument("--no-filter", action="store_true", help="keep every non-empty translation")
    g.add_argument("--length-ratio", type=positive_float, default=d.length_ratio_factor,
                   help=f"drop outputs longer/shorter than this factor of the expected length (default {d.length_ratio_factor})")
    g.add_argument("--length-slack", type=non_negative_float, default=d.length_slack,
                   help=f"... plus/minus this many English-equivalent characters (default {d.length_slack:g})")
    g.add_argument("--max-repeats", type=positive_int, default=d.max_repeats,
                   help=f"drop outputs repeating a unit this many times in a row (default {d.max_repeats})")
    g.add_argument("--untranslated-min-chars", type=non_negative_int, default=d.untranslated_min_chars,
                   help=f"outputs equal to their source are dropped from this length on (default {d.untranslated_min_chars})")
    g.add_argument("--langid", action="store_true", help="also drop outputs identified as another language (py3langid)")
    g.add_argument("--langid-min-chars", type=non_negative_int, default=d.langid_min_chars,
                   help=f"identify outputs of at least this many characters (default {d.langid_min_chars})")


def _cache_kept(args: argparse.Namespace) -> str:
    if args.no_cache:
        return "nothing was written (--no-cache); re-run the same command to start again"
    return "finished batches are in the translation cache; re-run the same command to continue from there"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.description = ("Translate the source-language pairs of a pair file into target languages (translations keep "
                     "their group id), or a BEIR directory into one BEIR directory per target language (same ids "
                     "and qrels); see docs/translation.md.")
    p.add_argument("input", help="pair file (.jsonl, .jsonl.gz, .parquet), or BEIR directory "
                                 "(corpus.jsonl, queries.jsonl, qrels/)")
    p.add_argument("--out", required=True, help="output pair file; for a BEIR directory, the directory that "
                                                "receives one BEIR directory per target (OUT/<lang>/)")
    p.add_argument("--source", default="en", help="language to translate from (default en)")
    p.add_argument("--targets", nargs="+", required=True, metavar="LANG", help="languages to translate into")
    p.add_argument("--model", action="append", metavar="MODEL",
                   help=f"model name or directory; {{src}}/{{tgt}} are filled in per language pair "
                        f"(default {DEFAULT_MODEL}); LANG=MODEL for one target (repeatable)")
    g = p.add_argument_group("decoding")
    g.add_argument("--backend", choices=("transformers", "ctranslate2"), default="transformers")
    g.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, mps (default cpu)")
    g.add_argument("--batch-size", type=positive_int, default=32, help="segments per model call (default 32)")
    g.add_argument("--max-length", type=positive_int, default=256, help="tokens kept per input and generated per output (default 256)")
    g.add_argument("--num-beams", type=positive_int, default=4, help="beam size; 1 is greedy (default 4)")
    g.add_argument("--dtype", default="float32", help="transformers: float32, float16, bfloat16 (default float32)")
    g.add_argument("--compute-type", default="default", help="ctranslate2: int8, float16, int8_float16, ... (default: the model's)")
    g.add_argument("--tokenizer", help="ctranslate2: tokenizer directory or hub id, if not in the model directory")
    g = p.add_argument_group("data")
    g.add_argument("--no-split", action="store_true", help="translate passages whole instead of sentence by sentence")
    g.add_argument("--translations-only", action="store_true", help="write only the translations, not the input pairs")
    g.add_argument("--exclude", nargs="+", default=[], metavar="EVAL",
                   help="leakage guard: drop groups overlapping these evaluation sets before translating")
    g.add_argument("--contained", action="store_true", help="with --exclude: also substring-match positives")
    cache = g.add_mutually_exclusive_group()
    cache.add_argument("--cache", help="SQLite cache file (default $POLYIR_CACHE_DIR/translations.sqlite or "
                                       "~/.cache/polyir/translations.sqlite)")
    cache.add_argument("--no-cache", action="store_true", help="do not read or write the cache")
    g.add_argument("--report", help="write the counts (cache, filters, leakage) as JSON")
    g = p.add_argument_group("BEIR directories")
    g.add_argument("--chunk-size", type=positive_int, default=None,
                   help="records read, translated and written at a time (default 1000): the memory bound")
    g.add_argument("--on-reject", choices=("source", "drop"), default=None,
                   help="a translated field that fails the quality filters: keep the source text of that field "
                        "(default: ids and qrels unchanged), or drop the record and its qrels lines")
    add_filter_arguments(p, optional=True)
    p.set_defaults(handler="translate:run", on_interrupt=_cache_kept)
