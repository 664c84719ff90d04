"""The canonical training-pair file: JSONL (optionally gzipped) or Parquet, one record per `Pair`.

Record: ``{"id": group, "lang": ..., "query": ..., "positive": ..., "negatives": [...],
"dataset": ...}``.  ``negatives`` and ``dataset`` may be omitted when reading (defaults:
``[]`` and the caller's default data-set name).  Every record is validated when read and
when written; ``(dataset, id, lang)`` must be unique.  Reading and writing stream: memory
holds one Parquet row group (or one JSONL line) plus the set of keys seen.
Writes are atomic: the file appears complete or not at all.
"""
from __future__ import annotations

import contextlib
import gzip
import json
import os
import tempfile
from array import array
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping

import numpy as np

from ...errors import ConfigError, InputError
from ...io import new_file_mode, output_file
from ...languages import normalise_language
from ...types import Pair
from .sources import iter_json_lines

FIELDS = ("id", "lang", "query", "positive", "negatives", "dataset")
REQUIRED_FIELDS = ("id", "lang", "query", "positive")
PAIR_FILE_SUFFIXES = (".jsonl", ".jsonl.gz", ".parquet")
DEFAULT_ROW_GROUP_SIZE = 20_000


def pair_file_format(path: str | Path) -> str:
    name = Path(path).name
    if name.endswith(".parquet"):
        return "parquet"
    if name.endswith((".jsonl", ".jsonl.gz")):
        return "jsonl"
    raise ConfigError(f"{path}: a pair file must end in one of {', '.join(PAIR_FILE_SUFFIXES)}")


def _text(obj: Mapping, name: str, path, record: str) -> str:
    value = obj[name]
    if not isinstance(value, str):
        raise InputError(f"field {name!r} must be a string, got {type(value).__name__}", path=path, record=record)
    if not value.strip():
        raise InputError(f"empty {name!r}", path=path, record=record)
    return value


def _negatives(value: Any, path, record: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, (list, tuple)):
        raise InputError(f"field 'negatives' must be a list of strings, got {type(value).__name__}",
                         path=path, record=record)
    for i, neg in enumerate(value):
        if not isinstance(neg, str) or not neg.strip():
            raise InputError(f"negatives[{i}] must be a non-empty string", path=path, record=record)
    return tuple(value)


def pair_from_record(obj: Mapping[str, Any], *, path=None, record: str = "", default_dataset: str = "") -> Pair:
    """Validate one canonical record and return its `Pair` (language code normalised)."""
    unknown = [k for k in obj if k not in FIELDS]
    if unknown:
        raise InputError(f"unknown field {unknown[0]!r} (expected {', '.join(FIELDS)})", path=path, record=record)
    for name in REQUIRED_FIELDS:
        if name not in obj:
            raise InputError(f"missing field {name!r}", path=path, record=record)
    group = _text(obj, "id", path, record)
    record = f"{record} id={group!r}" if record else f"id={group!r}"
    lang = normalise_language(obj["lang"], path=path, record=record)
    dataset = obj.get("dataset") or default_dataset
    if not isinstance(dataset, str):
        raise InputError("field 'dataset' must be a string", path=path, record=record)
    return Pair(group=group, lang=lang, query=_text(obj, "query", path, record),
                positive=_text(obj, "positive", path, record),
                negatives=_negatives(obj.get("negatives"), path, record), dataset=dataset)


def pair_to_record(pair: Pair) -> dict[str, Any]:
    return {"id": pair.group, "lang": pair.lang, "query": pair.query, "positive": pair.positive,
            "negatives": list(pair.negatives), "dataset": pair.dataset}


def _pair_key(pair: Pair) -> tuple[str, str, str]:
    return (pair.dataset, pair.group, pair.lang)


def _pair_twice(pair: Pair, first: str) -> str:
    return f"group {pair.group!r} has language {pair.lang!r} twice (first at {first})"


