"""Evaluation from embeddings: all mono/cross/multilingual settings from one scoring pass.

`evaluate_embeddings` is the entry point; see docs/evaluation.md (workflow, file formats,
the ``metrics.json`` schema) and docs/metrics.md (definitions).  Names are resolved lazily
so that ``import polyir.evaluate.significance`` (or the command line) does not load torch or numba.
"""
from __future__ import annotations

from ..lazy import lazy_exports

_EXPORTS = {
    "evaluate_embeddings": "embedding_evaluation",
    "EvaluationResult": "result",
    "write_per_query": "result",
    "read_per_query": "result",
    "Measure": "measures",
    "parse_measure": "measures",
    "parse_measures": "measures",
    "DEFAULT_MEASURES": "measures",
    "write_trec_runs": "runs",
    "write_trec_qrels": "runs",
    "write_report": "eval_report",
    "summary_table": "eval_report",
    "load_eval_set": "eval_pipeline",
    "evaluate_model": "eval_pipeline",
    "write_outputs": "eval_pipeline",
    "evaluate_streamed": "streamed",
    "write_streamed": "streamed",
    "translation_gap": "translation_cost",
    "EvalData": "eval_options",
    "EvalOptions": "eval_options",
}

__all__ = sorted(_EXPORTS)


__getattr__ = lazy_exports(__name__, _EXPORTS)
