"""The `polyir` command: a thin shell that parses arguments, calls one library function and
writes files.  Each sub-command lives in its own module exposing ``register(subparsers)``; the command
modules import polyir at the top and reach torch only through the package faces
(`polyir.train`, `polyir.evaluate`, `polyir.experiments` resolve their names on first use), so
``polyir --help`` loads no torch.

Errors the user can act on (`PolyirError`) are printed as one line on stderr with a
non-zero exit status; ``--debug`` shows the traceback instead.
"""
from __future__ import annotations

import argparse
import logging
import sys

from .. import __version__
from ..errors import PolyirError
from ..progress import show_progress
from . import data, demo, evaluate, model, report, sweep, train, translate
from .argtypes import OneLineParser

# what an interrupted command keeps; a command that keeps more sets ``on_interrupt`` (a text, or a
# function of the parsed arguments) in its defaults
INTERRUPTED = "it keeps no partial work: re-run the same command to start again"
# sub-command modules, in the order they appear in --help
COMMAND_MODULES = (model, data, translate, evaluate, train, sweep, report, demo)


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="polyir",
        description="Train and evaluate multilingual dense retrievers (mono / cross / multilingual).")
    parser.add_argument("--version", action="version", version=f"polyir {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    for noisy in ("sentence_transformers", "transformers", "httpx", "urllib3", "filelock", "numba"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if args.quiet:
        show_progress(False)  # the bars deep in the library; commands also pass progress= explicitly
    try:
        result = args.func(args)
        return int(result or 0)
    except PolyirError as err:
        if args.debug:
            raise
        print(f"polyir: error: {err}", file=sys.stderr)
        return err.exit_code
    except OSError as err:  # the system refused a named file (permission, disk full, ...): say which, in one line
        if args.debug or not (err.filename and err.strerror):
            raise
        print(f"polyir: error: {err.filename}: {err.strerror}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        hint = getattr(args, "on_interrupt", None) or INTERRUPTED
        print(f"polyir: interrupted ({hint(args) if callable(hint) else hint})", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
