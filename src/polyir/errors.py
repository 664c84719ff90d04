"""Errors that reach the user as one clear line (the CLI prints them without a traceback)."""
from __future__ import annotations

from pathlib import Path


class PolyirError(Exception):
    """Base class: an error the user can act on. The CLI prints ``str(err)`` and exits non-zero."""

    exit_code = 2


class InputError(PolyirError):
    """Bad input data, always naming the file and, where there is one, the record.

    >>> str(InputError("missing field 'question'", path="en.json", record="qas[3] id=q17"))
    "en.json: qas[3] id=q17: missing field 'question'"
    """

    def __init__(self, message: str, *, path: str | Path | None = None, record: str | None = None):
        self.message = message
        self.path = str(path) if path is not None else None
        self.record = record
        parts = [p for p in (self.path, record, message) if p]
        super().__init__(": ".join(parts))


class ConfigError(PolyirError):
    """An invalid option or configuration value."""


class TrainingError(PolyirError):
    """Training cannot continue (e.g. a non-finite loss); the last good checkpoint is kept."""

    exit_code = 3
