"""Monolingual BEIR evaluation with the corpus streamed from disk (corpora of millions of passages).

`polyir.evaluate.eval_pipeline.evaluate_model` keeps every candidate text in memory; MIRACL's English
corpus (32M passages) does not allow that.  Here:

1. `encode_corpus` reads ``corpus.jsonl`` in chunks (`polyir.data.evalsets.beir_reader.iter_corpus_chunks`),
   encodes each chunk and writes its embeddings into one preallocated float32 matrix.  Only
   the ids are kept, as a fixed-width UTF-8 byte array (no Python object per passage).
   Memory beyond the model: the matrix, the ids and one chunk of texts.
2. `search_corpus` finds every query's exact top ``k``, one chunk of candidates at a time
   (`polyir.evaluate.search.topk_search.search`, torch or FAISS: FAISS copies only the chunk into its index), and
   merges each chunk's lists into the running top ``k`` in trec_eval order (score, then id
   descending): the result equals one search over the whole matrix (BLAS may round a score
   differently for a product of another shape, which can only swap candidates whose scores
   are within that last bit of each other).
3. `run_metrics` computes the measures at depth ``k`` from those lists, as BEIR evaluates its
   top-k runs: a relevant passage outside the top ``k`` counts as not retrieved.

Measured in docs/benchmarks.md ("Corpus scale", `benchmarks/corpus_scale.py`).
"""
from __future__ import annotations

import functools
import gzip
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from ..data.evalsets.beir_reader import _jsonl, iter_corpus_chunks, read_beir_queries
from ..encode import EncodeStats, encode
from ..errors import InputError
from ..io import atomic_write_bytes, atomic_write_json, atomic_write_text, open_text, output_directory
from ..languages import normalise_language
from ..model_loading import resolve_prompts
from ..progress import progress as progress_bar
from .search.topk_search import search
from .measures import parse_measures
from .metrics import measure_values

DEFAULT_CHUNK = 16384  # passages read and encoded at a time
SEARCH_CHUNK = 65536  # candidates scored at a time


@dataclass(frozen=True, eq=False)
class EncodedCorpus:
    ids: np.ndarray  # UTF-8 bytes (numpy "S" dtype), one per passage, in file order
    embeddings: np.ndarray  # float32 (passages, dim)

    @functools.cached_property
    def sorted_order(self) -> np.ndarray:
        """Rows in byte-wise id order (code-point order, as trec_eval's ``strcmp``)."""
        return np.argsort(self.ids, kind="stable")

    def tie_keys(self) -> np.ndarray:
        """Position of each passage in the sorted ids (a larger key wins a tie, as in trec_eval)."""
        keys = np.empty(len(self.ids), dtype=np.int64)
        keys[self.sorted_order] = np.arange(len(self.ids), dtype=np.int64)
        return keys

    def positions(self, doc_ids: Sequence[str]) -> np.ndarray:
        """Row of each id, -1 for an id not in the corpus (binary search in the sorted ids)."""
        sorted_ids = self.ids[self.sorted_order]
        wanted = np.asarray([d.encode("utf-8") for d in doc_ids], dtype=bytes) if doc_ids else np.empty(0, "S1")
        at = np.minimum(np.searchsorted(sorted_ids, wanted), len(sorted_ids) - 1)
        return np.where(sorted_ids[at] == wanted, self.sorted_order[at], -1)


def count_passages(data_dir: str | Path) -> int:
    """Non-blank lines of ``corpus.jsonl(.gz)`` (one streaming pass, to size the matrix)."""
    with open_text(_jsonl(Path(data_dir), "corpus")) as f:
        return sum(1 for line in f if line.strip())


def encode_corpus(model, data_dir: str | Path, lang: str | None = None, *, batch_size: int = 32,
                  precision: str = "fp32", prompts=None, cache=None, chunk: int = DEFAULT_CHUNK,
                  stats: EncodeStats | None = None, progress: bool = True) -> EncodedCorpus:
    """Embed every passage of a BEIR corpus, ``chunk`` passages at a time (see the module doc)."""
    total = count_passages(data_dir)
    embeddings: np.ndarray | None = None
    id_chunks: list[np.ndarray] = []
    done = 0
    with progress_bar(total=total, desc="encode corpus", unit="passage", disable=None if progress else True) as bar:
        for ids, _, texts in iter_corpus_chunks(data_dir, lang, chunk=chunk):
            vectors = encode(model, texts, kind="passage", prompts=prompts, batch_size=batch_size, cache=cache,
                             stats=stats, progress=False, precision=precision)
            if embeddings is None:
                embeddings = np.empty((total, vectors.shape[1]), dtype=np.float32)
            embeddings[done:done + len(ids)] = vectors
            id_chunks.append(np.asarray([i.encode("utf-8") for i in ids]))
            done += len(ids)
            bar.update(len(ids))
    if embeddings is None:
        raise InputError("corpus has no passages", path=data_dir)
    corpus = EncodedCorpus(np.concatenate(id_chunks), embeddings)
    _check_unique(corpus, data_dir)
    return corpus


