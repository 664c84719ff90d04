"""``polyir data ...``: data sub-commands, each in its own module exposing ``register(subparsers)``,
in the order they appear in ``polyir data --help``."""
from __future__ import annotations

import argparse

from . import data_filter, data_synthetic
from .data_prep import register_data_commands


def add_arguments(parser: argparse.ArgumentParser) -> None:
    commands = parser.add_subparsers(dest="data_command", metavar="SUBCOMMAND", required=True)
    data_synthetic.register(commands)
    data_filter.register(commands)
    register_data_commands(commands)
