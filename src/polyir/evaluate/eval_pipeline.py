"""Model + data set -> evaluation outputs: the one function behind `polyir evaluate`, training-time
dev evaluation and the sweep.

Encoding happens once (queries and candidates of every language, through the embedding
cache); `evaluate_embeddings` then derives every mono / cross / multilingual setting.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

from ..data import load_beir, load_lareqa
from ..data.evalsets.beir_parallel import load_parallel_beir
from ..encode import EncodeStats, encode
from ..errors import ConfigError, InputError
from ..io import atomic_write_json, output_directory
from ..model_loading import resolve_prompts
from ..types import Candidate, Query, RetrievalSet, candidate_text
from .eval_options import DATASET_FORMATS, EvalData, EvalOptions
from .embedding_evaluation import evaluate_embeddings
from .eval_report import write_report
from .result import write_per_query
from .runs import write_trec

log = logging.getLogger(__name__)

def load_eval_set(data: EvalData) -> RetrievalSet:
    """Load an XQuAD-R / MLQA-R directory or a BEIR directory (one language, or one
    sub-directory per language: ids are then prefixed ``lang:`` to keep them unique; or, with
    ``translations``, the directory and its translations as one parallel collection)."""
    if data.dataset not in DATASET_FORMATS:
        raise ConfigError(f"dataset format must be one of {DATASET_FORMATS}, got {data.dataset!r}")
    root = Path(data.data_dir)
    if not root.is_dir():
        raise InputError("evaluation data directory not found", path=root)
    if data.translations and data.dataset != "beir":
        raise ConfigError("translations (--translation LANG=DIR) are BEIR directories: use --dataset beir")
    if data.dataset != "beir":
        return load_lareqa(root, data.languages, max_queries=data.max_queries, name=data.name or root.name)
    if data.translations:
        if data.languages and len(data.languages) > 1:
            raise ConfigError(f"give the original's language only (--languages X), not {list(data.languages)}")
        rset = load_parallel_beir(root, data.translations, lang=data.languages[0] if data.languages else None,
                                  split=data.split, name=data.name or root.name)
    elif any((root / n).exists() or (root / n).is_symlink() for n in ("corpus.jsonl", "corpus.jsonl.gz")):
        if data.languages and len(data.languages) > 1:
            raise ConfigError(f"{root} holds one BEIR collection: give one language, not {list(data.languages)}")
        rset = load_beir(root, data.languages[0] if data.languages else None, split=data.split,
                         name=data.name or root.name)
    else:
        langs = data.languages or beir_language_directories(root)
        if not langs:
            raise InputError("no BEIR collection (corpus.jsonl) here or in language sub-directories", path=root)
        sets = [load_beir(root / lang, lang, split=data.split, lang_from_name=True) for lang in langs]
        rset = merge_language_sets(sets, name=data.name or root.name)
    return _first_queries(rset, data.max_queries)


BEIR_NAMES = ("corpus.jsonl", "corpus.jsonl.gz", "queries.jsonl", "queries.jsonl.gz", "qrels")


def beir_language_directories(root: Path) -> tuple[str, ...]:
    """The sub-directories holding any part of a BEIR collection, so that one with a broken or
    missing part is loaded (and reported), never skipped in silence."""
    def has_part(directory: Path) -> bool:
        return any((directory / n).exists() or (directory / n).is_symlink() for n in BEIR_NAMES)

    return tuple(sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith(".") and has_part(p)))


def merge_language_sets(sets: list[RetrievalSet], *, name: str) -> RetrievalSet:
    """One multilingual pool from per-language BEIR sets; ids become ``lang:id``."""
    if len(sets) == 1:
        return sets[0]
    queries, candidates, qrels, langs = [], [], {}, []
    for s in sets:
        lang = s.languages[0]
        langs.extend(s.languages)
        queries += [Query(f"{lang}:{q.id}", q.lang, q.text) for q in s.queries]
        candidates += [Candidate(f"{lang}:{c.id}", c.lang, c.text, c.context, c.title) for c in s.candidates]
        qrels.update({f"{lang}:{qid}": {f"{lang}:{cid}": g for cid, g in rel.items()} for qid, rel in s.qrels.items()})
    return RetrievalSet(name, tuple(queries), tuple(candidates), qrels, tuple(dict.fromkeys(langs)),
                        {"merged": [s.name for s in sets]})


def _first_queries(rset: RetrievalSet, max_queries: int | None) -> RetrievalSet:
    if max_queries is None:
        return rset
    keep = list(dict.fromkeys(q.id for q in rset.queries))[:max_queries]
    keep_set = set(keep)
    return RetrievalSet(rset.name, tuple(q for q in rset.queries if q.id in keep_set), rset.candidates,
                        {q: r for q, r in rset.qrels.items() if q in keep_set}, rset.languages, rset.meta)


@dataclass(frozen=True)
class EvalRun:
    """An evaluation and how it was obtained."""

    result: object  # EvaluationResult
    info: dict  # model, options, encoding counters, timings (written into metrics.json "run")


def evaluate_model(model, rset: RetrievalSet, options: EvalOptions = EvalOptions(), *,
                   cache=None, progress: bool = True) -> EvalRun:
    """Encode ``rset`` with ``model`` (a `LoadedModel`, or an in-memory SentenceTransformer
    during training) and evaluate every setting.  ``cache``: an `EmbeddingCache` or None."""
    started = time.perf_counter()
    module = getattr(model, "module", model)
    prompts = resolve_prompts(options.prompt_spec(), module)
    fingerprint = getattr(model, "fingerprint", None)
    stats = EncodeStats()
    prepared = time.perf_counter()
    q_emb = encode(model, [q.text for q in rset.queries], kind="query", prompts=prompts,
                   batch_size=options.batch_size, cache=cache, stats=stats, progress=progress,
                   precision=options.precision)
    c_emb = encode(model, [candidate_text(c, options.candidate_text) for c in rset.candidates], kind="passage",
                   prompts=prompts, batch_size=options.batch_size, cache=cache, stats=stats, progress=progress,
                   precision=options.precision)
    encoded = time.perf_counter()
    result = evaluate_embeddings(rset, q_emb, c_emb, measures=options.measures, depth=options.depth,
                                 bias_k=options.bias_k, backend=options.backend, run_depth=options.run_depth,
                                 memory_mb=options.memory_mb)
    done = time.perf_counter()
    info = {
        "model": str(getattr(model, "source", "in-memory")),
        "fingerprint": fingerprint,
        "prompts": {"query": prompts.query, "passage": prompts.passage},
        "candidate_text": options.candidate_text,
        "max_seq_length": getattr(module, "max_seq_length", None),
        "batch_size": options.batch_size,
        "precision": options.precision,
        "encoding": {"texts": stats.texts, "unique_texts": stats.unique_texts, "cache_hits": stats.cache_hits,
                     "encoded_texts": stats.encoded_texts, "forward_batches": stats.forward_batches},
        "seconds": {"prepare": round(prepared - started, 3), "encode": round(encoded - prepared, 3),
                    "evaluate": round(done - encoded, 3)},
    }
    return EvalRun(result=result, info=info)


def write_metrics(run: EvalRun, out_dir: str | Path) -> Path:
    """``metrics.json`` (`EvaluationResult.to_dict` + the ``run`` details) in ``out_dir``."""
    out = output_directory(out_dir)
    doc = run.result.to_dict()
    doc["run"] = run.info
    atomic_write_json(out / "metrics.json", doc)
    return out / "metrics.json"


def write_outputs(run: EvalRun, rset: RetrievalSet, out_dir: str | Path, *, save_runs: bool = False,
                  title: str | None = None, appendix: str | None = None) -> list[Path]:
    """``metrics.json``, ``report.md`` (``appendix``: markdown added at its end), ``heatmap.png``
    (multilingual sets), ``per_query.tsv.gz`` and, with ``save_runs``, TREC ``runs/`` + ``qrels/``."""
    out = output_directory(out_dir)
    written = [write_metrics(run, out)]
    written += list(write_report(run.result, out, title=title, appendix=appendix))
    write_per_query(run.result, out / "per_query.tsv.gz")
    written.append(out / "per_query.tsv.gz")
    if save_runs:
        if run.result.runs is None:
            raise ConfigError("--save-runs needs a run depth (e.g. --run-depth 100)")
        written += list(write_trec(run.result, rset, out))
    return written
