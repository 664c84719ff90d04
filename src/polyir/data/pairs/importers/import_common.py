"""Small pieces shared by the importers: data-set names per source, skipping invalid records."""
from __future__ import annotations

import contextlib
import logging
from collections import Counter
from typing import Iterator, Sequence

from ....errors import ConfigError, InputError
from ..sources import Source

log = logging.getLogger(__name__)
SKIPPED_INVALID = "skipped: invalid record"


def dataset_names(dataset: str | Sequence[str], n_sources: int) -> list[str]:
    """One data-set name per source: a single name is used for all of them."""
    if isinstance(dataset, str):
        return [dataset] * n_sources
    names = list(dataset)
    if len(names) == 1:
        return names * n_sources
    if len(names) != n_sources:
        raise ConfigError(f"give one data-set name, or one per input ({n_sources}), got {len(names)}")
    return names


def require_langs(sources: Sequence[Source]) -> None:
    for source in sources:
        if not source.lang:
            raise InputError("cannot tell the language of this input: write LANG=PATH or pass --lang",
                             path=source.path)


class Skipper:
    """Raise on an invalid record (default), or count it, log the first few, and go on.

    Real data has a few broken records (e.g. cmrc2018_trial has 2 empty questions);
    ``skip_invalid`` lets an import finish while the count tells how many were lost.
    """

    def __init__(self, skip_invalid: bool, stats: Counter, max_logged: int = 5):
        self.skip_invalid, self.stats, self.max_logged = skip_invalid, stats, max_logged

    @contextlib.contextmanager
    def guard(self) -> Iterator[None]:
        try:
            yield
        except InputError as err:
            if not self.skip_invalid:
                raise
            self.stats[SKIPPED_INVALID] += 1
            if self.stats[SKIPPED_INVALID] <= self.max_logged:
                log.warning("skipped: %s", err)
