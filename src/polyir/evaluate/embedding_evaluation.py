"""`evaluate_embeddings`: a retrieval set and its embeddings -> `EvaluationResult`."""
from __future__ import annotations

from collections import Counter
from typing import Iterable

from ..errors import ConfigError, InputError
from .search.topk_search import BACKENDS
from ..types import RetrievalSet
from .bias import language_bias
from .measures import DEFAULT_MEASURES, Measure, parse_measures
from .result import EvaluationResult
from .scoring import build_layout, score_pass
from .settings import pool_values, split_settings

DEFAULT_MEMORY_MB = 1024


def evaluate_embeddings(rset: RetrievalSet, query_emb, cand_emb, *,
                        measures: Iterable[str | Measure] | str = DEFAULT_MEASURES,
                        depth: int | None = None, bias_k: int = 10, backend: str = "torch",
                        run_depth: int | None = None, memory_mb: float = DEFAULT_MEMORY_MB) -> EvaluationResult:
    """Evaluate every setting of ``rset`` (mono X→X, cross X→Y, multi X→all) from one scoring pass.

    ``query_emb`` rows follow ``rset.queries``, ``cand_emb`` rows ``rset.candidates``
    (float32 numpy arrays or torch tensors; the score is the plain inner product, so
    normalise first for cosine).  ``depth``: ranks beyond it count as not retrieved (to
    match trec_eval on depth-limited runs); ``None`` = full depth.  ``bias_k``: the top-k
    of the same-language preference.  ``run_depth``: also keep the top-``run_depth`` lists
    of every pool for TREC run files (`write_trec_runs`), computed by ``backend``
    ("torch", or "faiss" for FAISS's exact flat index).  ``memory_mb`` bounds one block
    of scores (query rows x candidates x 8 bytes).
    """
    parsed = parse_measures(measures)
    if not rset.queries or not rset.candidates:
        raise InputError("no queries or no candidates to evaluate", path=rset.name)
    _check_options(depth, bias_k, backend, run_depth, memory_mb)
    layout = build_layout(rset)
    scored = score_pass(layout, query_emb, cand_emb, bias_k=bias_k, run_depth=run_depth,
                        backend=backend, memory_mb=memory_mb)
    settings, per_query = split_settings(layout, pool_values(layout, scored.counts, parsed, depth), parsed)
    query_counts = Counter(q.lang for q in rset.queries)
    cand_counts = Counter(c.lang for c in rset.candidates)
    return EvaluationResult(
        dataset=rset.name,
        measures=parsed,
        depth=depth,
        query_languages=layout.query_langs,
        candidate_languages=layout.cand_langs,
        n_queries={lang: query_counts[lang] for lang in layout.query_langs},
        n_candidates={lang: cand_counts[lang] for lang in layout.cand_langs},
        n_queries_without_relevant=int((layout.n_rel == 0).sum()),
        settings=settings,
        per_query=per_query,
        bias=language_bias(layout, scored),
        runs=scored.runs,
    )


def _check_options(depth, bias_k, backend, run_depth, memory_mb) -> None:
    if depth is not None and depth < 1:
        raise ConfigError(f"depth must be >= 1 (or None for full depth), got {depth}")
    if bias_k < 1:
        raise ConfigError(f"bias_k must be >= 1, got {bias_k}")
    if backend not in BACKENDS:
        raise ConfigError(f"backend must be one of {BACKENDS}, got {backend!r}")
    if run_depth is not None and run_depth < 1:
        raise ConfigError(f"run_depth must be >= 1, got {run_depth}")
    if memory_mb <= 0:
        raise ConfigError(f"memory_mb must be positive, got {memory_mb}")
