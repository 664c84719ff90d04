"""`TrainConfig`: everything a training run depends on, as frozen dataclasses.

Loaded from YAML with `polyir.config_io.from_dict` (unknown keys and wrong types are a
`ConfigError` naming the key), overridden with dotted ``key.sub=value`` pairs, and saved
resolved (``config.yaml``) next to every model the run writes.  docs/training.md
("Training loop") gives every default and why.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

from ..config_io import check_override, dump_yaml, from_dict, load_yaml, parse_override, set_dotted, to_dict
from ..device_checks import PRECISIONS as EVAL_PRECISIONS
from ..errors import ConfigError
from ..evaluate.measures import parse_measure
from ..sampling import SamplerConfig

DATA_FORMATS = ("auto", "pairs", "squad", "bitext", "beir", "mmarco", "triples", "table")
PRECISIONS = ("auto", "fp32", "bf16")
SCHEDULES = ("linear", "cosine", "constant")
TOKEN_CACHE_MODES = ("auto", "upfront", "lazy", "off")
AUTO_UPFRONT_PAIRS = 1_000_000
METRIC_KINDS = ("mono", "cross", "multi")
LOWER_IS_BETTER = ("dev_loss", "rank_distance")


def _positive_or_none(name: str, value: int | None) -> None:
    if value is not None and value < 1:
        raise ConfigError(f"{name} must be a positive integer, got {value}")


@dataclass(frozen=True)
class ModelConfig:
    """The encoder.  ``prompts``: ``model`` (its own) | ``e5`` | ``paper`` | ``none`` | {query, passage}."""

    name_or_path: str
    prompts: str | dict[str, str] = "model"
    max_query_length: int | None = None  # None: the model's max_seq_length
    max_passage_length: int | None = None
    freeze_embeddings: bool = False  # deviation from the paper, for CPU studies
    truncate_layers: int | None = None  # keep the first N transformer layers (deviation, CPU studies)
    dropout: float | None = None  # None: the model's own dropout probabilities
    trust_remote_code: bool = False

    def __post_init__(self) -> None:
        if not self.name_or_path:
            raise ConfigError("model.name_or_path is empty")
        for name in ("max_query_length", "max_passage_length", "truncate_layers"):
            _positive_or_none(f"model.{name}", getattr(self, name))
        if self.dropout is not None and not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"model.dropout must be in [0, 1), got {self.dropout}")


@dataclass(frozen=True)
class DataSource:
    """One named training source: a canonical pair file or anything `polyir data import` reads.

    ``path``: one path, or several inputs (``LANG=PATH``) for one importer call.
    ``format``: ``auto`` = pair file for .jsonl/.jsonl.gz/.parquet, ``squad`` for a .json
    file or a directory of ``<lang>.json`` files (XQuAD-R layout), ``beir`` for a directory
    with corpus.jsonl.  ``options``: `polyir.data.pairs.importing.ImportOptions` fields.
    """

    path: str | tuple[str, ...]
    name: str = ""  # data-set name ("" = the records' own, else the file or directory stem)
    format: str = "auto"
    options: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.format not in DATA_FORMATS:
            raise ConfigError(f"data source format must be one of {DATA_FORMATS}, got {self.format!r}")
        if not self.path:
            raise ConfigError("data source has an empty path")

    @property
    def inputs(self) -> tuple[str, ...]:
        return (self.path,) if isinstance(self.path, str) else tuple(self.path)

    @classmethod
    def parse(cls, text: str) -> "DataSource":
        """``NAME=PATH`` or ``PATH`` (the CLI's ``--data``)."""
        name, sep, path = text.partition("=")
        if sep and name and not Path(text).exists() and "/" not in name:
            return cls(path=path, name=name)
        return cls(path=text)


def data_sources(items: Sequence[Any], where: str) -> tuple[DataSource, ...]:
    """Sources from `DataSource` objects, mappings (YAML) or ``NAME=PATH`` strings."""
    out = []
    for i, item in enumerate(items):
        if isinstance(item, str):
            item = DataSource.parse(item)
        elif not isinstance(item, DataSource):
            item = from_dict(DataSource, item, where=f"{where}[{i}]")
        out.append(item)
    return tuple(out)


@dataclass(frozen=True)
class DataConfig:
    sources: tuple[Any, ...] = ()  # DataSource mappings, or "NAME=PATH" / "PATH" strings
    exclude: tuple[str, ...] = ()  # evaluation sets the training data must not overlap (leakage guard)
    exclude_dev: bool = True  # also guard against eval.dev
    leakage_contained: bool = False  # also drop positives contained in an evaluation paragraph
    languages: tuple[str, ...] = ()  # keep only these languages (empty: all)
    hard_negatives: int = 0  # k per example, from the passage-language pair's negatives
    # upfront: tokenise every text before step 1 | lazy: each distinct text when first met | off
    # | auto: upfront for up to AUTO_UPFRONT_PAIRS pairs, else lazy
    token_cache: str = "auto"

    def __post_init__(self) -> None:
        object.__setattr__(self, "sources", data_sources(self.sources, "data.sources"))
        if self.hard_negatives < 0:
            raise ConfigError(f"data.hard_negatives must be >= 0, got {self.hard_negatives}")
        if self.token_cache not in TOKEN_CACHE_MODES:
            raise ConfigError(f"data.token_cache must be one of {TOKEN_CACHE_MODES}, got {self.token_cache!r}")


@dataclass(frozen=True)
class LossConfig:
    temperature: float = 0.05
    symmetric_weight: float = 0.0
    mask_same_group: bool = True  # translations of an item's positive are not its negatives
    mask_same_positive: bool = True  # nor are other items whose positive is the same text (SQuAD)


@dataclass(frozen=True)
class OptimConfig:
    lr: float = 3e-5  # the paper's
    weight_decay: float = 0.01  # the paper's; never on biases and LayerNorm weights
    betas: tuple[float, ...] = (0.9, 0.999)
    eps: float = 1e-8
    schedule: str = "linear"
    warmup_ratio: float = 0.1
    warmup_steps: int | None = None  # overrides warmup_ratio
    max_grad_norm: float | None = 1.0
    steps: int | None = None  # total optimizer steps; None: epochs x batches per epoch
    epochs: int = 1
    pairs: int | None = None  # training budget in pairs: steps = ceil(pairs / batch size) (equal data across batch sizes)
    gradcache_chunk: int | None = None  # sub-batch size per rank; None: plain (uncached) step

    def __post_init__(self) -> None:
        if not (self.lr > 0 and math.isfinite(self.lr)):
            raise ConfigError(f"optim.lr must be a positive number, got {self.lr}")
        if self.weight_decay < 0:
            raise ConfigError(f"optim.weight_decay must be >= 0, got {self.weight_decay}")
        if len(self.betas) != 2 or not all(0 <= b < 1 for b in self.betas):
            raise ConfigError(f"optim.betas must be two numbers in [0, 1), got {list(self.betas)}")
        if self.schedule not in SCHEDULES:
            raise ConfigError(f"optim.schedule must be one of {SCHEDULES}, got {self.schedule!r}")
        if not 0 <= self.warmup_ratio < 1:
            raise ConfigError(f"optim.warmup_ratio must be in [0, 1), got {self.warmup_ratio}")
        if self.warmup_steps is not None and self.warmup_steps < 0:
            raise ConfigError(f"optim.warmup_steps must be >= 0, got {self.warmup_steps}")
        if self.max_grad_norm is not None and self.max_grad_norm <= 0:
            raise ConfigError(f"optim.max_grad_norm must be positive (or null), got {self.max_grad_norm}")
        _positive_or_none("optim.steps", self.steps)
        _positive_or_none("optim.epochs", self.epochs)
        _positive_or_none("optim.pairs", self.pairs)
        if self.pairs is not None and self.steps is not None:
            raise ConfigError(f"optim.pairs ({self.pairs}) and optim.steps ({self.steps}) are alternatives: set one")
        _positive_or_none("optim.gradcache_chunk", self.gradcache_chunk)



def pair_budget_steps(pairs: int | None, batch_size: int) -> int | None:
    """Optimizer steps for a budget of ``pairs`` training pairs (None without a budget)."""
    return None if pairs is None else -(-pairs // batch_size)


@dataclass(frozen=True)
class RuntimeConfig:
    device: str = "auto"  # auto | cpu | cuda | cuda:N | mps
    precision: str = "auto"  # auto: bf16 autocast on a GPU that has it and on a CPU with native bf16, else fp32
    threads: int | None = None  # torch CPU threads (None: torch's default)
    deterministic: bool = False  # bitwise-reproducible GPU kernels, resume included (slower; docs/training.md)
    length_buckets: bool | str = "auto"  # auto (= true on CPU) | true | false: passes of similar-length texts
    bucket_overhead: int | None = None  # cost of one more forward pass in padded tokens (None: 32768 / hidden)
    fast_dropout: bool | str = "auto"  # auto (= true on CPU) | true | false: train/cpu_dropout.py

    def __post_init__(self) -> None:
        if self.fast_dropout not in (True, False, "auto"):
            raise ConfigError(f"runtime.fast_dropout must be true, false or auto, got {self.fast_dropout!r}")
        if self.length_buckets not in (True, False, "auto"):
            raise ConfigError(f"runtime.length_buckets must be true, false or auto, got {self.length_buckets!r}")
        _positive_or_none("runtime.bucket_overhead", self.bucket_overhead)
        if self.precision not in PRECISIONS:
            raise ConfigError(f"runtime.precision must be one of {PRECISIONS}, got {self.precision!r} "
                              "(fp16 needs loss scaling, which polyir does not do: use bf16)")
        _positive_or_none("runtime.threads", self.threads)


@dataclass(frozen=True)
class EvalConfig:
    dev: str | None = None  # XQuAD-R / MLQA-R-format directory (multilingual dev set)
    languages: tuple[str, ...] = ()
    max_queries: int | None = None
    candidate_text: str = "sentence"
    every: int = 0  # steps between evaluations (0: only at the end)
    at_start: bool = True  # also evaluate the untrained model (step 0)
    metric: str = "multi/AP"  # kind/measure, dev_loss or rank_distance
    patience: int | None = None  # evaluations without improvement before stopping early
    batch_size: int = 128
    precision: str = "fp32"  # inference precision of the retrieval dev set: fp32 | bf16 | fp16 (autocast)
    loss_data: tuple[Any, ...] = ()  # sources of pairs for dev_loss (default: the pairs of `dev`)

    def __post_init__(self) -> None:
        object.__setattr__(self, "loss_data", data_sources(self.loss_data, "eval.loss_data"))
        metric_direction(self.metric)
        if self.every < 0:
            raise ConfigError(f"eval.every must be >= 0, got {self.every}")
        _positive_or_none("eval.patience", self.patience)
        _positive_or_none("eval.max_queries", self.max_queries)
        _positive_or_none("eval.batch_size", self.batch_size)
        if self.precision not in EVAL_PRECISIONS:
            raise ConfigError(f"eval.precision must be one of {EVAL_PRECISIONS}, got {self.precision!r}")

    @property
    def enabled(self) -> bool:
        return self.dev is not None or bool(self.loss_data)


@dataclass(frozen=True)
class CheckpointConfig:
    every: int = 1000  # steps between checkpoints (0: none; the final model is always saved)
    keep_last: int = 2
    save_best: bool = True  # keep the best model by eval.metric in OUT/best

    def __post_init__(self) -> None:
        if self.every < 0:
            raise ConfigError(f"checkpoint.every must be >= 0, got {self.every}")
        _positive_or_none("checkpoint.keep_last", self.keep_last)


@dataclass(frozen=True)
class LoggingConfig:
    every: int = 10  # steps between log records (and progress-bar updates)
    tensorboard: bool = False  # OUT/tensorboard (extra: polyir[tensorboard])
    mlflow: bool = False  # extra: polyir[mlflow]
    mlflow_experiment: str = "polyir"
    mlflow_tracking_uri: str | None = None
    run_name: str = ""

    def __post_init__(self) -> None:
        _positive_or_none("logging.every", self.every)


@dataclass(frozen=True)
class TrainConfig:
    model: ModelConfig
    data: DataConfig
    out: str = ""
    seed: int = 0
    sampler: SamplerConfig = field(default_factory=SamplerConfig)  # seed null: the run's seed
    loss: LossConfig = field(default_factory=LossConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    runtime: RuntimeConfig = field(default_factory=RuntimeConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    checkpoint: CheckpointConfig = field(default_factory=CheckpointConfig)
    logging: LoggingConfig = field(default_factory=LoggingConfig)

    def __post_init__(self) -> None:
        if not self.data.sources:
            raise ConfigError("data.sources is empty: give at least one training source")
        if self.seed < 0:
            raise ConfigError(f"seed must be >= 0, got {self.seed}")

    @property
    def seeded_sampler(self) -> SamplerConfig:
        """The sampler's configuration with its seed resolved (null: the run's ``seed``)."""
        return self.sampler.seeded(self.seed)

    def to_dict(self) -> dict:
        return to_dict(self)

    def to_yaml(self) -> str:
        return dump_yaml(self)


def metric_direction(metric: str) -> str:
    """``min`` or ``max`` for a selection metric; `ConfigError` for an unknown one."""
    if metric in LOWER_IS_BETTER:
        return "min"
    kind, sep, measure = metric.partition("/")
    if not sep or kind not in METRIC_KINDS:
        raise ConfigError(f"eval.metric must be KIND/MEASURE with KIND in {METRIC_KINDS} (e.g. multi/AP), "
                          f"or one of {LOWER_IS_BETTER}; got {metric!r}")

    parse_measure(measure)
    return "max"


def build_config(data: Mapping[str, Any], overrides: Sequence[str] = (), *, where: str = "config") -> TrainConfig:
    """A `TrainConfig` from plain data plus ``key.sub=value`` overrides (applied in order)."""
    data = dict(data)
    for text in overrides:
        key, value = parse_override(text)
        check_override(TrainConfig, key, value, f"--set {text}")
        data = set_dotted(data, key, value)
    return from_dict(TrainConfig, data, where=where)


def load_train_config(path: str | Path, overrides: Sequence[str] = ()) -> TrainConfig:
    return build_config(load_yaml(path), overrides, where=str(path))


__all__ = ["TrainConfig", "ModelConfig", "DataConfig", "DataSource", "LossConfig", "OptimConfig", "RuntimeConfig",
           "EvalConfig", "CheckpointConfig", "LoggingConfig", "build_config", "load_train_config", "metric_direction"]
