"""Training data for a run: named sources -> one `ParallelCollection` -> a sampling index.

Sources are canonical pair files (`polyir.data.pairs.pair_files`) or anything the importers
read (`polyir.data.pairs.importing.iter_import`: an XQuAD-R-format directory, SQuAD files,
bitext, BEIR, ...).  The leakage guard (`polyir.data.pairs.leakage`) drops every training group
that overlaps a given evaluation set; its counts go into the run summary.
"""
from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Sequence

from ..data.pairs.collection import ParallelCollection
from ..data.pairs.importing import ImportOptions, iter_import
from ..data.evalsets.lareqa_reader import language_files
from ..data.pairs.leakage import LeakageIndex, LeakageReport, filter_leakage
from ..data.pairs.pair_files import PAIR_FILE_SUFFIXES, iter_pairs
from ..errors import ConfigError, InputError
from ..languages import normalise_language
from ..sampling import SamplingIndex, build_index
from ..types import Pair
from .train_config import DataConfig, DataSource

log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class TrainingData:
    collection: ParallelCollection
    index: SamplingIndex
    leakage: LeakageReport | None
    import_stats: dict[str, int]

    def describe(self) -> dict:
        c = self.collection
        per_dataset = Counter(p.dataset for p in c.pairs)
        per_language = Counter(p.lang for p in c.pairs)
        per_dataset_language = Counter((p.dataset, p.lang) for p in c.pairs)
        groups = Counter(dataset for dataset, _ in c.group_keys)
        return {"pairs": len(c), "groups": c.n_groups, "languages": list(c.languages),
                "datasets": list(c.datasets), "pairs_per_dataset": dict(sorted(per_dataset.items())),
                "pairs_per_language": dict(sorted(per_language.items())),
                "per_dataset": {name: {"groups": groups[name], "pairs": per_dataset[name],
                                       "pairs_per_language": {lang: per_dataset_language[name, lang]
                                                              for lang in c.languages
                                                              if per_dataset_language[name, lang]}}
                                for name in c.datasets},
                "leakage": self.leakage.to_dict() if self.leakage else None, "import_stats": self.import_stats}


def load_training_data(config: DataConfig, *, dev: str | None = None) -> TrainingData:
    """Read every source, apply the language filter and the leakage guard, build the index."""
    stats: Counter = Counter()
    pairs = [pair for source in config.sources for pair in read_source(source, stats)]
    if config.languages:
        keep = {normalise_language(lang, record="data.languages") for lang in config.languages}
        pairs = [p for p in pairs if p.lang in keep]
    report = None
    exclude = list(config.exclude) + ([dev] if dev and config.exclude_dev else [])
    if exclude:
        pairs, report = filter_leakage(pairs, leakage_index(exclude), contained=config.leakage_contained)
        log.info("%s", report.summary())
    if not pairs:
        raise InputError("no training pairs left (after the language filter and the leakage guard)",
                         path=", ".join(_describe(s) for s in config.sources))
    collection = ParallelCollection.from_pairs(pairs, source=", ".join(_describe(s) for s in config.sources))
    index = build_index(collection.group_index, collection.lang_index, collection.dataset_index,
                        languages=collection.languages, datasets=collection.datasets)
    return TrainingData(collection, index, report, dict(stats))


def leakage_index(paths: Sequence[str]) -> LeakageIndex:
    index = None
    for path in paths:
        one = LeakageIndex.from_path(path)
        index = one if index is None else index | one
    assert index is not None
    return index


def read_source(source: DataSource, stats: Counter | None = None) -> list[Pair]:
    """The validated pairs of one source, named ``source.name`` (default: see `DataSource`)."""
    stats = stats if stats is not None else Counter()
    fmt = source_format(source)
    if fmt == "pairs":
        return [pair for path in source.inputs for pair in iter_pairs(path, dataset=source.name or None)]
    inputs = list(source.inputs)
    if fmt == "squad":
        inputs = [item for path in inputs for item in _squad_inputs(path)]
    options = _import_options(source)
    return list(iter_import(fmt, inputs, options, stats))


def source_format(source: DataSource) -> str:
    if source.format != "auto":
        return source.format
    first = Path(source.inputs[0].split("=", 1)[-1] if "=" in source.inputs[0] and not Path(source.inputs[0]).exists()
                 else source.inputs[0])
    if first.is_dir():
        if (first / "corpus.jsonl").exists() or (first / "corpus.jsonl.gz").exists():
            return "beir"
        return "squad"
    if first.name.endswith(PAIR_FILE_SUFFIXES):
        return "pairs"
    if first.name.endswith((".json", ".json.gz")):
        return "squad"
    if not first.exists():
        raise InputError("training data not found", path=first)
    raise ConfigError(f"{first}: cannot tell the format of this training source; set its 'format' "
                      "(pairs, squad, bitext, beir, mmarco, triples, table)")


def _squad_inputs(path: str) -> list[str]:
    """A directory of ``<lang>.json`` files (XQuAD-R layout) becomes ``LANG=FILE`` inputs."""
    if "=" in path and not Path(path).exists():
        return [path]
    if Path(path).is_dir():
        return [f"{lang}={file}" for lang, file in language_files(path).items()]
    return [path]


def _import_options(source: DataSource) -> ImportOptions:
    known = {f.name for f in fields(ImportOptions)} - {"dataset"}
    unknown = sorted(set(source.options) - known)
    if unknown:
        raise ConfigError(f"data source {_describe(source)}: unknown import option {unknown[0]!r} "
                          f"(known: {', '.join(sorted(known))})")
    name = source.name or _default_name(source.inputs[0])
    return ImportOptions(dataset=name, **source.options)


def _default_name(path: str) -> str:
    path = path.split("=", 1)[-1] if "=" in path and not Path(path).exists() else path
    return Path(path).name.split(".")[0]


def _describe(source: DataSource) -> str:
    paths = ", ".join(source.inputs)
    return f"{source.name}={paths}" if source.name else paths
