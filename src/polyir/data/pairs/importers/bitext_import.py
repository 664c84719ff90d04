"""Line-aligned bitext (or n-way parallel text) -> training pairs.

Files are grouped by their name without the last suffix (``tatoeba.deu-eng.deu`` and
``tatoeba.deu-eng.eng`` form the set ``tatoeba.deu-eng``); the last suffix is the language
(ISO 639-1/3, normalised: ``deu`` -> ``de``, ``cmn`` -> ``zh``) unless given as ``LANG=PATH``.
Line ``i`` of every file of a set is one parallel group, id ``"{set}:{i}"`` (1-based).

How bitext maps onto ``(query, positive)``: a group gets one pair per language whose query
*and* positive are that language's sentence.  A cross-lingual (X-Y) batch then pairs the
query of language X with the positive of language Y — translation retrieval, the signal
bitext is for.  A monolingual (X-X) example from bitext is an identity pair (query ==
positive): trivial on its own, it still adds in-batch negatives.
"""
from __future__ import annotations

from collections import Counter
from itertools import zip_longest
from typing import Iterator, Sequence

from ....errors import InputError
from ....languages import normalise_language
from ....types import Pair
from ..sources import Source, iter_lines
from .import_common import Skipper

_END = object()


def bitext_sets(sources: Sequence[Source]) -> dict[str, list[Source]]:
    """Sources grouped into line-aligned sets by file name without its last suffix."""
    sets: dict[str, list[Source]] = {}
    for source in sources:
        stem, dot, suffix = source.path.name.rpartition(".")
        if not dot:
            raise InputError("bitext file names end in .LANG (e.g. corpus.de-en.de)", path=source.path)
        lang = source.lang or normalise_language(suffix, path=source.path, record="file name suffix")
        sets.setdefault(stem, []).append(Source(source.path, lang))
    for stem, members in sets.items():
        langs = [m.lang for m in members]
        if len(members) < 2:
            raise InputError(f"bitext set {stem!r} has only one file (its translation is missing)",
                             path=members[0].path)
        if len(set(langs)) != len(langs):
            raise InputError(f"bitext set {stem!r} has two files in the same language {langs}", path=members[0].path)
    return sets


def _aligned_lines(members: Sequence[Source]) -> Iterator[tuple[int, list[str]]]:
    streams = [iter_lines(m.path) for m in members]
    for lineno, rows in enumerate(zip_longest(*streams, fillvalue=_END), 1):
        missing = [m for m, row in zip(members, rows) if row is _END]
        if missing:
            raise InputError(f"has {lineno - 1} lines but its parallel files have more", path=missing[0].path)
        yield lineno, [line for _, line in rows]


def iter_bitext_pairs(sources: Sequence[Source], *, dataset: str = "", stats: Counter | None = None,
                      skip_invalid: bool = False) -> Iterator[Pair]:
    """Stream the pairs of line-aligned files; an empty line is an error unless ``skip_invalid``."""
    stats = stats if stats is not None else Counter()
    skipper = Skipper(skip_invalid, stats)
    for stem, members in bitext_sets(sources).items():
        for lineno, lines in _aligned_lines(members):
            with skipper.guard():
                for member, line in zip(members, lines):
                    if not line.strip():
                        raise InputError("empty line", path=member.path, record=f"line {lineno}")
                group = f"{stem}:{lineno}"
                for member, line in zip(members, lines):
                    text = line.strip()
                    yield Pair(group=group, lang=member.lang, query=text, positive=text, dataset=dataset)
