"""Small file helpers: atomic writes, JSON/JSONL reading with errors that name file and record."""
from __future__ import annotations

import gzip
import io
import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, TextIO

from .errors import InputError


def open_text(path: str | Path, mode: str = "rt"):
    """Open a text file, transparently decompressing ``.gz``."""
    path = Path(path)
    if path.suffix == ".gz":
        return gzip.open(path, mode, encoding="utf-8")
    return open(path, mode, encoding="utf-8")


def read_json(path: str | Path) -> Any:
    path = Path(path)
    if not path.exists():
        raise InputError("file not found", path=path)
    try:
        with open_text(path) as f:
            return json.load(f)
    except json.JSONDecodeError as err:
        raise InputError(f"malformed JSON at line {err.lineno} column {err.colno}: {err.msg}", path=path) from None
    except (UnicodeDecodeError, OSError, EOFError) as err:
        raise InputError(f"cannot read file: {err}", path=path) from None


def parse_json_line(line: str, path: str | Path, lineno: int) -> dict:
    """One JSONL record; errors name the file and the line."""
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as err:
        raise InputError(f"malformed JSON: {err.msg}", path=path, record=f"line {lineno}") from None
    if not isinstance(obj, dict):
        raise InputError("expected a JSON object", path=path, record=f"line {lineno}")
    return obj


def iter_jsonl(path: str | Path) -> Iterator[tuple[int, dict]]:
    """Yield ``(line_number, object)`` for each non-blank line; errors name file and line."""
    path = Path(path)
    if not path.exists():
        raise InputError("file not found", path=path)
    try:
        with open_text(path) as f:
            for lineno, line in enumerate(f, 1):
                if line.strip():
                    yield lineno, parse_json_line(line, path, lineno)
    except (UnicodeDecodeError, EOFError) as err:
        raise InputError(f"cannot read file: {err}", path=path) from None


def looks_like_local_path(name: str) -> bool:
    """Whether a model name is meant as a local path rather than a hub id (``org/name``): then a
    missing directory is reported as such, not as the hub's complaint about the id's form."""
    return name.startswith((".", "/", "~")) or name.count("/") > 1 or "\\" in name


def output_directory(path: str | Path, *, create: bool = True) -> Path:
    """The directory ``path`` to write into, created with its parents (``create=False``: only
    checked, for a check before long work).  `InputError` naming the culprit when ``path`` or
    one of its parents exists and is not a directory, or when it cannot be created."""
    path = Path(path)
    existing = next((p for p in (path, *path.parents) if p.exists() or p.is_symlink()), None)
    if existing is not None and not existing.is_dir():
        problem = ("exists and is not a directory, so nothing can be written into it" if existing == path
                   else f"is not a directory, so {path} cannot be created")
        raise InputError(problem, path=existing)
    if create:
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise InputError(f"cannot create this directory: {err.strerror or err}", path=path) from None
    return path


def output_file(path: str | Path, *, create: bool = True) -> Path:
    """Check that the file ``path`` can be written (not a directory; its directory exists or,
    with ``create``, is created); `InputError` otherwise."""
    path = Path(path)
    if path.is_dir():
        raise InputError("cannot write this file: it is a directory", path=path)
    output_directory(path.parent, create=create)
    return path


def new_file_mode() -> int:
    """The permissions a new file gets from ``open()`` under the current umask (``mkstemp``
    gives 0600, which would hide outputs from the rest of a team)."""
    return 0o666 & ~_umask()


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never half."""
    path = output_file(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(tmp, new_file_mode())
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | Path, obj: Any, indent: int | None = 2) -> None:
    atomic_write_text(path, json.dumps(obj, indent=indent, ensure_ascii=False) + "\n")


class AtomicTextWriter(io.StringIO):
    """``with AtomicTextWriter(path) as f: f.write(...)``: the file appears only on success."""

    def __init__(self, path: str | Path):
        super().__init__()
        self._path = path

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            atomic_write_text(self._path, self.getvalue())
        return super().__exit__(exc_type, exc, tb)


@contextmanager
def atomic_text_stream(path: str | Path) -> Iterator[TextIO]:
    """``with atomic_text_stream(path) as f: f.write(...)`` for files too large to build in memory:
    lines go to a temporary file beside ``path``, renamed over it only when the block ends without
    an error (a killed process leaves the old file, or none, never half a file).  A ``.gz`` path
    is gzip-compressed with no name and mtime 0 in its header, so equal text gives equal bytes."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(tmp, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as raw:
            binary = gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) if path.suffix == ".gz" else raw
            text = io.TextIOWrapper(binary, encoding="utf-8", newline="\n")
            yield text
            text.flush()
            text.detach()  # closing the wrapper would close the file before fsync
            if binary is not raw:
                binary.close()  # writes the gzip trailer; the file stays open
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
