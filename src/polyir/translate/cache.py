"""On-disk translation cache: SQLite, keyed by (model fingerprint, source, target, text hash).

``<cache dir>/translations.sqlite`` (``$POLYIR_CACHE_DIR`` or ``~/.cache/polyir``; any path
with ``--cache``) holds every translated segment.  Re-running a translation, or translating
data that overlaps earlier data (the same passage in many SQuAD questions, the same
sentence in two data sets), costs no model call for what is cached.

* Commits happen per batch (`store`), so a run killed at any point (even ``kill -9``) keeps
  every finished batch, and a re-run translates only the rest.
* The key is ``blake2b-128(text)``; the model fingerprint (`fingerprints`) is stored once
  in the ``model`` table and referenced by a small integer.
* WAL journal and a busy timeout let several processes share one cache.
"""
from __future__ import annotations

import hashlib
import os
import sqlite3
from pathlib import Path
from typing import Iterable, Mapping, Sequence

from ..errors import InputError
from ..io import output_file

LOOKUP_CHUNK = 900  # below SQLite's oldest host-parameter limit (999)
BUSY_TIMEOUT_MS = 120_000
SCHEMA = """
CREATE TABLE IF NOT EXISTS model (id INTEGER PRIMARY KEY, fingerprint TEXT UNIQUE NOT NULL, name TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS translation (
    model INTEGER NOT NULL, src TEXT NOT NULL, tgt TEXT NOT NULL, key BLOB NOT NULL, output TEXT NOT NULL,
    PRIMARY KEY (model, src, tgt, key)) WITHOUT ROWID;
"""


def default_cache_path() -> Path:
    configured = os.environ.get("POLYIR_CACHE_DIR")
    root = Path(configured).expanduser() if configured else Path.home() / ".cache" / "polyir"
    return root / "translations.sqlite"


def text_key(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


class TranslationCache:
    """``with TranslationCache(path) as cache: ...``; ``path=":memory:"`` keeps nothing."""

    def __init__(self, path: str | Path | None = None):
        self.path = str(path) if path is not None else str(default_cache_path())
        if self.path != ":memory:":
            output_file(self.path)
        self.db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000)
        try:
            self._open()
        except sqlite3.DatabaseError as err:
            self.db.close()
            raise InputError(f"not a translation cache (SQLite) file: {err}", path=self.path) from None
        except InputError:
            self.db.close()
            raise
        self._model_ids: dict[str, int] = {}

    def _open(self) -> None:
        self.db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        tables = {row[0] for row in self.db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if tables and not {"model", "translation"} <= tables:  # another program's database: add nothing to it
            raise InputError("not a translation cache (an SQLite database with other tables)", path=self.path)
        if self.path != ":memory:":
            self.db.execute("PRAGMA journal_mode = WAL")
        self.db.executescript(SCHEMA)

    def __enter__(self) -> "TranslationCache":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.db.close()

    def _model_id(self, fingerprint: str, name: str | None = None) -> int | None:
        """The model's row id; a new row only when ``name`` is given (i.e. when storing)."""
        if fingerprint not in self._model_ids:
            if name is not None:
                with self.db:
                    self.db.execute("INSERT OR IGNORE INTO model (fingerprint, name) VALUES (?, ?)",
                                    (fingerprint, name))
            row = self.db.execute("SELECT id FROM model WHERE fingerprint = ?", (fingerprint,)).fetchone()
            if row is None:
                return None
            self._model_ids[fingerprint] = row[0]
        return self._model_ids[fingerprint]

    def lookup(self, fingerprint: str, src: str, tgt: str, texts: Iterable[str]) -> dict[str, str]:
        """``{text: translation}`` for the cached ones among ``texts``."""
        by_key = {text_key(t): t for t in texts}
        keys = list(by_key)
        model = self._model_id(fingerprint)
        found: dict[str, str] = {}
        if model is None:
            return found
        for start in range(0, len(keys), LOOKUP_CHUNK):
            chunk = keys[start:start + LOOKUP_CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = self.db.execute(f"SELECT key, output FROM translation WHERE model = ? AND src = ? AND tgt = ? "
                                   f"AND key IN ({marks})", (model, src, tgt, *chunk))
            found.update((by_key[key], output) for key, output in rows)
        return found

    def store(self, fingerprint: str, src: str, tgt: str, translations: Mapping[str, str], *, name: str = "") -> None:
        """Insert translations and commit (one transaction: a batch is stored whole or not at all)."""
        model = self._model_id(fingerprint, name)
        with self.db:
            self.db.executemany("INSERT OR REPLACE INTO translation (model, src, tgt, key, output) VALUES (?, ?, ?, ?, ?)",
                                ((model, src, tgt, text_key(t), out) for t, out in translations.items()))

    def count(self, fingerprint: str | None = None) -> int:
        if fingerprint is None:
            return self.db.execute("SELECT count(*) FROM translation").fetchone()[0]
        model = self._model_id(fingerprint)
        if model is None:
            return 0
        return self.db.execute("SELECT count(*) FROM translation WHERE model = ?", (model,)).fetchone()[0]

    def models(self) -> Sequence[tuple[str, str]]:
        """``(fingerprint, name)`` of every model with cached translations."""
        return self.db.execute("SELECT fingerprint, name FROM model ORDER BY id").fetchall()
