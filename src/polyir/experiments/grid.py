"""Grid expansion: a `SweepSpec` -> one `RunSpec` per grid point, each named by a content hash.

The hash is the SHA-256 of the canonical JSON (sorted keys, no whitespace) of what
determines a run's results: the resolved training configuration without the options that
cannot change them (`NOT_HASHED`), the evaluation sets and the model selection — see
docs/experiments.md ("Run identity").  Labels, the sweep's name and its directory are not
hashed: renaming a sweep or moving it keeps every finished run.
"""
from __future__ import annotations

import copy
import hashlib
import itertools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Mapping

from ..config_io import from_dict, set_dotted, to_dict
from ..errors import ConfigError
from ..sampling import UNTRAINED, Strategy
from ..train.train_config import TrainConfig
from .sweep_types import EvalSetSpec, SweepSpec

HASH_VERSION = 1
HASH_LENGTH = 16
# options that change neither the trained weights nor the evaluation
NOT_HASHED = ("out", "logging", "runtime.threads", "data.token_cache", "checkpoint.every", "checkpoint.keep_last")
# options added after runs were recorded: hashed only when they differ from their default, so
# that adding them kept the hash (and the finished runs) of every existing sweep
HASHED_UNLESS_DEFAULT = {"eval.precision": "fp32"}
EVAL_OPTIONS_HASHED_UNLESS_DEFAULT = {"precision": "fp32"}
LEAKAGE_FORMATS = ("xquad-r", "mlqa-r", "lareqa")
BASELINE_MODEL_KEYS = ("name_or_path", "prompts", "truncate_layers", "trust_remote_code")
BASELINE_RUNTIME_KEYS = ("device", "threads")


@dataclass(frozen=True)
class RunSpec:
    """One run of a sweep: train (``kind == "train"``) or only evaluate (``"baseline"``)."""

    kind: str
    axes: dict[str, Any]
    train: dict  # the resolved TrainConfig as plain data ("out" is set by the runner)
    evaluate: tuple[dict, ...]  # EvalSetSpec.to_dict() of every evaluation set
    select: str = "final"
    sweep: str = ""
    hash: str = field(default="")

    def __post_init__(self) -> None:
        if not self.hash:
            object.__setattr__(self, "hash", run_hash(self))

    @property
    def label(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.axes.items() if k not in ("strategy", "alpha"))

    @property
    def eval_sets(self) -> tuple[EvalSetSpec, ...]:
        return tuple(EvalSetSpec.from_dict(e) for e in self.evaluate)

    def run_dir(self, sweep_out: str | Path) -> Path:
        return Path(sweep_out) / "runs" / self.hash

    def to_dict(self) -> dict:
        return {"schema": "polyir.run-spec/1", "hash": self.hash, "kind": self.kind, "sweep": self.sweep,
                "axes": self.axes, "train": self.train, "evaluate": list(self.evaluate), "select": self.select}

    @classmethod
    def from_dict(cls, obj: Mapping[str, Any]) -> "RunSpec":
        spec = cls(kind=obj["kind"], axes=dict(obj["axes"]), train=obj["train"], evaluate=tuple(obj["evaluate"]),
                   select=obj["select"], sweep=obj.get("sweep", ""))
        if obj.get("hash") and obj["hash"] != spec.hash:
            raise ConfigError(f"run spec {obj['hash']}: its content hashes to {spec.hash} (edited by hand, or "
                              f"written by another polyir version)")
        return spec


def canonical_json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def hashed_content(run: RunSpec) -> dict:
    """Exactly what the run hash covers."""
    train = _drop(run.train, NOT_HASHED + _at_default(run.train, HASHED_UNLESS_DEFAULT))
    evaluate = [{**e, "options": _drop(e["options"], _at_default(e["options"], EVAL_OPTIONS_HASHED_UNLESS_DEFAULT))}
                if isinstance(e.get("options"), dict) else e for e in run.evaluate]
    if run.kind == "baseline":
        return {"version": HASH_VERSION, "kind": run.kind, "model": train["model"], "evaluate": evaluate}
    return {"version": HASH_VERSION, "kind": run.kind, "train": train, "evaluate": evaluate, "select": run.select}


def run_hash(run: RunSpec) -> str:
    return hashlib.sha256(canonical_json(hashed_content(run)).encode("utf-8")).hexdigest()[:HASH_LENGTH]


def _at_default(data: dict, defaults: dict[str, Any]) -> tuple[str, ...]:
    """The dotted keys of ``defaults`` whose value in ``data`` is the default (or absent)."""
    def value(dotted: str) -> Any:
        head, _, tail = dotted.partition(".")
        node = data.get(head) if tail else data
        return node.get(tail or head, defaults[dotted]) if isinstance(node, dict) else defaults[dotted]

    return tuple(key for key, default in defaults.items() if value(key) == default)


def _drop(data: dict, dotted_keys: tuple[str, ...]) -> dict:
    out = copy.deepcopy(data)
    for dotted in dotted_keys:
        head, _, tail = dotted.partition(".")
        if not tail:
            out.pop(head, None)
        elif isinstance(out.get(head), dict):
            out[head].pop(tail, None)
    return out


