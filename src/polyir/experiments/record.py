"""`RunRecord`: everything a finished run contributes to the results database.

Written into the run directory as ``record.json`` (metadata, train summary, one row per
setting × measure, bias rows) and ``per_query.npz`` (per-question matrices for the paired
tests).  ``record.json`` is written last and atomically: its presence means the run
finished (training and every evaluation), and the database is filled from these two files
only, so ingestion can be repeated, or done on another machine (`polyir sweep --collect`).
"""
from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError, InputError
from ..io import atomic_write_bytes, atomic_write_json, read_json
from .grid import RunSpec

RECORD_SCHEMA = "polyir.run-record/1"
RECORD_FILE = "record.json"
MATRIX_FILE = "per_query.npz"
BIAS_MEASURES = ("rank_distance", "same_language_share", "same_language_ratio", "strong_alignment")
# per-query bias measure -> `LanguageBias` attribute
BIAS_PER_QUERY = {"rank_distance": "rank_distance", "same_language_share": "same_language_share",
                  "strong_alignment": "strongly_aligned"}
MACRO = "*"  # query_lang of a bias row averaged over query languages


@dataclass(frozen=True, eq=False)
class Matrix:
    """``values[setting, question]`` (NaN where a question has no query in the setting)."""

    eval_set: str
    kind: str  # mono | cross | multi | bias
    measure: str
    settings: tuple[str, ...]
    questions: tuple[str, ...]
    values: np.ndarray


@dataclass(frozen=True, eq=False)
class RunRecord:
    spec: RunSpec
    train_summary: dict | None
    timings: dict[str, Any]
    metrics: list[dict] = field(default_factory=list)  # eval_set, kind, query_lang, pool, measure, value, n_queries
    bias: list[dict] = field(default_factory=list)  # eval_set, query_lang, measure, value, n_queries
    matrices: list[Matrix] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)  # host, polyir version, evaluation details

    def summary(self, eval_set: str, measure: str = "AP") -> dict[str, float]:
        """Macro averages of one evaluation set: ``{mono, cross, multi, rank_distance}``."""
        out: dict[str, float] = {}
        for kind in ("mono", "cross", "multi"):
            values = [r["value"] for r in self.metrics
                      if r["eval_set"] == eval_set and r["kind"] == kind and r["measure"] == measure]
            if values:
                out[kind] = float(np.mean(values))
        distance = [r["value"] for r in self.bias if r["eval_set"] == eval_set and r["query_lang"] == MACRO
                    and r["measure"] == "rank_distance" and r["value"] is not None]
        if distance:
            out["rank_distance"] = distance[0]
        return out


def evaluation_rows(eval_set: str, result) -> tuple[list[dict], list[dict], list[Matrix]]:
    """Rows and per-question matrices of one `EvaluationResult`."""
    metrics = [{"eval_set": eval_set, "kind": s.kind, "query_lang": s.query_lang, "pool": s.pool, "measure": m,
                "value": float(s.means[m]), "n_queries": int(s.n_queries)}
               for s in result.settings.values() for m in result.measure_names]
    matrices = []
    kinds = dict.fromkeys(s.kind for s in result.settings.values())
    for kind in kinds:
        for measure in result.measure_names:
            names, questions, values = result.question_matrix(measure, kind)
            matrices.append(Matrix(eval_set, kind, measure, tuple(names), tuple(questions), values.astype(np.float32)))
    bias: list[dict] = []
    if result.bias is not None:
        bias = _bias_rows(eval_set, result.bias)
        matrices += _bias_matrices(eval_set, result)
    return metrics, bias, matrices


def _bias_rows(eval_set: str, bias) -> list[dict]:
    rows = []
    per_language = bias.per_language()
    for lang, values in per_language.items():
        rows += [{"eval_set": eval_set, "query_lang": lang, "measure": m, "value": values[m],
                  "n_queries": values["rank_distance_queries"] if m == "rank_distance" else values["n_queries"]}
                 for m in BIAS_MEASURES]
    macro = bias.macro()
    rows += [{"eval_set": eval_set, "query_lang": MACRO, "measure": m, "value": macro[m],
              "n_queries": sum(v["n_queries"] for v in per_language.values())} for m in BIAS_MEASURES]
    return rows


