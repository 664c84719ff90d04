"""Argument types that check a value when it is parsed, before any work starts or any file
is written (``--jobs 0`` never creates a results database), and the parser whose errors
are one line: ``polyir: error: polyir sweep: argument --jobs: ...``."""
from __future__ import annotations

import argparse
import math
import sys
from typing import Callable, NoReturn


class OneLineParser(argparse.ArgumentParser):
    """An `argparse.ArgumentParser` whose usage errors are one line on stderr (exit 2), like
    every other polyir error; ``--help`` shows the usage."""

    def error(self, message: str) -> NoReturn:
        print(f"polyir: error: {self.prog}: {message} (see {self.prog} --help)", file=sys.stderr)
        sys.exit(2)


def _integer(minimum: int, what: str) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be {what}, got {value}")
        return value

    parse.__name__ = f"integer >= {minimum}"
    return parse


positive_int = _integer(1, "a positive integer (>= 1)")
non_negative_int = _integer(0, "an integer >= 0")


def _number(check: Callable[[float], bool], what: str) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if not math.isfinite(value) or not check(value):
            raise argparse.ArgumentTypeError(f"must be {what}, got {text}")
        return value

    parse.__name__ = what
    return parse


positive_float = _number(lambda x: x > 0, "a positive number")
non_negative_float = _number(lambda x: x >= 0, "a number >= 0")
probability = _number(lambda x: 0.0 <= x <= 1.0, "a number in [0, 1]")
open_fraction = _number(lambda x: 0.0 < x < 1.0, "a number in (0, 1)")
