"""`SamplingIndex`: the integer arrays a sampler draws from (texts never enter it).

One entry per training example (one language's query + positive of a parallel group):
``group`` (any non-negative integer id shared by translations), ``lang`` (index into
``languages``) and ``dataset`` (index into ``datasets``).  The index is a CSR layout:
example indices sorted by (group, language) with group offsets, plus, per data set, its
groups, and, for languages that only part of a data set's groups have, a pool of those
examples.  Memory is O(n) (about 8 bytes per example at mMARCO scale); building it is one
sort, skipped when the examples already come sorted by (group, language).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..errors import InputError
from ..types import Pair


@dataclass(frozen=True, eq=False)
class SamplingIndex:
    languages: tuple[str, ...]
    datasets: tuple[str, ...]
    members: np.ndarray          # example indices sorted by (group, language)
    member_lang: np.ndarray      # language of each entry of ``members``
    group_offsets: np.ndarray    # group g owns members[group_offsets[g]:group_offsets[g + 1]]
    group_ids: np.ndarray        # the caller's group id of each group position
    group_dataset: np.ndarray    # data set of each group
    dataset_groups: np.ndarray   # group positions ordered by data set ...
    dataset_offsets: np.ndarray  # ... data set d owns dataset_groups[dataset_offsets[d]:...[d + 1]]
    language_counts: np.ndarray  # [d, L] = number of examples of language L in data set d
    pool_positions: np.ndarray   # member positions of the partially covered (d, L) ...
    pool_offsets: np.ndarray     # ... pool (d, L) is pool_positions[pool_offsets[d*L + L']:...]
    max_group_size: int          # most examples (languages) in one group

    @property
    def n_examples(self) -> int:
        return int(self.members.size)

    @property
    def n_groups(self) -> int:
        return int(self.group_ids.size)

    @property
    def group_counts(self) -> np.ndarray:
        """Number of groups of each data set."""
        return np.diff(self.dataset_offsets)

    def covers(self, dataset: int, lang: int) -> bool:
        """True when every group of ``dataset`` has an example in ``lang``."""
        count = self.language_counts[dataset, lang]
        return bool(count > 0 and count == self.group_counts[dataset])

    def groups_of(self, dataset: int) -> np.ndarray:
        return self.dataset_groups[self.dataset_offsets[dataset]:self.dataset_offsets[dataset + 1]]

    def pool_of(self, dataset: int, lang: int) -> np.ndarray:
        """Member positions of language ``lang`` in ``dataset`` (only for partial coverage)."""
        slot = dataset * len(self.languages) + lang
        return self.pool_positions[self.pool_offsets[slot]:self.pool_offsets[slot + 1]]

    def group_of_position(self, positions: np.ndarray) -> np.ndarray:
        """Group position owning each member position."""
        return np.searchsorted(self.group_offsets, positions, side="right") - 1

    def nbytes(self) -> int:
        return sum(getattr(self, name).nbytes for name in (
            "members", "member_lang", "group_offsets", "group_ids", "group_dataset",
            "dataset_groups", "dataset_offsets", "language_counts", "pool_positions", "pool_offsets"))


def build_index(group: np.ndarray, lang: np.ndarray, dataset: np.ndarray | None = None, *,
                languages: Sequence[str] | None = None,
                datasets: Sequence[str] | None = None) -> SamplingIndex:
    """Validate the per-example arrays and build the index.

    Raises `InputError` (naming the example) for mismatched lengths, negative or
    out-of-range codes, two examples of one group in the same language, or a group that
    spans two data sets.
    """
    group, lang, dataset = _as_arrays(group, lang, dataset)
    languages = _names("language", languages, lang)
    datasets = _names("dataset", datasets, dataset)
    n_lang = len(languages)
    if int(group.max()) >= (np.iinfo(np.int64).max // n_lang):
        raise InputError(f"group id {int(group.max())} is too large")
    members, group_of_member = _sort_by_group_and_language(group, lang, languages)
    group_of_member //= n_lang  # in place: the sorted keys become the group of each member
    starts = np.flatnonzero(np.r_[True, group_of_member[1:] != group_of_member[:-1]])
    member_dataset = dataset[members]
    _check_one_dataset_per_group(group_of_member, member_dataset, members, datasets)
    del group_of_member
    group_dataset = member_dataset[starts]
    member_lang = lang[members].astype(np.int16)
    dataset_groups = np.argsort(group_dataset, kind="stable").astype(_index_dtype(starts.size))
    dataset_offsets = _offsets(group_dataset, len(datasets))
    pair_key = member_dataset.astype(_index_dtype(len(datasets) * n_lang)) * n_lang + member_lang
    del member_dataset
    language_counts = np.bincount(pair_key, minlength=len(datasets) * n_lang).reshape(len(datasets), n_lang)
    pool_positions, pool_offsets = _partial_pools(pair_key, language_counts, np.diff(dataset_offsets))
    group_offsets = np.r_[starts, members.size].astype(np.int64)
    return SamplingIndex(
        languages=languages, datasets=datasets, members=members, member_lang=member_lang,
        group_offsets=group_offsets, group_ids=group[members[starts]],
        group_dataset=group_dataset, dataset_groups=dataset_groups, dataset_offsets=dataset_offsets,
        language_counts=language_counts, pool_positions=pool_positions, pool_offsets=pool_offsets,
        max_group_size=int(np.diff(group_offsets).max()))


def index_from_pairs(pairs: Sequence[Pair]) -> SamplingIndex:
    """Index over training `Pair` records; example ``i`` is ``pairs[i]``.

    Languages and data sets are numbered in sorted order of their names, groups in order
    of first appearance.
    """
    if not pairs:
        raise InputError("no training pairs to sample from")
    languages = sorted({p.lang for p in pairs})
    datasets = sorted({p.dataset for p in pairs})
    group_number: dict[str, int] = {}
    group = np.fromiter((group_number.setdefault(p.group, len(group_number)) for p in pairs),
                        dtype=np.int64, count=len(pairs))
    lang_number = {code: i for i, code in enumerate(languages)}
    dataset_number = {name: i for i, name in enumerate(datasets)}
    lang = np.fromiter((lang_number[p.lang] for p in pairs), dtype=np.int16, count=len(pairs))
    dataset = np.fromiter((dataset_number[p.dataset] for p in pairs), dtype=np.int16, count=len(pairs))
    _check_pairs(pairs)  # first, so errors name group ids rather than our numbers
    return build_index(group, lang, dataset, languages=languages, datasets=datasets)


def _check_pairs(pairs: Sequence[Pair]) -> None:
    seen: dict[tuple[str, str], int] = {}
    dataset_of: dict[str, str] = {}
    for i, pair in enumerate(pairs):
        first = seen.setdefault((pair.group, pair.lang), i)
        if first != i:
            raise InputError(f"group {pair.group!r} has two pairs in language {pair.lang!r} "
                             f"(pairs {first} and {i})", record=f"pair {i}")
        other = dataset_of.setdefault(pair.group, pair.dataset)
        if other != pair.dataset:
            raise InputError(f"group {pair.group!r} spans data sets {other!r} and {pair.dataset!r}",
                             record=f"pair {i}")


def _as_arrays(group, lang, dataset):
    group, lang = np.asarray(group), np.asarray(lang)
    if group.size == 0:
        raise InputError("no training examples to sample from")
    dataset = np.zeros(group.shape, np.int16) if dataset is None else np.asarray(dataset)
    for name, values in (("group", group), ("lang", lang), ("dataset", dataset)):
        if values.ndim != 1 or not np.issubdtype(values.dtype, np.integer):
            raise InputError(f"{name} must be a 1-D integer array, got shape {values.shape} {values.dtype}")
        if values.shape != group.shape:
            raise InputError(f"{name} has {values.size} entries but group has {group.size}")
        if values.size and int(values.min()) < 0:
            bad = int(np.argmax(values < 0))
            raise InputError(f"negative {name} {int(values[bad])}", record=f"example {bad}")
    return group.astype(np.int64, copy=False), lang, dataset


def _names(kind: str, names: Sequence[str] | None, codes: np.ndarray) -> tuple[str, ...]:
    highest = int(codes.max())
    if names is None:
        return tuple(str(i) for i in range(highest + 1))
    names = tuple(names)
    if len(set(names)) != len(names):
        raise InputError(f"duplicate {kind} names in {names}")
    if highest >= len(names):
        bad = int(np.argmax(codes >= len(names)))
        raise InputError(f"{kind} {highest} out of range for {len(names)} {kind}s {names}",
                         record=f"example {bad}")
    return names


def _sort_by_group_and_language(group, lang, languages):
    """Example indices ordered by (group, language), and their keys group * n_lang + lang."""
    key = group * len(languages) + lang
    if key.size < 2 or bool(np.all(key[1:] > key[:-1])):  # already sorted: skip the sort
        return np.arange(key.size, dtype=_index_dtype(key.size)), key
    order = np.argsort(key)  # keys are unique once validated, so any sort is deterministic
    sorted_key = key[order]
    del key
    same = np.flatnonzero(sorted_key[1:] == sorted_key[:-1])
    if same.size:
        first, second = sorted(order[same[0]:same[0] + 2])
        raise InputError(f"group {int(group[first])} has two examples in language {languages[lang[first]]!r} "
                         f"(examples {first} and {second})", record=f"example {second}")
    return order.astype(_index_dtype(order.size), copy=False), sorted_key


def _check_one_dataset_per_group(group_of_member, member_dataset, members, datasets):
    split = np.flatnonzero((group_of_member[1:] == group_of_member[:-1])
                           & (member_dataset[1:] != member_dataset[:-1]))
    if split.size:
        a, b = int(members[split[0]]), int(members[split[0] + 1])
        raise InputError(f"group {int(group_of_member[split[0]])} spans data sets "
                         f"{datasets[member_dataset[split[0]]]!r} and {datasets[member_dataset[split[0] + 1]]!r} "
                         f"(examples {a} and {b})", record=f"example {max(a, b)}")


def _partial_pools(pair_key, language_counts, group_counts):
    """Member positions of every (d, L) that only some of d's groups have, grouped by (d, L)."""
    partial = ((language_counts > 0) & (language_counts < group_counts[:, None])).ravel()
    positions = np.flatnonzero(partial[pair_key])
    keys = pair_key[positions]
    positions = positions[np.argsort(keys, kind="stable")].astype(_index_dtype(pair_key.size))
    return positions, _offsets(keys, partial.size)


def _offsets(codes: np.ndarray, n: int) -> np.ndarray:
    return np.r_[0, np.cumsum(np.bincount(codes, minlength=n))].astype(np.int64)


def _index_dtype(n: int):
    return np.int32 if n < np.iinfo(np.int32).max else np.int64

