"""From ``polyir translate`` / ``polyir data filter`` flags (`polyir.cli.translate_options`) to the
library's values: the quality filters, the model choice and the decoding settings."""
from __future__ import annotations

import argparse
import sys

from ..errors import ConfigError
from ..languages import normalise_language
from ..translate.backends import DecodingSettings, ModelChoice
from ..translate.filter_config import FilterConfig
from .translate_options import DEFAULT_MODEL


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
