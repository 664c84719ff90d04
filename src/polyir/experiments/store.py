"""The results database: one embedded SQLite file per sweep (``OUT/results.db``).

A finished run is inserted in ONE transaction (its ``runs`` row, every metric, bias and
per-query row) or not at all; ``runs.hash`` is unique, so a run is never recorded twice.
The schema is documented in docs/experiments.md ("Results database").
"""
from __future__ import annotations

import datetime
import hashlib
import json
import sqlite3
import zlib
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from ..errors import InputError
from ..io import output_file
from .record import Matrix, RunRecord, dumps

SCHEMA_VERSION = "1"
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
  run_id INTEGER PRIMARY KEY,
  hash TEXT NOT NULL UNIQUE,
  sweep TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('train', 'baseline')),
  status TEXT NOT NULL DEFAULT 'done',
  model TEXT, data TEXT, strategy TEXT NOT NULL, alpha REAL, label TEXT NOT NULL,
  batch_size INTEGER, seed INTEGER,
  axes TEXT NOT NULL, config TEXT NOT NULL, eval_specs TEXT NOT NULL, select_model TEXT,
  started_at TEXT, finished_at TEXT, recorded_at TEXT NOT NULL,
  wall_seconds REAL, train_seconds REAL, eval_seconds REAL,
  steps INTEGER, total_steps INTEGER, pairs_per_second REAL,
  share_mono_batches REAL, share_items_cross REAL,
  leakage_dropped_groups INTEGER, leakage_dropped_pairs INTEGER,
  train_summary TEXT, sampling TEXT, leakage TEXT,
  run_dir TEXT, host TEXT, polyir_version TEXT
);
CREATE TABLE IF NOT EXISTS metrics (
  run_id INTEGER NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
  eval_set TEXT NOT NULL, kind TEXT NOT NULL, query_lang TEXT NOT NULL, pool TEXT NOT NULL,
  measure TEXT NOT NULL, value REAL, n_queries INTEGER NOT NULL,
  PRIMARY KEY (run_id, eval_set, query_lang, pool, measure)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS bias (
  run_id INTEGER NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
  eval_set TEXT NOT NULL, query_lang TEXT NOT NULL, measure TEXT NOT NULL, value REAL, n_queries INTEGER,
  PRIMARY KEY (run_id, eval_set, query_lang, measure)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS question_lists (digest TEXT PRIMARY KEY, n INTEGER NOT NULL, questions BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS per_query (
  run_id INTEGER NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
  eval_set TEXT NOT NULL, kind TEXT NOT NULL, measure TEXT NOT NULL,
  settings TEXT NOT NULL, questions TEXT NOT NULL REFERENCES question_lists(digest),
  n_settings INTEGER NOT NULL, n_questions INTEGER NOT NULL, vals BLOB NOT NULL,
  PRIMARY KEY (run_id, eval_set, kind, measure)
) WITHOUT ROWID;
CREATE VIEW IF NOT EXISTS macro AS
  SELECT r.run_id, r.hash, r.model, r.data, r.label, r.batch_size, r.seed, m.eval_set, m.kind, m.measure,
         AVG(m.value) AS value, COUNT(*) AS n_settings
  FROM metrics m JOIN runs r USING (run_id) GROUP BY m.run_id, m.eval_set, m.kind, m.measure;
"""
AXIS_COLUMNS = ("model", "data", "strategy", "alpha", "label", "batch_size", "seed")


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def encode_values(values: np.ndarray) -> bytes:
    """float32 little-endian, row-major, zlib-compressed."""
    return zlib.compress(np.ascontiguousarray(values, dtype="<f4").tobytes(), 6)


def decode_values(blob: bytes, shape: tuple[int, int]) -> np.ndarray:
    return np.frombuffer(zlib.decompress(blob), dtype="<f4").reshape(shape)


class ResultsStore:
    """``with ResultsStore(path) as store: store.record(record)``; readers use the query methods.

    ``create=False`` opens an existing database read-only (SQLite ``mode=ro``): a reader such as
    ``polyir report`` never modifies the file it is given, and refuses one that is not a polyir
    results database (another program's SQLite file, a 0-byte file, a text file)."""

    def __init__(self, path: str | Path, *, create: bool = True):
        self.path = Path(path)
        self.readonly = not create
        if self.readonly:
            if not self.path.is_file():
                raise InputError("results database not found" if not self.path.exists() else
                                 "not a results database (it is a directory)", path=self.path)
            self.conn = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True, timeout=60,
                                        isolation_level=None)
        else:
            output_file(self.path)
            self.conn = sqlite3.connect(str(self.path), timeout=60, isolation_level=None)
        self.conn.row_factory = sqlite3.Row
        try:
            self.conn.execute("PRAGMA foreign_keys = ON")
            if self.readonly:
                self._check_schema()
                self._check_integrity()
            else:
                self._create()
        except sqlite3.DatabaseError as err:
            self.conn.close()
            raise InputError(f"not a polyir results database: {err}", path=self.path) from None
        except InputError:
            self.conn.close()
            raise

    def _check_schema(self) -> None:
        tables = {row[0] for row in self.conn.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")}
        missing = [t for t in ("meta", "runs", "metrics", "bias", "per_query", "question_lists", "macro")
                   if t not in tables]
        if missing:
            raise InputError(f"not a polyir results database (no table {missing[0]!r}; polyir sweep and polyir demo "
                             "write them)", path=self.path)
        self._check_version()

    def _check_integrity(self) -> None:
        """A truncated or overwritten database opens fine and fails mid-report: check its pages first
        (``quick_check`` reads every page once: well under a second for a study's database)."""
        problem = self.conn.execute("PRAGMA quick_check(1)").fetchone()[0]
        if problem != "ok":
            raise InputError(f"damaged results database (SQLite quick_check: {problem})", path=self.path)

    def _create(self) -> None:
        if self.conn.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchone():
            self._check_schema()  # an existing database must be ours: another program's gets nothing added
            return
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    self.conn.execute(statement)
            self.conn.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (SCHEMA_VERSION,))
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self._check_version()

    def _check_version(self) -> None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        if row is None or row[0] != SCHEMA_VERSION:
            found = "none" if row is None else row[0]
            raise InputError(f"results database schema {found}, this polyir reads and writes {SCHEMA_VERSION}",
                             path=self.path)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> "ResultsStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ---- writing
    def record(self, record: RunRecord, *, run_dir: str | Path | None = None) -> bool:
        """Insert a finished run in one transaction; False (nothing written) if its hash is there."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            if self.conn.execute("SELECT 1 FROM runs WHERE hash = ?", (record.spec.hash,)).fetchone():
                self.conn.execute("ROLLBACK")
                return False
            run_id = self._insert_run(record, run_dir)
            self._insert_rows(run_id, record)
            self._insert_matrices(run_id, record.matrices)
            self.conn.execute("COMMIT")
            return True
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise

    def _insert_run(self, record: RunRecord, run_dir) -> int:
        spec, summary, timings = record.spec, record.train_summary or {}, record.timings
        sampling = summary.get("sampling") or {}
        leakage = (summary.get("data") or {}).get("leakage")
        values = {
            "hash": spec.hash, "sweep": spec.sweep, "kind": spec.kind,
            **{col: spec.axes.get(col) for col in AXIS_COLUMNS},
            "axes": dumps(spec.axes), "config": dumps(spec.train), "eval_specs": dumps(list(spec.evaluate)),
            "select_model": spec.select, "started_at": timings.get("started_at"),
            "finished_at": timings.get("finished_at"), "recorded_at": _now(),
            "wall_seconds": timings.get("wall_seconds"), "train_seconds": summary.get("train_seconds"),
            "eval_seconds": timings.get("eval_seconds"), "steps": summary.get("steps"),
            "total_steps": summary.get("total_steps"), "pairs_per_second": summary.get("pairs_per_second"),
            "share_mono_batches": sampling.get("share_batches_mono"),
            "share_items_cross": sampling.get("share_items_cross"),
            "leakage_dropped_groups": (leakage or {}).get("dropped_groups"),
            "leakage_dropped_pairs": (leakage or {}).get("dropped_pairs"),
            "train_summary": dumps(summary) if record.train_summary else None,
            "sampling": dumps(sampling) if sampling else None, "leakage": dumps(leakage) if leakage else None,
            "run_dir": str(run_dir) if run_dir else None, "host": record.info.get("host"),
            "polyir_version": record.info.get("polyir_version")}
        columns = ", ".join(values)
        marks = ", ".join("?" for _ in values)
        cursor = self.conn.execute(f"INSERT INTO runs ({columns}) VALUES ({marks})", tuple(values.values()))
        return int(cursor.lastrowid)

    def _insert_rows(self, run_id: int, record: RunRecord) -> None:
        self.conn.executemany(
            "INSERT INTO metrics VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [(run_id, r["eval_set"], r["kind"], r["query_lang"], r["pool"], r["measure"], r["value"], r["n_queries"])
             for r in record.metrics])
        self.conn.executemany(
            "INSERT INTO bias VALUES (?, ?, ?, ?, ?, ?)",
            [(run_id, r["eval_set"], r["query_lang"], r["measure"], r["value"], r["n_queries"]) for r in record.bias])

    def _insert_matrices(self, run_id: int, matrices: Iterable[Matrix]) -> None:
        for m in matrices:
            questions = json.dumps(list(m.questions), ensure_ascii=False).encode("utf-8")
            digest = hashlib.sha256(questions).hexdigest()[:24]
            self.conn.execute("INSERT OR IGNORE INTO question_lists VALUES (?, ?, ?)",
                              (digest, len(m.questions), zlib.compress(questions, 6)))
            self.conn.execute("INSERT INTO per_query VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                              (run_id, m.eval_set, m.kind, m.measure, json.dumps(list(m.settings)), digest,
                               len(m.settings), len(m.questions), encode_values(m.values)))

    def set_meta(self, key: str, value: str) -> None:
        self.conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def get_meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    # ---- reading
    def hashes(self) -> set[str]:
        return {row[0] for row in self.conn.execute("SELECT hash FROM runs")}

    def has_run(self, run_hash: str) -> bool:
        return self.conn.execute("SELECT 1 FROM runs WHERE hash = ?", (run_hash,)).fetchone() is not None

    def runs(self) -> list[dict[str, Any]]:
        """Every run as a dict (JSON columns parsed), in insertion order."""
        out = []
        for row in self.conn.execute("SELECT * FROM runs ORDER BY run_id"):
            run = dict(row)
            for key in ("axes", "config", "eval_specs", "train_summary", "sampling", "leakage"):
                run[key] = json.loads(run[key]) if run[key] else None
            out.append(run)
        return out

    def metric_rows(self, eval_set: str | None = None) -> list[dict[str, Any]]:
        query, args = "SELECT * FROM metrics", ()
        if eval_set is not None:
            query, args = query + " WHERE eval_set = ?", (eval_set,)
        return [dict(row) for row in self.conn.execute(query, args)]

    def bias_rows(self) -> list[dict[str, Any]]:
        return [dict(row) for row in self.conn.execute("SELECT * FROM bias")]

    def macro(self) -> list[dict[str, Any]]:
        return [dict(row) for row in self.conn.execute("SELECT * FROM macro")]

    def matrix(self, run_id: int, eval_set: str, kind: str, measure: str) -> Matrix | None:
        row = self.conn.execute(
            "SELECT p.*, q.questions AS question_blob FROM per_query p JOIN question_lists q ON q.digest = p.questions "
            "WHERE run_id = ? AND eval_set = ? AND kind = ? AND measure = ?", (run_id, eval_set, kind, measure)).fetchone()
        if row is None:
            return None
        questions = tuple(json.loads(zlib.decompress(row["question_blob"]).decode("utf-8")))
        values = decode_values(row["vals"], (row["n_settings"], row["n_questions"]))
        return Matrix(eval_set, kind, measure, tuple(json.loads(row["settings"])), questions, values)

    def counts(self) -> dict[str, int]:
        return {table: self.conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
                for table in ("runs", "metrics", "bias", "per_query", "question_lists")}