def _bias_matrices(eval_set: str, result) -> list[Matrix]:
    """Per-query bias values as (query language × question) matrices, so that the paired tests
    apply to them unchanged (the macro statistic is then the bias table's macro value)."""
    bias, pq = result.bias, result.per_query
    id_of = dict(zip(pq.query_index.tolist(), pq.query_id.tolist()))
    qids = np.asarray([id_of[int(i)] for i in bias.query_index], dtype=object)
    questions, col = np.unique(qids.astype(str), return_inverse=True)
    languages = list(bias.languages)
    row = np.asarray([languages.index(lang) for lang in bias.query_lang], dtype=np.int64)
    out = []
    for measure, attribute in BIAS_PER_QUERY.items():
        values = np.full((len(languages), len(questions)), np.nan, dtype=np.float32)
        values[row, col] = getattr(bias, attribute)
        out.append(Matrix(eval_set, "bias", measure, tuple(languages), tuple(questions.tolist()), values))
    return out


def write_record(run_dir: str | Path, record: RunRecord) -> Path:
    """``per_query.npz`` then ``record.json`` (the completion marker), both atomically."""
    run_dir = Path(run_dir)
    arrays, index = {}, []
    for i, m in enumerate(record.matrices):
        arrays[f"m{i}"] = np.asarray(m.values, dtype=np.float32)
        arrays[f"m{i}_settings"] = np.asarray(m.settings, dtype=str)
        arrays[f"m{i}_questions"] = np.asarray(m.questions, dtype=str)
        index.append({"key": f"m{i}", "eval_set": m.eval_set, "kind": m.kind, "measure": m.measure})
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    atomic_write_bytes(run_dir / MATRIX_FILE, buffer.getvalue())
    doc = {"schema": RECORD_SCHEMA, "spec": record.spec.to_dict(), "train_summary": record.train_summary,
           "timings": record.timings, "info": record.info, "metrics": record.metrics, "bias": record.bias,
           "matrices": index}
    atomic_write_json(run_dir / RECORD_FILE, _json_safe(doc))
    return run_dir / RECORD_FILE


def read_record(run_dir: str | Path) -> RunRecord:
    run_dir = Path(run_dir)
    doc = read_json(run_dir / RECORD_FILE)
    if not isinstance(doc, dict) or doc.get("schema") != RECORD_SCHEMA:
        found = doc.get("schema") if isinstance(doc, dict) else type(doc).__name__
        raise InputError(f"not a run record (schema {found!r}, expected {RECORD_SCHEMA})",
                         path=run_dir / RECORD_FILE)
    try:
        with np.load(run_dir / MATRIX_FILE, allow_pickle=False) as npz:
            matrices = [Matrix(e["eval_set"], e["kind"], e["measure"], tuple(npz[f"{e['key']}_settings"].tolist()),
                               tuple(npz[f"{e['key']}_questions"].tolist()), npz[e["key"]]) for e in doc["matrices"]]
    except (OSError, KeyError, ValueError, TypeError, EOFError, zipfile.BadZipFile) as err:
        raise InputError(f"cannot read per-query matrices: {err}", path=run_dir / MATRIX_FILE) from None
    try:
        return RunRecord(RunSpec.from_dict(doc["spec"]), doc["train_summary"], doc["timings"], doc["metrics"],
                         doc["bias"], matrices, doc.get("info", {}))
    except ConfigError as err:
        raise InputError(str(err), path=run_dir / RECORD_FILE) from None
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        raise InputError(f"not a run record: {type(err).__name__}: {err}", path=run_dir / RECORD_FILE) from None


def has_record(run_dir: str | Path) -> bool:
    """Whether the run finished (its record is written); a record that is a directory or a broken
    link is an error, not a run to repeat."""
    path = Path(run_dir) / RECORD_FILE
    if path.is_file():
        return True
    if path.exists() or path.is_symlink():
        raise InputError("not a run record: " + ("a directory" if path.is_dir() else "a broken link"), path=path)
    return False


def _json_safe(obj):
    if isinstance(obj, dict):
        return {str(k): _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_safe(v) for v in obj]
    if isinstance(obj, (np.floating, float)):
        value = float(obj)
        return value if np.isfinite(value) else None
    if isinstance(obj, np.integer):
        return int(obj)
    return obj


def dumps(obj: Any) -> str:
    """Compact JSON of plain data (for the database's JSON columns)."""
    return json.dumps(_json_safe(obj), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
