"""On-disk embedding cache: one SQLite file per model fingerprint.

``<cache dir>/embeddings/<fingerprint>.sqlite`` holds ``key -> float32 vector`` where
``key = blake2b-128(route NUL prompt NUL text)`` (`text_key`).  The model output is
stored before polyir's own normalisation, so normalised and raw requests share entries.

* Writes are committed per batch of texts, so an interrupted encoding keeps every
  finished batch and a re-run resumes from there.
* WAL journal + a busy timeout: several processes (parallel evaluations) can read and
  write one cache.
* One file per model makes "forget this model" a file deletion, and keeps keys short.

The directory is ``$POLYIR_CACHE_DIR`` or ``~/.cache/polyir``.
"""
from __future__ import annotations

import hashlib
import os
import sqlite3
from pathlib import Path
from typing import Sequence

import numpy as np

from .errors import ConfigError

LOOKUP_CHUNK = 900  # below SQLite's oldest host-parameter limit (999)
BUSY_TIMEOUT_MS = 120_000


def default_cache_dir() -> Path:
    """``$POLYIR_CACHE_DIR`` if set, else ``~/.cache/polyir``."""
    configured = os.environ.get("POLYIR_CACHE_DIR")
    return Path(configured).expanduser() if configured else Path.home() / ".cache" / "polyir"


def text_key(prompt: str, text: str, route: str = "") -> bytes:
    """Cache key of one input: the exact string the model sees, plus the Router task (if any)."""
    payload = f"{route}\0{prompt}\0{text}".encode("utf-8", "surrogatepass")
    return hashlib.blake2b(payload, digest_size=16).digest()


class EmbeddingCache:
    """``with EmbeddingCache() as cache: encode(model, texts, cache=cache)``."""

    def __init__(self, directory: str | Path | None = None):
        self.directory = Path(directory) if directory is not None else default_cache_dir()
        self._connections: dict[str, sqlite3.Connection] = {}

    def path_for(self, fingerprint: str) -> Path:
        return self.directory / "embeddings" / f"{fingerprint}.sqlite"

    def lookup(self, fingerprint: str, keys: Sequence[bytes]) -> dict[bytes, np.ndarray]:
        """The cached vectors among ``keys`` (float32, read-only arrays)."""
        if not keys or not self.path_for(fingerprint).exists():
            return {}
        db = self._connect(fingerprint)
        found: dict[bytes, np.ndarray] = {}
        for start in range(0, len(keys), LOOKUP_CHUNK):
            chunk = keys[start:start + LOOKUP_CHUNK]
            marks = ",".join("?" * len(chunk))
            for key, blob in db.execute(f"SELECT key, vector FROM embedding WHERE key IN ({marks})", chunk):
                found[key] = np.frombuffer(blob, dtype="<f4")
        return found

    def store(self, fingerprint: str, keys: Sequence[bytes], vectors: np.ndarray, *, source: str = "") -> None:
        """Insert (or replace) vectors and commit."""
        if len(keys) != len(vectors):
            raise ValueError(f"{len(keys)} keys for {len(vectors)} vectors")
        db = self._connect(fingerprint, source=source)
        rows = np.ascontiguousarray(vectors, dtype="<f4")
        with db:
            db.executemany("INSERT OR REPLACE INTO embedding (key, vector) VALUES (?, ?)",
                           ((key, row.tobytes()) for key, row in zip(keys, rows)))

    def count(self, fingerprint: str) -> int:
        if not self.path_for(fingerprint).exists():
            return 0
        return self._connect(fingerprint).execute("SELECT count(*) FROM embedding").fetchone()[0]

    def close(self) -> None:
        for db in self._connections.values():
            db.close()
        self._connections.clear()

    def __enter__(self) -> "EmbeddingCache":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _connect(self, fingerprint: str, source: str = "") -> sqlite3.Connection:
        if fingerprint in self._connections:
            return self._connections[fingerprint]
        path = self.path_for(fingerprint)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable at checkpoints, never corrupt
            with db:
                db.execute("CREATE TABLE IF NOT EXISTS embedding (key BLOB PRIMARY KEY, vector BLOB NOT NULL)"
                           " WITHOUT ROWID")
                db.execute("CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)")
                db.executemany("INSERT OR IGNORE INTO meta VALUES (?, ?)",
                               [("fingerprint", fingerprint), ("source", source)])
        except (OSError, sqlite3.Error) as err:
            raise ConfigError(f"cannot open embedding cache {path}: {err} "
                              "(set POLYIR_CACHE_DIR or disable the cache)") from None
        self._connections[fingerprint] = db
        return db
