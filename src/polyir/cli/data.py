"""``polyir data ...``: data sub-commands, each in its own module exposing ``register(subparsers)``
(like the top-level commands), in the order they appear in ``polyir data --help``."""
from __future__ import annotations

from . import data_filter, data_synthetic
from .data_prep import register_data_commands


def register(subparsers) -> None:
    parser = subparsers.add_parser("data", help="create, import and inspect data sets",
                                   description="Create, import and inspect data sets.")
    commands = parser.add_subparsers(dest="data_command", metavar="SUBCOMMAND", required=True)
    data_synthetic.register(commands)
    data_filter.register(commands)
    register_data_commands(commands)