def _check_unique(corpus: EncodedCorpus, data_dir) -> None:
    ordered = corpus.ids[corpus.sorted_order]
    same = np.flatnonzero(ordered[1:] == ordered[:-1])
    if len(same):
        raise InputError(f"duplicate _id {ordered[same[0]].decode('utf-8')!r} ({len(same)} duplicates)",
                         path=Path(data_dir) / "corpus.jsonl")


def search_corpus(query_emb: np.ndarray, corpus: EncodedCorpus, k: int, *, backend: str = "torch",
                  chunk: int = SEARCH_CHUNK, memory_mb: float = 64) -> tuple[np.ndarray, np.ndarray]:
    """Exact top-``k`` of every query over the corpus, in trec_eval order: ``(scores, rows)``.

    Candidates are scored ``chunk`` at a time (score blocks within ``memory_mb``) and merged;
    FAISS copies one chunk at a time into its flat index, never the whole matrix."""
    keys = corpus.tie_keys()
    n_queries, n = len(query_emb), len(corpus.ids)
    k = min(k, n)
    scores = np.full((n_queries, k), -np.inf, dtype=np.float32)
    rows = np.full((n_queries, k), -1, dtype=np.int64)
    for lo in range(0, n, chunk):
        hi = min(lo + chunk, n)
        # the ids break ties inside a chunk; byte order is the order of `tie_keys` across chunks
        part_scores, part_rows = search(query_emb, corpus.embeddings[lo:hi], k, candidate_ids=corpus.ids[lo:hi],
                                        backend=backend, memory_mb=memory_mb)
        scores, rows = _merge(scores, rows, part_scores, part_rows + lo, keys, k)
    return scores, rows


MERGE_ROWS = 128  # queries merged at a time: the temporaries stay small whatever the query count


def _merge(scores, rows, new_scores, new_rows, keys, k):
    """The best ``k`` of two trec-ordered lists per query (score desc, then tie key desc), in place."""
    new_scores = np.asarray(new_scores, dtype=np.float32)
    for lo in range(0, len(scores), MERGE_ROWS):
        part = slice(lo, lo + MERGE_ROWS)
        all_scores = np.concatenate([scores[part], new_scores[part]], axis=1)
        all_rows = np.concatenate([rows[part], np.asarray(new_rows[part], dtype=np.int64)], axis=1)
        all_keys = np.where(all_rows >= 0, keys[np.maximum(all_rows, 0)], -1)
        order = np.lexsort((-all_keys, -all_scores), axis=1)[:, :k]
        scores[part], rows[part] = np.take_along_axis(all_scores, order, axis=1), np.take_along_axis(all_rows, order,
                                                                                                   axis=1)
    return scores, rows


def run_metrics(rows: np.ndarray, query_ids: Sequence[str], qrels: Mapping[str, Mapping[str, int]],
                corpus: EncodedCorpus, measures: Sequence[str]) -> dict[str, np.ndarray]:
    """Per-query values of ``measures`` at depth ``rows.shape[1]`` from top-k ``rows``."""
    relevant = [[(d, g) for d, g in qrels.get(q, {}).items() if g > 0] for q in query_ids]
    width = max((len(r) for r in relevant), default=0)
    flat = [d for r in relevant for d, _ in r]
    where = corpus.positions(flat)
    if (where < 0).any():
        raise InputError(f"judged document {flat[int(np.flatnonzero(where < 0)[0])]!r} is not in the corpus")
    rel_rows = np.full((len(relevant), width), -2, dtype=np.int64)  # -2 never matches a row (-1 pads lists)
    gains = np.zeros((len(relevant), width), dtype=np.float64)
    at = 0
    for q, items in enumerate(relevant):
        rel_rows[q, :len(items)] = where[at:at + len(items)]
        gains[q, :len(items)] = [g for _, g in items]
        at += len(items)
    hits = rows[:, :, None] == rel_rows[:, None, :]  # [query, rank, relevant item]
    ranks = np.where(hits.any(axis=1), hits.argmax(axis=1) + 1.0, np.inf)
    ranks[rel_rows == -2] = np.nan
    return measure_values(ranks, gains, parse_measures(measures), depth=rows.shape[1])