class DuplicateGuard:
    """Finds keys that occur twice — by default a pair's ``(dataset, group, lang)`` — in 8 bytes
    of memory per record.

    `add` keeps only a 64-bit hash of each key; `check` sorts the hashes and, only when two
    are equal, re-reads the records (``reread()``) to confirm the exact keys and name both
    records in the `InputError` — so a hash collision never raises a false error.
    """

    def __init__(self, path=None, key: Callable[[Any], Any] = _pair_key,
                 twice: Callable[[Any, str], str] = _pair_twice):
        self.path, self.key, self.twice = path, key, twice
        self._hashes = array("q")

    def add(self, item: Any) -> None:
        self._hashes.append(hash(self.key(item)))

    def check(self, reread: Callable[[], Iterable[tuple[str, Any]]]) -> None:
        hashes = np.sort(np.frombuffer(self._hashes, dtype=np.int64))
        repeated = set(hashes[1:][hashes[1:] == hashes[:-1]].tolist())
        if not repeated:
            return
        first: dict[Any, str] = {}
        for record, item in reread():
            key = self.key(item)
            if hash(key) not in repeated:
                continue
            if key in first:
                raise InputError(self.twice(item, first[key]), path=self.path, record=record)
            first[key] = record


def validate_pair(pair: Pair, *, path=None, record: str = "") -> Pair:
    """Check a `Pair` built in code (importers, translation) exactly as a file record is checked."""
    return pair_from_record(pair_to_record(pair), path=path, record=record)


def _iter_jsonl_records(path: Path) -> Iterator[tuple[str, dict]]:
    for lineno, obj in iter_json_lines(path):
        yield f"line {lineno}", obj


def _iter_parquet_records(path: Path) -> Iterator[tuple[str, dict]]:
    pq = _pyarrow_parquet()
    if not path.exists():
        raise InputError("file not found", path=path)
    try:
        parquet = pq.ParquetFile(path)
    except Exception as err:  # pyarrow raises several unrelated types for a broken file
        raise InputError(f"not a readable Parquet file: {err}", path=path) from None
    row = 0
    for batch in parquet.iter_batches(batch_size=DEFAULT_ROW_GROUP_SIZE):
        for obj in batch.to_pylist():
            row += 1
            yield f"row {row}", {k: v for k, v in obj.items() if v is not None}


def _records(path: Path, fmt: str) -> Iterator[tuple[str, dict]]:
    return _iter_parquet_records(path) if fmt == "parquet" else _iter_jsonl_records(path)


def _validated(path: Path, fmt: str, dataset: str | None, shown: Path,
               default: str | None = None) -> Iterator[tuple[str, Pair]]:
    default = dataset or (shown.name.split(".")[0] if default is None else default)
    for record, obj in _records(path, fmt):
        if dataset:
            obj["dataset"] = dataset
        yield record, pair_from_record(obj, path=shown, record=record, default_dataset=default)


def iter_pairs(path: str | Path, *, dataset: str | None = None, check_duplicates: bool = True) -> Iterator[Pair]:
    """Stream the validated pairs of a canonical file.

    ``dataset``: the data-set name for records without one (default: the file's stem);
    a non-empty ``dataset`` given here replaces the records' own names.  A duplicated
    ``(dataset, id, lang)`` raises `InputError` when the stream ends (finding it needs the
    whole file; memory stays at 8 bytes per record).
    """
    path = Path(path)
    fmt = pair_file_format(path)
    guard = DuplicateGuard(path)
    for _, pair in _validated(path, fmt, dataset, path):
        if check_duplicates:
            guard.add(pair)
        yield pair
    if check_duplicates:
        guard.check(lambda: _validated(path, fmt, dataset, path))


