"""The columns of a `datasets.Dataset` of training examples, and the sampling index over them.

One row per training example = one language's (query, positive, hard negatives...) of a
parallel group, exactly as polyir's `Pair` records:

    query      str   first text column: the query (any name; column order is what counts)
    positive   str   second text column: the positive passage
    negative_1 ...   optional further text columns: hard negatives of this example
    lang       str   language code of the row
    group      str | int   parallel-group id shared by the row's translations
    dataset    str   optional: source data set (for data-set mixing); absent = one data set

The metadata column names are `DatasetColumns` fields; every other column is a text column,
in the order of the dataset.  `index_from_dataset` numbers languages and data sets in sorted
order of their names and groups, keyed by (data set, group), in order of first appearance —
the numbering of `ParallelCollection.from_pairs` — so a dataset made from a list of pairs
(`pairs_dataset`) gets the very index, and hence the very batches, of polyir's own trainer.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

import numpy as np

from ..errors import InputError
from ..sampling import SamplingIndex, build_index
from ..types import Pair

if TYPE_CHECKING:
    from datasets import Dataset

RESERVED_COLUMNS = ("label", "labels", "score", "scores", "dataset_name", "return_loss")


@dataclass(frozen=True)
class DatasetColumns:
    """Names of the metadata columns (everything else is a text column)."""

    lang: str = "lang"
    group: str = "group"
    dataset: str = "dataset"

    @property
    def metadata(self) -> tuple[str, str, str]:
        return (self.lang, self.group, self.dataset)

    def text_columns(self, column_names: Sequence[str]) -> list[str]:
        """The text columns in dataset order: query, positive, then hard negatives."""
        return [name for name in column_names if name not in self.metadata and name != "dataset_name"]

    def check(self, column_names: Sequence[str], where: str = "dataset") -> None:
        """Raise `InputError` unless the dataset has what the sampler and collator need."""
        missing = [name for name in (self.lang, self.group) if name not in column_names]
        if missing:
            raise InputError(f"no column {missing[0]!r} (columns: {', '.join(column_names)}); "
                             "see polyir.st.DatasetColumns", path=where)
        reserved = [name for name in column_names if name in RESERVED_COLUMNS and name != "dataset_name"]
        if reserved:
            raise InputError(f"column {reserved[0]!r} is reserved: the collator writes the mask-group ids "
                             "into 'label'", path=where)
        if len(self.text_columns(column_names)) < 2:
            raise InputError(f"needs a query and a positive text column besides {self.metadata}, "
                             f"got columns {list(column_names)}", path=where)


def index_from_dataset(dataset: "Dataset", columns: DatasetColumns = DatasetColumns()) -> SamplingIndex:
    """The sampling index of ``dataset`` (example ``i`` is row ``i``), read column-wise
    through Arrow: no Python object per row, so a 40M-row dataset is indexed in seconds."""
    columns.check(dataset.column_names)
    if len(dataset) == 0:
        raise InputError("no training examples", path="dataset")
    table = dataset.with_format("arrow")
    languages, lang = _sorted_codes(table[columns.lang], "language")
    if columns.dataset in dataset.column_names:
        datasets, source = _sorted_codes(table[columns.dataset], "data set")
    else:
        datasets, source = ("",), np.zeros(len(dataset), dtype=np.int16)
    group = _group_codes(table[columns.group], source)
    return build_index(group, lang, source, languages=languages, datasets=datasets)


def pairs_dataset(pairs: Sequence[Pair], *, hard_negatives: int = 0) -> "Dataset":
    """A `datasets.Dataset` of ``pairs`` in this module's layout: ``query``, ``positive``,
    ``negative_1..k`` (the first ``k = hard_negatives`` of each pair's negatives), ``lang``,
    ``group``, ``dataset``."""
    from datasets import Dataset

    short = next((i for i, p in enumerate(pairs) if len(p.negatives) < hard_negatives), None)
    if short is not None:
        raise InputError(f"has {len(pairs[short].negatives)} hard negatives, fewer than the {hard_negatives} "
                         "asked for (every row needs the same columns)", record=f"pair {short}")
    data = {"query": [p.query for p in pairs], "positive": [p.positive for p in pairs]}
    for k in range(hard_negatives):
        data[f"negative_{k + 1}"] = [p.negatives[k] for p in pairs]
    data.update({"lang": [p.lang for p in pairs], "group": [p.group for p in pairs],
                 "dataset": [p.dataset for p in pairs]})
    return Dataset.from_dict(data)


def _sorted_codes(column, what: str) -> tuple[tuple[str, ...], np.ndarray]:
    """Names in sorted order and each row's index into them."""
    names, codes = _first_appearance_codes(column, what)
    order = sorted(range(len(names)), key=lambda i: names[i])
    rank = np.empty(len(names), dtype=np.int16)
    rank[order] = np.arange(len(names))
    return tuple(names[i] for i in order), rank[codes]


def _group_codes(column, source: np.ndarray) -> np.ndarray:
    """Group numbers keyed by (data set, group id) in order of first appearance."""
    _, codes = _first_appearance_codes(column, "group")
    if int(source.max(initial=0)) == 0:
        return codes.astype(np.int64)  # dictionary codes are already numbered by first appearance
    key = source.astype(np.int64) * (int(codes.max()) + 1) + codes
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    rank = np.empty(first.size, dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(first.size)
    return rank[inverse.ravel()]


def _first_appearance_codes(column, what: str) -> tuple[list, np.ndarray]:
    """Distinct values in order of first appearance, and each row's index into them."""
    import pyarrow as pa

    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if array.null_count:
        row = int(np.flatnonzero(np.asarray(array.is_null()))[0])
        raise InputError(f"missing {what}", path="dataset", record=f"row {row}")
    encoded = array.dictionary_encode()
    return encoded.dictionary.to_pylist(), np.asarray(encoded.indices).astype(np.int64)