STREAMED_SCHEMA = "polyir.streamed-metrics/1"


@dataclass(frozen=True, eq=False)
class StreamedEvaluation:
    """One BEIR collection evaluated at depth ``depth`` from its exact top-k lists."""

    dataset: str
    depth: int
    query_ids: list[str]
    doc_ids: np.ndarray  # UTF-8 bytes per corpus row
    scores: np.ndarray  # [query, rank] float32
    rows: np.ndarray  # [query, rank] corpus rows
    values: dict[str, np.ndarray]  # measure -> per-query values
    info: dict

    def summary(self) -> dict[str, float]:
        return {m: float(np.nanmean(v)) if np.isfinite(v).any() else float("nan") for m, v in self.values.items()}

    def to_dict(self) -> dict:
        return {"schema": STREAMED_SCHEMA, "dataset": self.dataset, "depth": self.depth,
                "measures": list(self.values), "counts": {"queries": len(self.query_ids),
                                                           "passages": int(len(self.doc_ids))},
                "summary": self.summary(), "run": self.info}


def evaluate_streamed(model, data_dir: str | Path, lang: str | None, *, options, split: str = "test", cache=None,
                      chunk: int = DEFAULT_CHUNK, progress: bool = True) -> StreamedEvaluation:
    """Queries, the streamed corpus, exact top-``options.run_depth`` (default 100), metrics.

    ``options`` is an `EvalOptions` (prompts, batch size, precision, measures, backend, memory)."""
    started = time.perf_counter()
    judged = read_beir_queries(data_dir, normalise_language(lang, record="language option") if lang else None,
                               split=split)
    prompts = resolve_prompts(options.prompt_spec(), getattr(model, "module", model))
    stats = EncodeStats()
    common = {"prompts": prompts, "batch_size": options.batch_size, "cache": cache, "stats": stats,
              "precision": options.precision}
    queries = encode(model, [q.text for q in judged.queries], kind="query", progress=progress, **common)
    corpus = encode_corpus(model, data_dir, lang, chunk=chunk, progress=progress, **common)
    encoded = time.perf_counter()
    depth = options.run_depth or 100
    scores, rows = search_corpus(queries, corpus, depth, backend=options.backend, memory_mb=options.memory_mb)
    query_ids = [q.id for q in judged.queries]
    values = run_metrics(rows, query_ids, judged.qrels, corpus, options.measures)
    info = {"model": str(getattr(model, "source", "in-memory")), "precision": options.precision,
            "batch_size": options.batch_size, "backend": options.backend, "split": split, **judged.meta,
            "encoding": {"texts": stats.texts, "cache_hits": stats.cache_hits, "encoded_texts": stats.encoded_texts,
                         "forward_batches": stats.forward_batches},
            "seconds": {"encode": round(encoded - started, 3), "search": round(time.perf_counter() - encoded, 3)}}
    return StreamedEvaluation(Path(data_dir).name, rows.shape[1], query_ids, corpus.ids, scores, rows, values, info)


def write_streamed(evaluation: StreamedEvaluation, out_dir: str | Path, *, save_run: bool = False,
                   tag: str = "polyir") -> list[Path]:
    """``metrics.json``, ``per_query.tsv.gz`` and, with ``save_run``, the TREC run ``run.trec``."""
    out = output_directory(out_dir)
    atomic_write_json(out / "metrics.json", evaluation.to_dict())
    names = list(evaluation.values)
    lines = ["query_id\t" + "\t".join(names)] + [
        "\t".join([q, *(f"{evaluation.values[m][i]:.6g}" for m in names)]) for i, q in enumerate(evaluation.query_ids)]
    atomic_write_bytes(out / "per_query.tsv.gz", gzip.compress(("\n".join(lines) + "\n").encode("utf-8"), mtime=0))
    written = [out / "metrics.json", out / "per_query.tsv.gz"]
    if save_run:
        run = [f"{q} Q0 {evaluation.doc_ids[r].decode('utf-8')} {rank} {s:.9g} {tag}"
               for i, q in enumerate(evaluation.query_ids)
               for rank, (r, s) in enumerate(zip(evaluation.rows[i].tolist(), evaluation.scores[i].tolist()), 1)
               if r >= 0]
        atomic_write_text(out / "run.trec", "\n".join(run) + "\n")
        written.append(out / "run.trec")
    return written
