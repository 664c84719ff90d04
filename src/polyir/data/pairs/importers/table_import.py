"""Generic tables (JSONL, CSV, TSV; optionally gzipped) -> training pairs through a column mapping.

Mapping: ``{"query": "question", "positive": "answer", "id": "qid", "lang": "language",
"negatives": "neg1+neg2", "dataset": "source"}`` (``query`` and ``positive`` are required).
Written on the command line as ``--map query=question,positive=answer,id=qid``.
Files without a header name columns by 0-based index; ``"2:"`` means every column from
index 2 on (for a variable number of negatives).  A JSONL ``negatives`` column may hold a
list.  Without an ``id`` column a row's group id is its 1-based data-row number (JSONL: line number), which aligns
row-aligned files of different languages (e.g. translated MS MARCO text triples).
Without a ``lang`` column the language of the source (``LANG=PATH`` / ``--lang``) is used.
TSV is read without quote processing (MS MARCO passages contain bare quotes).

``triples`` is the preset for MS MARCO text triples, ``query <TAB> positive <TAB> negative...``
with no header (``with_ids``: a leading id column).
"""
from __future__ import annotations

import csv
from collections import Counter
from typing import Any, Iterator, Mapping, Sequence

from ....errors import ConfigError, InputError
from ....languages import normalise_language
from ....types import Pair
from ..sources import Source, iter_json_lines, open_text
from .import_common import Skipper, dataset_names

TARGETS = ("id", "lang", "query", "positive", "negatives", "dataset")


def parse_mapping(spec: str | Sequence[str]) -> dict[str, str]:
    """``"query=question,positive=answer"`` (or a list of such strings) -> ``{target: column}``."""
    items = [spec] if isinstance(spec, str) else list(spec)
    mapping: dict[str, str] = {}
    for item in (part for s in items for part in s.split(",") if part.strip()):
        target, sep, column = (x.strip() for x in item.partition("="))
        if not sep or not column:
            raise ConfigError(f"column mapping entries look like target=column, got {item!r}")
        if target not in TARGETS:
            raise ConfigError(f"unknown mapping target {target!r} (expected one of {', '.join(TARGETS)})")
        mapping[target] = column
    for required in ("query", "positive"):
        if required not in mapping:
            raise ConfigError(f"the column mapping needs {required}=COLUMN")
    return mapping


def triples_mapping(with_ids: bool = False) -> dict[str, str]:
    if with_ids:
        return {"id": "0", "query": "1", "positive": "2", "negatives": "3:"}
    return {"query": "0", "positive": "1", "negatives": "2:"}


def _table_format(source: Source) -> str:
    name = source.path.name.removesuffix(".gz")
    for suffix, fmt in ((".jsonl", "jsonl"), (".csv", "csv"), (".tsv", "tsv"), (".txt", "tsv")):
        if name.endswith(suffix):
            return fmt
    raise InputError("cannot tell the table format: use a .jsonl, .csv or .tsv file name", path=source.path)


def _iter_rows(source: Source, header: bool) -> Iterator[tuple[int, Any]]:
    fmt = _table_format(source)
    if fmt == "jsonl":
        yield from iter_json_lines(source.path)
        return
    csv.field_size_limit(2**31 - 1)
    options = {"delimiter": "\t", "quoting": csv.QUOTE_NONE} if fmt == "tsv" else {}
    with open_text(source.path) as f:
        reader = csv.reader(f, **options)
        names = None
        for rownum, row in enumerate(reader, 1):
            if header and names is None:
                names = row
                continue
            if not any(cell.strip() for cell in row):
                continue
            yield (rownum - 1 if header else rownum), (dict(zip(names, row)) if names else row)


def _value(row: Any, column: str, path, record: str) -> Any:
    if isinstance(row, dict):
        if column not in row:
            raise InputError(f"missing column {column!r}", path=path, record=record)
        return row[column]
    if column.endswith(":") and column[:-1].isdigit():
        return row[int(column[:-1]):]
    if not column.isdigit():
        raise ConfigError(f"a file without a header names columns by index, got {column!r}")
    if int(column) >= len(row):
        raise InputError(f"missing column {column} (the row has {len(row)})", path=path, record=record)
    return row[int(column)]


def _text(value: Any, what: str, path, record: str) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and what == "id":
        value = str(value)
    if not isinstance(value, str):
        raise InputError(f"{what} must be a string, got {type(value).__name__}", path=path, record=record)
    if not value.strip():
        raise InputError(f"empty {what}", path=path, record=record)
    return value.strip()


def _negatives(row: Any, spec: str | None, path, record: str) -> tuple[str, ...]:
    if spec is None:
        return ()
    values: list[Any] = []
    for column in spec.split("+"):
        value = _value(row, column, path, record)
        values.extend(value if isinstance(value, (list, tuple)) else [value])
    return tuple(_text(v, "negative", path, record) for v in values if not (isinstance(v, str) and not v.strip()))


def pair_from_row(row: Any, mapping: Mapping[str, str], *, rownum: int, source: Source, dataset: str) -> Pair:
    path, record = source.path, f"row {rownum}"
    group = _text(_value(row, mapping["id"], path, record), "id", path, record) if "id" in mapping else str(rownum)
    record = f"{record} id={group!r}"
    if "lang" in mapping:
        lang = normalise_language(_value(row, mapping["lang"], path, record), path=path, record=record)
    elif source.lang:
        lang = source.lang
    else:
        raise InputError("no language: map lang=COLUMN, write LANG=PATH or pass --lang", path=path)
    name = _text(_value(row, mapping["dataset"], path, record), "dataset", path, record) if "dataset" in mapping \
        else dataset
    return Pair(group=group, lang=lang, query=_text(_value(row, mapping["query"], path, record), "query", path, record),
                positive=_text(_value(row, mapping["positive"], path, record), "positive", path, record),
                negatives=_negatives(row, mapping.get("negatives"), path, record), dataset=name)


def iter_table_pairs(sources: Sequence[Source], mapping: Mapping[str, str], *, dataset: str | Sequence[str] = "",
                     header: bool = True, stats: Counter | None = None, skip_invalid: bool = False) -> Iterator[Pair]:
    """Stream the pairs of JSONL / CSV / TSV files through ``mapping`` (see module doc)."""
    skipper = Skipper(skip_invalid, stats if stats is not None else Counter())
    for source, name in zip(sources, dataset_names(dataset, len(sources))):
        for rownum, row in _iter_rows(source, header):
            with skipper.guard():
                yield pair_from_row(row, mapping, rownum=rownum, source=source, dataset=name)
