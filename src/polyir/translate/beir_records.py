"""BEIR records under translation: validation, the segments of each field, the translated record.

A corpus record's ``title`` is translated whole (titles are headings and names); its ``text``
is split into sentences like a passage of a pair (`segments.Segmenter`), each sentence
translated on its own, the translations re-joined.  A query's ``text`` is split the same way:
a one-sentence query stays whole, a long argument-style query (ArguAna, Touché) is not cut
at the model's maximum length.  Every other field of the JSON object is kept as it is, in
its order, except ``lang`` / ``language``, which becomes the target language.

Each translated field is checked by the quality filters against its source field.  A field
that fails is *rejected*: with ``on_reject="source"`` (the default) the record keeps the
source-language text of that field, so the benchmark stays complete with unchanged ids and
qrels; with ``on_reject="drop"`` a record whose ``text`` fails is left out (its qrels lines
go with it), while a failing title still falls back to the source title.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from ..errors import ConfigError, InputError
from ..io import iter_jsonl
from .filters import TranslationFilter
from .segments import Segmenter, join_segments

ON_REJECT = ("source", "drop")
KINDS = ("queries", "corpus")  # the two JSONL files of a BEIR directory, in the order translated
TRANSLATED_FIELDS = {"corpus": ("title", "text"), "queries": ("text",)}
LANGUAGE_FIELDS = ("lang", "language")


def check_on_reject(value: str) -> str:
    if value not in ON_REJECT:
        raise ConfigError(f"on_reject must be one of {', '.join(ON_REJECT)}, got {value!r}")
    return value


@dataclass(frozen=True)
class Rejection:
    """One translated field that failed a quality check, and what was done about it."""

    kind: str  # "corpus" or "queries"
    id: str
    line: int
    field: str
    reason: str  # a `filters.REASONS` entry
    action: str  # "source": the source text was kept; "drop": the record was left out

    def to_dict(self) -> dict:
        return {"file": self.kind, "_id": self.id, "line": self.line, "field": self.field,
                "reason": self.reason, "action": self.action}


@dataclass(frozen=True)
class RecordUnits:
    """A source record and, per non-empty translated field, the segments sent to the model."""

    line: int
    id: str
    obj: dict
    fields: tuple[tuple[str, tuple[str, ...]], ...]


def record_id(obj: dict, path: Path, line: int) -> str:
    """The record's ``_id`` as a string (BEIR allows integers); `InputError` when missing."""
    rid = obj.get("_id")
    if isinstance(rid, int) and not isinstance(rid, bool):
        rid = str(rid)
    if not isinstance(rid, str) or not rid:
        raise InputError(f"'_id' must be a non-empty string, got {rid!r}", path=path, record=f"line {line}")
    return rid


def check_record(obj: dict, kind: str, path: Path, line: int) -> str:
    """Validate one record as `polyir.data.load_beir` would; returns its id."""
    rid = record_id(obj, path, line)
    where = f"line {line} _id={rid}"
    if "text" not in obj:
        raise InputError("missing field 'text'", path=path, record=where)
    values = [obj.get(name) or "" for name in TRANSLATED_FIELDS[kind]]
    if not all(isinstance(v, str) for v in values):
        raise InputError(f"{' and '.join(repr(f) for f in TRANSLATED_FIELDS[kind])} must be strings",
                         path=path, record=where)
    if not any(v.strip() for v in values):
        raise InputError("empty text", path=path, record=where)
    return rid


def scan_records(path: Path, kind: str) -> int:
    """Validate every record of a corpus / queries file (before anything is translated, so a
    bad line fails at once rather than after hours); returns the number of records."""
    seen: set[str] = set()
    for line, obj in iter_jsonl(path):
        rid = check_record(obj, kind, path, line)
        if rid in seen:
            raise InputError("duplicate _id", path=path, record=f"line {line} _id={rid}")
        seen.add(rid)
    return len(seen)


def record_units(line: int, obj: dict, kind: str, src: str, segmenter: Segmenter) -> RecordUnits:
    fields = []
    for name in TRANSLATED_FIELDS[kind]:
        value = (obj.get(name) or "").strip()
        if value:
            fields.append((name, (value,) if name == "title" else tuple(segmenter.passage(value, src))))
    return RecordUnits(line, str(obj["_id"]), obj, tuple(fields))


@dataclass(frozen=True)
class Rebuilt:
    """A translated record (None when dropped), the fields translated and the rejections."""

    obj: dict | None
    translated: tuple[str, ...]
    rejections: tuple[Rejection, ...]


def rebuild_record(units: RecordUnits, kind: str, translations: Mapping[str, str], src: str, tgt: str,
                   checker: TranslationFilter, on_reject: str) -> Rebuilt:
    """The output record: translated fields that pass the filters, the rest per ``on_reject``."""
    obj = dict(units.obj)
    for name in LANGUAGE_FIELDS:
        if name in obj:
            obj[name] = tgt
    translated, rejections = [], []
    for name, segments in units.fields:
        output = join_segments([translations[s] for s in segments], tgt)
        reason = checker.check(output, tgt, units.obj[name], src)
        if reason is None:
            obj[name] = output
            translated.append(name)
            continue
        action = "drop" if on_reject == "drop" and name == "text" else "source"
        rejections.append(Rejection(kind, units.id, units.line, name, reason, action))
        if action == "drop":
            return Rebuilt(None, tuple(translated), tuple(rejections))
    return Rebuilt(obj, tuple(translated), tuple(rejections))
