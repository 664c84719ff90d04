"""What a BEIR translation did, per file and per target language: the manifest it writes.

``OUT/<tgt>/polyir-translation.json`` (schema ``polyir.beir-translation/1``) records the
model (name and content fingerprint), the decoding settings, the segmentation, the filter
settings and their results per file, field and reason, the qrels files written, and the
model calls; ``polyir-translation-rejects.jsonl`` beside it lists every rejected field
(which record, which field, why, and whether the source text was kept or the record
dropped).  The manifest is written last: a directory that has one is complete.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from .. import __version__
from .filters import REASONS
from .pairs_pipeline import DirectionStats

MANIFEST = "polyir-translation.json"
REJECTS = "polyir-translation-rejects.jsonl"
SCHEMA = "polyir.beir-translation/1"


@dataclass
class FileReport:
    """One of corpus / queries: records, fields translated, rejections, segments (summed over chunks)."""

    file: str
    records: int = 0
    written: int = 0
    fields_translated: Counter = field(default_factory=Counter)  # per field
    fell_back: Counter = field(default_factory=Counter)  # per (field, reason): the source text was kept
    dropped: Counter = field(default_factory=Counter)  # per reason: the record was left out
    segments: DirectionStats = field(default_factory=DirectionStats)

    def add_segments(self, chunk: DirectionStats) -> None:
        for name in ("segments", "cached", "translated", "truncated", "seconds"):
            setattr(self.segments, name, getattr(self.segments, name) + getattr(chunk, name))

    def to_dict(self) -> dict:
        fell_back: dict[str, dict[str, int]] = {}
        for (name, reason), n in sorted(self.fell_back.items()):
            fell_back.setdefault(name, {})[reason] = n
        seg = self.segments
        return {"file": self.file, "records": self.records, "written": self.written,
                "fields_translated": dict(sorted(self.fields_translated.items())), "fell_back": fell_back,
                "dropped": {r: self.dropped[r] for r in REASONS if self.dropped[r]},
                "segments": {"unique_per_chunk": seg.segments, "cached": seg.cached, "translated": seg.translated,
                             "truncated": seg.truncated, "seconds": round(seg.seconds, 3)}}


@dataclass
class BeirTranslationReport:
    """One target language of a BEIR translation."""

    source_dir: str
    out_dir: str
    source: str
    target: str
    model: str = ""
    fingerprint: str = ""
    decoding: dict = field(default_factory=dict)
    segmentation: dict = field(default_factory=dict)
    filters: dict = field(default_factory=dict)
    on_reject: str = "source"
    files: dict[str, FileReport] = field(default_factory=dict)
    qrels: dict[str, dict] = field(default_factory=dict)  # file name -> {"judgements": n, "removed": n}
    rejections: int = 0
    model_calls: int = 0

    def manifest(self) -> dict:
        return {"schema": SCHEMA, "polyir": __version__,
                "source": {"dir": self.source_dir, "language": self.source},
                "target": {"dir": self.out_dir, "language": self.target},
                "model": {"name": self.model, "fingerprint": self.fingerprint},
                "decoding": self.decoding, "segmentation": self.segmentation,
                "filters": self.filters, "on_reject": self.on_reject,
                "files": {kind: report.to_dict() for kind, report in self.files.items()},
                "qrels": self.qrels, "rejections": {"file": REJECTS, "count": self.rejections},
                "model_calls": self.model_calls}

    def format_table(self) -> str:
        """Rejected fields per file, field and reason (what fell back to the source / was dropped)."""
        header = ["file", "field", "records", "translated", *REASONS, "action"]
        rows = []
        for kind, report in self.files.items():
            for name in sorted({*report.fields_translated, *(f for f, _ in report.fell_back)}) or ["text"]:
                counts = [report.fell_back[(name, r)] + (report.dropped[r] if name == "text" else 0) for r in REASONS]
                action = "drop" if name == "text" and self.on_reject == "drop" else "source"
                rows.append([kind, name, report.records, report.fields_translated[name], *counts, action])
        widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
        return "\n".join("  ".join(str(v).rjust(w) if 1 < i < len(header) - 1 else str(v).ljust(w)
                                   for i, (v, w) in enumerate(zip(row, widths))).rstrip() for row in [header, *rows])