def expand(spec: SweepSpec) -> list[RunSpec]:
    """Every run of the sweep, baselines first, then model × data × set-axes × batch size × seed ×
    strategy (strategies vary fastest, so the first finished runs already form comparisons)."""
    runs: list[RunSpec] = []
    eval_dicts = tuple(e.to_dict() for e in spec.evaluate)
    checked: set[str] = set()
    points = itertools.product(_or_base(spec.variants), _or_base(spec.models), _or_base(spec.data), _extra_points(spec))
    for variant, model, data, extra in points:
        for batch_size, seed, point in itertools.product(spec.batch_sizes, spec.seeds, spec.strategies):
            axes = {"batch_size": batch_size, "seed": seed, **strategy_axes(point),
                    **({"variant": variant.label} if variant else {}), **dict(extra)}
            overrides = [*(variant.overrides if variant else ()), *(model.overrides if model else ()),
                         *(data.overrides if data else ()), *_strategy_overrides(point),
                         ("sampler.batch_size", batch_size), ("seed", seed), *extra]
            train = build_train_dict(spec, overrides, where=f"{spec.source} (grid point {_describe(axes)}): base")
            # labels of the model and data actually trained (a variant may change either)
            axes = {"model": model.label if model else _model_label(train),
                    "data": data.label if data else _data_label(train), **axes}
            _check_paths(train, checked, spec.source)
            runs.append(RunSpec("train", axes, train, eval_dicts, spec.select, spec.name))
    baselines = _baselines(spec, runs, eval_dicts) if spec.baseline else []
    _check_distinct(baselines + runs, spec.source)
    return baselines + runs


def _or_base(values: tuple) -> tuple:
    return values or (None,)


def _extra_points(spec: SweepSpec) -> Iterator[tuple[tuple[str, Any], ...]]:
    keys = [k for k, _ in spec.extra_axes]
    for values in itertools.product(*(v for _, v in spec.extra_axes)):
        yield tuple(zip(keys, values))


def _model_label(train: dict) -> str:
    return Path(str(train["model"]["name_or_path"]).rstrip("/")).name


def _data_label(train: dict) -> str:
    return "+".join(_source_label(source) for source in train["data"]["sources"]) or "data"


def _source_label(source) -> str:
    if isinstance(source, Mapping):
        return str(source.get("name") or Path(str(source.get("path")).rstrip("/")).name.split(".")[0])
    name, sep, _ = str(source).partition("=")
    return name if sep and "/" not in name else Path(str(source).rstrip("/")).name.split(".")[0]


def strategy_axes(point: Strategy) -> dict[str, Any]:
    """A run's strategy axes, the results database's ``strategy``, ``alpha`` and ``label`` columns."""
    return {"strategy": point.name, "alpha": point.alpha, "label": point.label}


def _strategy_overrides(point: Strategy) -> list[tuple[str, Any]]:
    # mono / cross ignore α: fix it (and drop any schedule) so that the base's α cannot split identical runs
    fields = [(f"sampler.{key}", value) for key, value in point.sampler_fields().items()]
    return fields + ([("sampler.alpha_end", None)] if point.alpha is None else [])


def build_train_dict(spec: SweepSpec, overrides: list[tuple[str, Any]], *, where: str) -> dict:
    """Base + overrides (+ the evaluation sets in ``data.exclude``) -> a validated, resolved config."""
    data = copy.deepcopy(spec.base)
    for key, value in overrides:
        data = set_dotted(data, key, value)
    data = set_dotted(data, "out", "")
    config = from_dict(TrainConfig, data, where=where)
    resolved = to_dict(config)
    if spec.guard_leakage:
        exclude = list(resolved["data"]["exclude"])
        exclude += [e.data.data_dir for e in spec.evaluate
                    if e.data.dataset in LEAKAGE_FORMATS and e.data.data_dir not in exclude]
        resolved["data"]["exclude"] = exclude
    return resolved


def _baselines(spec: SweepSpec, runs: list[RunSpec], eval_dicts: tuple[dict, ...]) -> list[RunSpec]:
    found: dict[str, RunSpec] = {}
    for run in runs:
        axes = {"model": run.axes["model"], **strategy_axes(Strategy(UNTRAINED)),
                **{k: v for k, v in run.axes.items() if k.startswith("model.")}}
        # only what the untrained model's evaluation depends on: training-only options (lengths,
        # frozen embeddings, dropout, precision) must not split one baseline into several
        train = {"model": {k: v for k, v in run.train["model"].items() if k in BASELINE_MODEL_KEYS},
                 "runtime": {k: v for k, v in run.train["runtime"].items() if k in BASELINE_RUNTIME_KEYS}}
        baseline = RunSpec("baseline", axes, train, eval_dicts, "final", spec.name)
        found.setdefault(baseline.hash, baseline)
    return list(found.values())


def _check_distinct(runs: list[RunSpec], source: str) -> None:
    seen: dict[str, RunSpec] = {}
    for run in runs:
        if run.hash in seen:
            raise ConfigError(f"{source}: grid points ({_describe(seen[run.hash].axes)}) and "
                              f"({_describe(run.axes)}) resolve to the same configuration")
        seen[run.hash] = run


def _describe(axes: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in axes.items() if k not in ("strategy", "alpha"))


def _check_paths(train: dict, checked: set[str], source: str) -> None:
    """Training sources and local model directories must exist before anything runs."""
    model = str(train["model"]["name_or_path"])
    if model not in checked:
        checked.add(model)
        looks_like_path = model.startswith((".", "/", "~")) or model.count("/") > 1
        if looks_like_path and not Path(model).expanduser().exists():
            raise ConfigError(f"{source}: model.name_or_path: model directory not found: {model}")
    for src in train["data"]["sources"]:
        paths = [src["path"]] if isinstance(src["path"], str) else src["path"]
        for path in paths:
            if path in checked:
                continue
            checked.add(path)
            file = path if Path(path).exists() or "=" not in path else path.split("=", 1)[1]
            if not Path(file).exists():
                raise ConfigError(f"{source}: data.sources: training data not found: {file}")
