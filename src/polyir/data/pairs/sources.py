"""Opening input files for importers: streaming, transparently gunzipped, with a byte progress bar,
and ``LANG=PATH`` source arguments.

Progress counts bytes of the file on disk (compressed bytes for ``.gz``), so the bar has a
true total even when the number of records is unknown until the end.
"""
from __future__ import annotations

import ast
import contextlib
import gzip
import io
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Iterator, Sequence, TextIO

from ...errors import InputError
from ...io import parse_json_line
from ...languages import is_valid_language, normalise_language
from ...progress import progress


class _CountingReader(io.RawIOBase):
    """A raw binary stream that reports how many bytes were read to a progress bar."""

    def __init__(self, raw: BinaryIO, bar):
        self._raw, self._bar = raw, bar

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = self._raw.readinto(buffer)
        if n:
            self._bar.update(n)
        return n

    def close(self) -> None:
        self._raw.close()
        super().close()


def _check_exists(path: Path) -> None:
    if not path.exists():
        raise InputError("file not found", path=path)
    if path.is_dir():
        raise InputError("expected a file, got a directory", path=path)


@contextlib.contextmanager
def open_binary(path: str | Path, desc: str | None = None) -> Iterator[BinaryIO]:
    """Open ``path`` for streaming binary reads (gunzipping ``.gz``), with a byte progress bar."""
    path = Path(path)
    _check_exists(path)
    size = os.path.getsize(path)
    with progress(total=size, desc=desc or path.name, unit="B", unit_scale=True, leave=False) as bar:
        raw = _CountingReader(open(path, "rb", buffering=0), bar)
        stream: BinaryIO = io.BufferedReader(raw, buffer_size=1 << 20)
        if path.suffix == ".gz":
            stream = gzip.GzipFile(fileobj=stream, mode="rb")
        try:
            yield stream
        except (EOFError, gzip.BadGzipFile, OSError) as err:
            raise InputError(f"cannot read file: {err}", path=path) from None
        finally:
            stream.close()
            raw.close()


@contextlib.contextmanager
def open_text(path: str | Path, desc: str | None = None) -> Iterator[TextIO]:
    """Like `open_binary`, decoded as UTF-8 (a BOM is skipped); decoding errors name the file."""
    with open_binary(path, desc) as stream:
        # lines end at "\n" only: a stray "\r" inside a sentence must not split it (bitext alignment)
        text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="\n")
        try:
            yield text
        except UnicodeDecodeError as err:
            raise InputError(f"not UTF-8 text: {err}", path=path) from None
        finally:
            text.detach()


def iter_lines(path: str | Path, desc: str | None = None) -> Iterator[tuple[int, str]]:
    """``(line_number, line)`` without the line break, streaming (``\\r\\n`` and ``\\n`` endings)."""
    with open_text(path, desc) as f:
        for lineno, line in enumerate(f, 1):
            yield lineno, line.rstrip("\r\n")


@dataclass(frozen=True)
class Source:
    """One input of an importer: a path and the language of its text (``""`` when the file says)."""

    path: Path
    lang: str = ""


def parse_source(arg: str, default_lang: str | None = None, *, infer_from_name: bool = True) -> Source:
    """``LANG=PATH`` or ``PATH``; without ``LANG=``, ``default_lang`` or a two-letter file stem
    (``xquad-r/de.json`` -> de) gives the language, else it stays ``""``.  Only two-letter
    stems are trusted: many three-letter words (``dev``, ``all``, ``ids``) are ISO 639-3 codes."""
    head, sep, tail = arg.partition("=")
    if sep and is_valid_language(head) and not Path(arg).exists():
        return Source(Path(tail), normalise_language(head, record=f"source {arg!r}"))
    path = Path(arg)
    if default_lang:
        return Source(path, normalise_language(default_lang, record="--lang"))
    stem = path.name.split(".")[0]
    if infer_from_name and len(stem) == 2 and is_valid_language(stem):
        return Source(path, normalise_language(stem))
    return Source(path, "")


def parse_sources(args: Sequence[str], default_lang: str | None = None,
                  *, require_lang: bool = True, infer_from_name: bool = True) -> list[Source]:
    sources = [parse_source(a, default_lang, infer_from_name=infer_from_name) for a in args]
    if require_lang:
        for s in sources:
            if not s.lang:
                raise InputError("cannot tell the language of this input: write LANG=PATH or pass --lang",
                                 path=s.path)
    return sources


REPARSE_LIMIT = 1 << 30  # bytes: larger files get the streaming parser's own (less precise) message


def malformed_json_message(path: str | Path, err: Exception) -> str:
    """One line for a JSON file a streaming parser (ijson) rejected.  Its own message spans
    three lines ending in "(right here) ------^" (and is a bytes repr for binary input), so
    the file is parsed again with `json` for the line and column of the problem."""
    try:
        if os.path.getsize(path) <= REPARSE_LIMIT:
            with open_binary(path) as stream:
                json.loads(stream.read().decode("utf-8-sig"))
    except UnicodeDecodeError as error:
        return f"not UTF-8 text: {error}"
    except json.JSONDecodeError as error:
        return f"malformed JSON at line {error.lineno} column {error.colno}: {error.msg}"
    except (InputError, OSError):
        pass
    text = str(err).strip()
    if text.startswith(("b'", 'b"')):
        text = ast.literal_eval(text).decode("utf-8", "replace").strip()
    return f"malformed JSON: {(text.splitlines() or ['unreadable'])[0]}"


def iter_json_lines(path: str | Path, desc: str | None = None) -> Iterator[tuple[int, dict]]:
    """``(line_number, object)`` for each non-blank JSONL line, streaming, with progress."""
    for lineno, line in iter_lines(path, desc):
        if line.strip():
            yield lineno, parse_json_line(line, path, lineno)
