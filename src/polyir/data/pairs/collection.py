"""`ParallelCollection`: the training pairs of one or several named data sets, plus the integer
arrays a batch sampler works on.

Per example ``i`` (``pairs[i]``):

* ``group_index[i]``   — index into ``group_keys`` (a group is ``(dataset, group id)``: the
  same id in two data sets is two groups, so unrelated sets never align by accident);
* ``lang_index[i]``    — index into ``languages`` (sorted codes);
* ``dataset_index[i]`` — index into ``datasets`` (sorted names).

Groups are numbered in order of first appearance; pairs keep their input order, so the
same files give the same arrays.  Arrays are read-only numpy arrays.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import numpy as np

from ...types import Pair
from .pair_files import DuplicateGuard, iter_pairs


def _frozen(values, dtype) -> np.ndarray:
    array = np.asarray(values, dtype=dtype)
    array.flags.writeable = False
    return array


@dataclass(frozen=True, eq=False)
class ParallelCollection:
    pairs: tuple[Pair, ...]
    languages: tuple[str, ...]
    datasets: tuple[str, ...]
    group_keys: tuple[tuple[str, str], ...]  # (dataset, group id) per group index
    group_index: np.ndarray  # int64 [n_pairs]
    lang_index: np.ndarray  # int32 [n_pairs]
    dataset_index: np.ndarray  # int32 [n_pairs]

    @classmethod
    def from_pairs(cls, pairs: Iterable[Pair], *, source: str | None = None) -> "ParallelCollection":
        """Index ``pairs``; a ``(dataset, group, lang)`` seen twice is an `InputError` naming ``source``."""
        pairs = tuple(pairs)
        guard = DuplicateGuard(source)
        for pair in pairs:
            guard.add(pair)
        guard.check(lambda: ((f"pair {i}", pair) for i, pair in enumerate(pairs, 1)))
        languages = tuple(sorted({p.lang for p in pairs}))
        datasets = tuple(sorted({p.dataset for p in pairs}))
        lang_of = {lang: i for i, lang in enumerate(languages)}
        dataset_of = {name: i for i, name in enumerate(datasets)}
        group_of: dict[tuple[str, str], int] = {}
        group_index = [group_of.setdefault((p.dataset, p.group), len(group_of)) for p in pairs]
        return cls(pairs=pairs, languages=languages, datasets=datasets, group_keys=tuple(group_of),
                   group_index=_frozen(group_index, np.int64),
                   lang_index=_frozen([lang_of[p.lang] for p in pairs], np.int32),
                   dataset_index=_frozen([dataset_of[p.dataset] for p in pairs], np.int32))

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, index: int) -> Pair:
        return self.pairs[index]

    @property
    def n_groups(self) -> int:
        return len(self.group_keys)

    def language_table(self) -> np.ndarray:
        """``table[g, l]`` = index of the pair of group ``g`` in language ``l``, or -1 (int64).

        The sampler's view of parallelism: a cross-lingual (X-Y) example for group ``g``
        takes two columns that are both >= 0.
        """
        table = np.full((self.n_groups, len(self.languages)), -1, dtype=np.int64)
        table[self.group_index, self.lang_index] = np.arange(len(self.pairs))
        return table

    def group_dataset_index(self) -> np.ndarray:
        """Data-set index of each group (int32 [n_groups])."""
        out = np.empty(self.n_groups, dtype=np.int32)
        out[self.group_index] = self.dataset_index
        return out

    def coverage(self) -> np.ndarray:
        """``coverage[a, b]`` = number of groups with a pair in both languages ``a`` and ``b``
        (the diagonal: groups with language ``a``)."""
        present = (self.language_table() >= 0).astype(np.int64)
        return present.T @ present

    def subset(self, indices: Sequence[int] | np.ndarray) -> "ParallelCollection":
        """A new collection of the pairs at ``indices`` (in that order), re-indexed."""
        return ParallelCollection.from_pairs(self.pairs[int(i)] for i in indices)

    def select(self, *, datasets: Iterable[str] | None = None,
               languages: Iterable[str] | None = None) -> "ParallelCollection":
        """Keep only the pairs of the given data sets and/or languages."""
        keep_d = set(datasets) if datasets is not None else None
        keep_l = set(languages) if languages is not None else None
        return ParallelCollection.from_pairs(
            p for p in self.pairs
            if (keep_d is None or p.dataset in keep_d) and (keep_l is None or p.lang in keep_l))


def read_collection(sources: Sequence[str | Path] | Mapping[str, str | Path]) -> ParallelCollection:
    """Read canonical pair files into one collection.

    A sequence of paths keeps each record's ``dataset`` (the file stem where absent); a
    mapping ``{name: path}`` names the data set of every record of that file.
    """
    items = sources.items() if isinstance(sources, Mapping) else ((None, path) for path in sources)
    pairs: list[Pair] = []
    for name, path in items:
        pairs.extend(iter_pairs(path, dataset=name))
    source = ", ".join(str(p) for p in (sources.values() if isinstance(sources, Mapping) else sources))
    return ParallelCollection.from_pairs(pairs, source=source)