@contextlib.contextmanager
def _atomic_path(path: Path) -> Iterator[Path]:
    created = [p for p in (path.parent, *path.parent.parents) if not p.exists()]  # deepest first
    output_file(path)
    # the temporary name ends with the real one, so its format (suffix) reads the same
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=f"-{path.name}")
    os.close(fd)
    os.chmod(tmp, new_file_mode())  # mkstemp's 0600 would outlive the rename
    try:
        yield Path(tmp)
        os.replace(tmp, path)
        created = []
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
        for directory in created:  # a failed write leaves no directory it made behind either
            try:
                directory.rmdir()
            except OSError:
                break


def _write_jsonl(pairs: Iterator[tuple[str, Pair]], tmp: Path, gz: bool) -> int:
    count = 0
    opener = gzip.open(tmp, "wt", encoding="utf-8") if gz else open(tmp, "w", encoding="utf-8")
    with opener as f:
        for _, pair in pairs:
            f.write(json.dumps(pair_to_record(pair), ensure_ascii=False) + "\n")
            count += 1
        f.flush()
        if not gz:
            os.fsync(f.fileno())
    return count


def _write_parquet(pairs: Iterator[tuple[str, Pair]], tmp: Path, row_group_size: int) -> int:
    import pyarrow as pa

    pq = _pyarrow_parquet()
    schema = pa.schema([("id", pa.string()), ("lang", pa.string()), ("query", pa.string()),
                        ("positive", pa.string()), ("negatives", pa.list_(pa.string())), ("dataset", pa.string())])
    count, rows = 0, []
    with pq.ParquetWriter(tmp, schema, compression="zstd") as writer:
        for _, pair in pairs:
            rows.append(pair_to_record(pair))
            count += 1
            if len(rows) >= row_group_size:
                writer.write_table(pa.Table.from_pylist(rows, schema=schema), row_group_size=row_group_size)
                rows = []
        if rows:
            writer.write_table(pa.Table.from_pylist(rows, schema=schema), row_group_size=row_group_size)
    return count


def _reread_written(tmp: Path, fmt: str, shown: Path) -> Iterator[tuple[str, Pair]]:
    """The pairs just written, named as `write_pairs` names them; an empty data-set name stays
    empty (as it was when hashed) instead of becoming the file stem."""
    for n, (_, pair) in enumerate(_validated(tmp, fmt, None, shown, default=""), 1):
        yield f"pair {n}", pair


class NoPairs(InputError):
    """`write_pairs` with ``allow_empty=False`` got no pair (nothing was written)."""


def write_pairs(pairs: Iterable[Pair], path: str | Path, *, row_group_size: int = DEFAULT_ROW_GROUP_SIZE,
                allow_empty: bool = True) -> int:
    """Validate and write ``pairs`` to ``path`` (format from the suffix); returns the number written.

    Streams: a Parquet file is written one row group at a time.  The file is replaced
    atomically only when every pair was valid and no ``(dataset, id, lang)`` repeats, so
    an interrupted or failed import leaves no partial file.  ``allow_empty=False``: no pairs
    raise `NoPairs` and leave ``path`` as it was.
    """
    path = Path(path)
    fmt = pair_file_format(path)
    guard = DuplicateGuard(path)

    def checked() -> Iterator[tuple[str, Pair]]:
        for i, pair in enumerate(pairs, 1):
            pair = validate_pair(pair, path=path, record=f"pair {i}")
            guard.add(pair)
            yield f"pair {i}", pair

    with _atomic_path(path) as tmp:
        if fmt == "parquet":
            count = _write_parquet(checked(), tmp, row_group_size)
        else:
            count = _write_jsonl(checked(), tmp, gz=path.name.endswith(".gz"))
        if not count and not allow_empty:
            raise NoPairs("no pairs to write; the file was not written", path=path)
        guard.check(lambda: _reread_written(tmp, fmt, path))
    return count


def _pyarrow_parquet():
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise ConfigError("Parquet files need pyarrow: pip install 'polyir[parquet]'") from None
    return pq
