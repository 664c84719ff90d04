"""Simulated training collections (integer arrays only) for tests, benchmarks and dry runs."""
from __future__ import annotations

from typing import Sequence

import numpy as np


def simulated_arrays(groups_per_dataset: Sequence[int], languages_per_dataset: Sequence[Sequence[int]], *,
                     coverage: float = 1.0, shuffle: bool = False,
                     seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(group, lang, dataset)`` arrays, one entry per example.

    Data set ``d`` has ``groups_per_dataset[d]`` parallel groups; each group has an example
    in each of ``languages_per_dataset[d]`` with probability ``coverage`` (and always in at
    least one of them).  Groups are numbered consecutively across data sets; ``shuffle``
    puts the examples in random order (the index must not rely on sorted input).
    """
    if len(groups_per_dataset) != len(languages_per_dataset):
        raise ValueError("one language list per data set")
    rng = np.random.default_rng(seed)
    parts, first_group = [], 0
    for d, (n_groups, langs) in enumerate(zip(groups_per_dataset, languages_per_dataset)):
        langs = np.asarray(langs, dtype=np.int16)
        if coverage >= 1.0:
            group = np.repeat(np.arange(first_group, first_group + n_groups, dtype=np.int64), langs.size)
            lang = np.tile(langs, n_groups)
        else:
            present = rng.random((n_groups, langs.size)) < coverage
            present[np.arange(n_groups), rng.integers(0, langs.size, n_groups)] = True
            rows, columns = np.nonzero(present)
            group, lang = rows.astype(np.int64) + first_group, langs[columns]
        parts.append((group, lang, np.full(group.size, d, dtype=np.int16)))
        first_group += n_groups
    group, lang, dataset = (np.concatenate(column) for column in zip(*parts))
    if shuffle:
        order = rng.permutation(group.size)
        group, lang, dataset = group[order], lang[order], dataset[order]
    return group, lang, dataset
