"""Deterministic train / held-out splits.

* `split_squad_directory`: an XQuAD-R / MLQA-R style directory (one SQuAD-format file per
  language, articles parallel across files) split **by article**: every language is split
  on the same articles, both parts are written in the input format (one file per language),
  so a model can be trained on some articles and evaluated on the others with no shared
  paragraph.  The held-out articles are the first ``round(fraction * n)`` of a
  ``random.Random(seed)`` shuffle of the article indices (at least one, at most n - 1).
* `split_pairs`: a pair collection split **by group** (all languages of a group on one side)
  by hashing ``(seed, dataset, group)``: stable when data are added, streaming.
"""
from __future__ import annotations

import gzip
import hashlib
import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

from ...errors import ConfigError, InputError
from ...io import atomic_write_bytes, output_directory, read_json
from ...types import Pair
from .pair_files import iter_pairs, write_pairs


@dataclass(frozen=True)
class ArticleSplit:
    train_articles: tuple[int, ...]
    heldout_articles: tuple[int, ...]
    titles: tuple[str, ...]  # of the first file, by article index
    files: tuple[str, ...]

    def to_dict(self) -> dict:
        return {"train_articles": list(self.train_articles), "heldout_articles": list(self.heldout_articles),
                "heldout_titles": [self.titles[i] for i in self.heldout_articles], "files": list(self.files)}


def _question_ids(article: dict) -> frozenset[str]:
    return frozenset(str(qa.get("id")) for p in article.get("paragraphs") or [] for qa in p.get("qas") or [])


def _load_parallel_files(directory: Path) -> dict[Path, dict]:
    files = sorted(p for p in directory.iterdir() if p.name.endswith((".json", ".json.gz")))
    if not files:
        raise InputError("no .json files to split", path=directory)
    docs = {path: read_json(path) for path in files}
    first_path, first = files[0], docs[files[0]]
    for path, doc in docs.items():
        if not isinstance(doc, dict) or not isinstance(doc.get("data"), list):
            raise InputError("not SQuAD format (no 'data' list)", path=path)
        if len(doc["data"]) != len(first["data"]):
            raise InputError(f"{len(doc['data'])} articles, but {first_path.name} has {len(first['data'])}", path=path)
        for i, (article, reference) in enumerate(zip(doc["data"], first["data"])):
            if _question_ids(article) != _question_ids(reference):
                raise InputError(f"article questions differ from {first_path.name} (files are not parallel)",
                                 path=path, record=f"data[{i}]")
    return docs


def heldout_indices(n: int, fraction: float, seed: int) -> tuple[int, ...]:
    if not 0.0 < fraction < 1.0:
        raise ConfigError(f"held-out fraction must be between 0 and 1 (exclusive), got {fraction}")
    if n < 2:
        raise ConfigError("need at least two articles to split")
    k = min(n - 1, max(1, round(fraction * n)))
    order = list(range(n))
    random.Random(seed).shuffle(order)
    return tuple(sorted(order[:k]))


def _write_json(path: Path, doc: dict) -> None:
    data = (json.dumps(doc, ensure_ascii=False) + "\n").encode("utf-8")
    atomic_write_bytes(path, gzip.compress(data, mtime=0) if path.name.endswith(".gz") else data)


def split_squad_directory(source: str | Path, train_dir: str | Path, heldout_dir: str | Path, *,
                          heldout_fraction: float, seed: int = 0) -> ArticleSplit:
    """Split every file of ``source`` on the same articles; write both parts, same file names."""
    source = Path(source)
    if not source.is_dir():
        raise InputError("expected a directory of per-language SQuAD-format files", path=source)
    for out_dir in (train_dir, heldout_dir):
        output_directory(out_dir, create=False)  # both, before either is written
    docs = _load_parallel_files(source)
    first = next(iter(docs.values()))["data"]
    heldout = heldout_indices(len(first), heldout_fraction, seed)
    train = tuple(sorted(set(range(len(first))) - set(heldout)))
    for path, doc in docs.items():
        for out_dir, keep in ((Path(train_dir), train), (Path(heldout_dir), heldout)):
            part = {**doc, "data": [doc["data"][i] for i in keep]}
            _write_json(out_dir / path.name, part)
    titles = tuple(str(a.get("title", "")) for a in first)
    return ArticleSplit(train, heldout, titles, tuple(p.name for p in docs))


def in_heldout(dataset: str, group: str, fraction: float, seed: int) -> bool:
    """Hash ``(seed, dataset, group)`` to [0, 1): held out when below ``fraction``."""
    digest = hashlib.blake2b(f"{seed}\0{dataset}\0{group}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64 < fraction


def split_pairs(pairs: Iterable[Pair], heldout_fraction: float, seed: int = 0) -> Iterator[tuple[bool, Pair]]:
    """``(is_heldout, pair)`` for each pair; all pairs of a group fall on the same side."""
    if not 0.0 < heldout_fraction < 1.0:
        raise ConfigError(f"held-out fraction must be between 0 and 1 (exclusive), got {heldout_fraction}")
    for pair in pairs:
        yield in_heldout(pair.dataset, pair.group, heldout_fraction, seed), pair


def split_pair_file(source: str | Path, train_out: str | Path, heldout_out: str | Path, *,
                    heldout_fraction: float, seed: int = 0) -> tuple[int, int]:
    """Write the two parts of a pair file (two streaming passes); returns (train, held-out) counts."""
    def part(heldout: bool) -> Iterator[Pair]:
        return (p for h, p in split_pairs(iter_pairs(source), heldout_fraction, seed) if h == heldout)

    return write_pairs(part(False), train_out), write_pairs(part(True), heldout_out)
