"""TREC run and qrels files, one per setting, that reproduce polyir's numbers with trec_eval.

``runs/{X}-{Y}.trec``: queries in X, the top ``run_depth`` candidates of language Y;
``runs/{X}-multi.trec``: the same from the multilingual pool.  ``qrels/{Y}.qrels`` holds the
relevant (grade > 0) judgements of Y's candidates, ``qrels/multi.qrels`` all of them, so

    trec_eval -m all_trec qrels/Y.qrels runs/X-Y.trec

gives polyir's values for the setting X→Y evaluated with ``depth=run_depth``.  Scores are
written with 9 significant digits, which round-trips float32 exactly, so trec_eval sees the
same ties and breaks them the same way (candidate id descending).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import ConfigError
from ..io import atomic_write_text
from ..types import RetrievalSet
from .result import EvaluationResult
from .scoring import MULTI, RunLists


def write_trec_runs(result: EvaluationResult, out_dir: str | Path, *, tag: str = "polyir") -> list[Path]:
    """Write ``out_dir/runs/{X}-{pool}.trec`` for every query language X and pool."""
    runs = result.runs
    if runs is None:
        raise ConfigError("no run lists were kept: evaluate with run_depth=K to write TREC run files")
    _check_ids(runs.cand_ids, "candidate")
    _check_ids(runs.query_ids, "query")
    if not tag or any(ch.isspace() for ch in tag):
        raise ConfigError(f"run tag must be one word, got {tag!r}")
    written = []
    for qlang in result.query_languages:
        rows = np.flatnonzero(runs.query_langs == qlang)
        for pool in runs.indices:
            path = Path(out_dir) / "runs" / f"{qlang}-{pool}.trec"
            atomic_write_text(path, _run_text(runs, pool, rows, tag))
            written.append(path)
    return written


def _run_text(runs: RunLists, pool: str, rows: np.ndarray, tag: str) -> str:
    indices, scores = runs.indices[pool], runs.scores[pool]
    lines = []
    for q in rows:
        qid = runs.query_ids[q]
        docs = runs.cand_ids[indices[q]]
        lines.extend(f"{qid} Q0 {doc} {rank} {score:.9g} {tag}"
                     for rank, (doc, score) in enumerate(zip(docs, scores[q].tolist()), 1))
    return "\n".join(lines) + "\n" if lines else ""


def write_trec_qrels(rset: RetrievalSet, out_dir: str | Path) -> list[Path]:
    """Write ``out_dir/qrels/{Y}.qrels`` per candidate language and ``qrels/multi.qrels``."""
    lang_of = {c.id: c.lang for c in rset.candidates}
    _check_ids(np.asarray(list(lang_of), dtype=object), "candidate")
    _check_ids(np.asarray(list(rset.qrels), dtype=object), "query")
    per_pool: dict[str, list[str]] = {lang: [] for lang in rset.candidate_languages}
    per_pool[MULTI] = []
    for qid in sorted(rset.qrels):
        for cid, grade in sorted(rset.qrels[qid].items()):
            if grade > 0:
                line = f"{qid} 0 {cid} {int(grade)}"
                per_pool[lang_of[cid]].append(line)
                per_pool[MULTI].append(line)
    if len(rset.candidate_languages) < 2:
        del per_pool[MULTI]
    written = []
    for pool, lines in per_pool.items():
        path = Path(out_dir) / "qrels" / f"{pool}.qrels"
        atomic_write_text(path, "\n".join(lines) + "\n" if lines else "")
        written.append(path)
    return written


def write_trec(result: EvaluationResult, rset: RetrievalSet, out_dir: str | Path, *, tag: str = "polyir"
               ) -> list[Path]:
    """Run files and the matching qrels files."""
    return write_trec_runs(result, out_dir, tag=tag) + write_trec_qrels(rset, out_dir)


def _check_ids(ids: np.ndarray, what: str) -> None:
    for value in ids:
        if not value or any(ch.isspace() for ch in value):
            raise ConfigError(f"{what} id {value!r} contains whitespace: it cannot be written to a TREC file")
