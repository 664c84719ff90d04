"""``polyir data ...``: data sub-commands.

Each sub-command lives in its own module ``polyir.cli.data_<name>`` exposing
``register(subparsers)`` (like the top-level commands); listing it in `DATA_COMMANDS` adds
it.  Modules not written yet are skipped.
"""
from __future__ import annotations

import importlib

# in the order they appear in ``polyir data --help``
DATA_COMMANDS = ("synthetic", "filter")


def register(subparsers) -> None:
    parser = subparsers.add_parser("data", help="create, import and inspect data sets",
                                   description="Create, import and inspect data sets.")
    commands = parser.add_subparsers(dest="data_command", metavar="SUBCOMMAND", required=True)
    for name in DATA_COMMANDS:
        module_name = f"{__package__}.data_{name}"
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as err:
            if err.name == module_name:
                continue  # sub-command not built yet
            raise
        module.register(commands)
    from .data_prep import register_data_commands  # import, stats, leakage, split-articles, split

    register_data_commands(commands)
