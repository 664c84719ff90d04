"""The `polyir` command: a thin shell that parses arguments, calls one library function and
writes files.  `COMMANDS` lists the commands with the line ``polyir --help`` shows; a command's
options live in ``polyir.cli.<command>_options`` (``add_arguments(parser)``), which imports no
more than the constants they name, and what it does in the module its ``handler``
(``"module:function"``) names, imported only when the command runs.

So ``polyir --help`` imports no command's options, ``polyir train --help`` only train's, and
neither loads numpy or the library (docs/benchmarks.md, "Command-line start-up"): together
the command modules and their imports take several tenths of a second.  A module that fails
to import is an error naming the real cause, never a command dropped; torch loads only when a
command needs it (the package faces `polyir.train`, `polyir.evaluate`, `polyir.experiments`
resolve their names on first use).

Errors the user can act on (`PolyirError`) are printed as one line on stderr with a
non-zero exit status; ``--debug`` shows the traceback instead.
"""
from __future__ import annotations

import argparse
import importlib
import logging
import sys
from typing import Callable, Sequence

from .. import __version__
from ..errors import PolyirError
from ..progress import show_progress
from .argtypes import OneLineParser

# what an interrupted command keeps; a command that keeps more sets ``on_interrupt`` (a text, or a
# function of the parsed arguments) in its defaults
INTERRUPTED = "it keeps no partial work: re-run the same command to start again"
# command -> its line in ``polyir --help``, in that order; its options: polyir.cli.<command>_options
COMMANDS = {
    "model": "build models",
    "data": "create, import and inspect data sets",
    "translate": "machine-translate training pairs or a BEIR data set (cached, resumable)",
    "evaluate": "evaluate a model: mono / cross / multilingual retrieval and language bias",
    "train": "train a dense retriever (mono / cross / hybrid / mixed batches)",
    "sweep": "run a grid of train + evaluate runs into a results database (resumable)",
    "report": "write report.md / report.html (tables, significance, heatmaps, curves) from a results database",
    "demo": "the main job end to end, offline: synthetic data, tiny model, a sweep, a report",
}


def command_of(argv: Sequence[str]) -> str | None:
    """The command named on a command line: its first word that is not an option (the global
    options take no value), None when there is none or it is not a command."""
    for i, word in enumerate(argv):
        if word == "--":
            word = argv[i + 1] if i + 1 < len(argv) else ""
        elif word.startswith("-"):
            continue
        return word if word in COMMANDS else None
    return None


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser with every command's summary and ``command``'s options (their module imported)."""
    parser = OneLineParser(
        prog="polyir",
        description="Train and evaluate multilingual dense retrievers (mono / cross / multilingual).")
    parser.add_argument("--version", action="version", version=f"polyir {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, summary in COMMANDS.items():
        command_parser = sub.add_parser(name, help=summary, description=summary[:1].upper() + summary[1:] + ".")
        if name == command:
            importlib.import_module(f"{__name__}.{name}_options").add_arguments(command_parser)
    return parser


def handler(reference: str) -> Callable[[argparse.Namespace], int | None]:
    """The function a command's options name, ``"module:function"`` in `polyir.cli`, its module
    imported now (an import error propagates: it names the module and its cause)."""
    module, _, function = reference.partition(":")
    return getattr(importlib.import_module(f"{__name__}.{module}"), function)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else [str(word) for word in argv]
    parser = build_parser(command_of(argv))
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    run = handler(args.handler)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    for noisy in ("sentence_transformers", "transformers", "httpx", "urllib3", "filelock", "numba"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if args.quiet:
        show_progress(False)  # the bars deep in the library; commands also pass progress= explicitly
    try:
        result = run(args)
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
