"""Options shared by ``polyir translate`` (pair files and BEIR directories) and ``polyir data filter``:
the quality filters, the model choice and the decoding settings, from flags to library values."""
from __future__ import annotations

import argparse
import sys

from ..errors import ConfigError
from ..languages import normalise_language
from ..translate.backends import DecodingSettings, ModelChoice
from ..translate.filters import FilterConfig
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


def filter_config_from_args(args: argparse.Namespace):
    if getattr(args, "no_filter", False):
        return FilterConfig(quality=False)
    return FilterConfig(untranslated_min_chars=args.untranslated_min_chars, max_repeats=args.max_repeats,
                        length_ratio_factor=args.length_ratio, length_slack=args.length_slack,
                        langid=args.langid, langid_min_chars=args.langid_min_chars)


def print_filter_report(report) -> None:
    if report is not None and report.checked:
        print("quality filters (pairs dropped per language and reason):", file=sys.stderr)
        print(report.format_table(), file=sys.stderr)


def model_choice(values: list[str]):
    templates = [v for v in values if "=" not in v]
    if len(templates) > 1:
        raise ConfigError(f"give one --model template (and LANG=MODEL overrides), got {', '.join(templates)}")
    overrides = tuple((normalise_language(v.split("=", 1)[0]), v.split("=", 1)[1]) for v in values if "=" in v)
    return ModelChoice(templates[0] if templates else DEFAULT_MODEL, overrides)


def decoding_settings(args: argparse.Namespace):
    return DecodingSettings(backend=args.backend, num_beams=args.num_beams, max_length=args.max_length,
                            dtype=args.dtype, compute_type=args.compute_type, device=args.device,
                            tokenizer=args.tokenizer)
