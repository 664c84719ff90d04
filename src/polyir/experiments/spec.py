"""Sweep configuration: YAML -> a validated `SweepSpec` (docs/experiments.md, "Sweep configuration").

A sweep file has a ``base`` training configuration (any part of `polyir.train.TrainConfig`),
a ``grid`` of axes (strategy with α, batch size, seed, model, training data, and any dotted
option under ``set``), the ``evaluate`` sets and the ``out`` directory.  Everything is
checked here, before anything runs: unknown keys, bad values, missing files — each
`ConfigError` names the file and the key.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from ..config_io import from_dict, load_yaml
from ..errors import ConfigError
from ..evaluate.eval_options import EvalData, EvalOptions
from ..evaluate.measures import parse_measures
from ..sampling import DEFAULT_ALPHA, DEFAULT_BATCH_SIZE, DEFAULT_STRATEGY, WITH_ALPHA, Strategy
from ..sampling.batch_strategy import check_alpha
from .grid import expand
from .sweep_types import AxisValue, EvalSetSpec, SweepSpec

SWEEP_KEYS = ("name", "out", "base", "grid", "evaluate", "baseline", "select", "reference", "guard_leakage")
GRID_KEYS = ("strategy", "batch_size", "seed", "model", "data", "set", "variant")
SELECT_MODES = ("final", "best")


def load_sweep(path: str | Path, *, out: str | None = None) -> SweepSpec:
    """Read and validate a sweep file (``out`` overrides its ``out``)."""
    data = load_yaml(path)
    if out is not None:
        data["out"] = out
    return parse_sweep(data, source=str(path))


def parse_sweep(data: Mapping[str, Any], *, source: str = "sweep") -> SweepSpec:
    """A `SweepSpec` from plain data; `ConfigError` naming ``source`` and the key on any problem."""
    _check_keys(data, SWEEP_KEYS, source)
    if not data.get("out"):
        raise ConfigError(f"{source}: missing required key 'out' (the sweep directory)")
    base = data.get("base") or {}
    if not isinstance(base, Mapping):
        raise ConfigError(f"{source}.base: expected a mapping (a training configuration)")
    grid = data.get("grid") or {}
    if not isinstance(grid, Mapping):
        raise ConfigError(f"{source}.grid: expected a mapping of axes")
    _check_keys(grid, GRID_KEYS, f"{source}.grid")
    sampler = base.get("sampler") or {}
    if not isinstance(sampler, Mapping):
        raise ConfigError(f"{source}.base.sampler: expected a mapping, got {sampler!r}")
    select = data.get("select", "final")
    if select not in SELECT_MODES:
        raise ConfigError(f"{source}.select: must be one of {SELECT_MODES}, got {select!r}")
    reference = _reference(data.get("reference", DEFAULT_STRATEGY.label), source)
    spec = SweepSpec(
        out=Path(str(data["out"])), base=dict(base),
        strategies=parse_strategies(grid.get("strategy"), sampler, f"{source}.grid.strategy"),
        batch_sizes=_int_list(*_axis_or_base(grid, "batch_size", sampler, "sampler.batch_size", DEFAULT_BATCH_SIZE, source)),
        seeds=_int_list(*_axis_or_base(grid, "seed", base, "seed", 0, source), minimum=0),
        models=_axis_values(grid.get("model"), "model", f"{source}.grid.model"),
        data=_axis_values(grid.get("data"), "data", f"{source}.grid.data"),
        extra_axes=_extra_axes(grid.get("set") or {}, f"{source}.grid.set"),
        evaluate=parse_eval_sets(data.get("evaluate"), f"{source}.evaluate"),
        variants=parse_variants(grid.get("variant"), f"{source}.grid.variant"),
        name=str(data.get("name") or Path(source).stem), baseline=_bool(data, "baseline", True, source),
        select=select, reference=reference, guard_leakage=_bool(data, "guard_leakage", True, source),
        source=source)
    expand(spec)  # validates every grid point by building its config
    return spec


def _axis_or_base(grid: Mapping[str, Any], axis: str, section: Mapping[str, Any], base_key: str, default: Any,
                  source: str) -> tuple[Any, str]:
    """The grid's values for ``axis``, else the base's one value; with where it was written."""
    if axis in grid:
        return grid[axis], f"{source}.grid.{axis}"
    return section.get(base_key.rpartition(".")[2], default), f"{source}.base.{base_key}"


def _check_keys(data: Mapping[str, Any], known: tuple[str, ...], where: str) -> None:
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where}: expected a mapping")
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise ConfigError(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(known)})")


def _bool(data: Mapping[str, Any], key: str, default: bool, source: str) -> bool:
    value = data.get(key, default)
    if not isinstance(value, bool):
        raise ConfigError(f"{source}.{key}: expected true or false, got {value!r}")
    return value


def _as_list(value: Any) -> list:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def parse_strategies(value: Any, sampler: Mapping[str, Any], where: str) -> tuple[Strategy, ...]:
    """``[mono, cross, {hybrid: [0.3, 0.5]}, {mixed: 0.5}, hybrid(0.7)]``; default: the base sampler's.
    A bare ``hybrid`` or ``mixed`` takes the base sampler's α."""
    if value is None:
        value = [sampler.get("strategy", DEFAULT_STRATEGY.name)]
    points: list[Strategy] = []
    for i, item in enumerate(_as_list(value)):
        at = f"{where}[{i}]"
        if isinstance(item, Mapping):
            if len(item) != 1:
                raise ConfigError(f"{at}: write one strategy per entry, e.g. {{hybrid: [0.3, 0.5]}}")
            (name, alphas), = item.items()
            if name not in WITH_ALPHA:
                raise ConfigError(f"{at}: only {' and '.join(WITH_ALPHA)} take α values, not {name!r}")
            points += [Strategy(name, check_alpha(a, at)) for a in _as_list(alphas)]
        elif isinstance(item, str) and item.strip() in WITH_ALPHA:  # α of the base sampler
            points.append(Strategy(item.strip(), check_alpha(sampler.get("alpha", DEFAULT_ALPHA), f"{at} (base α)")))
        elif isinstance(item, str):
            point = Strategy.parse(item)
            if not point.trains:
                raise ConfigError(f"{at}: {point.name!r} is not a training strategy (see 'baseline')")
            points.append(point)
        else:
            raise ConfigError(f"{at}: expected a strategy name or {{hybrid|mixed: [α, ...]}}, got {item!r}")
    if not points:
        raise ConfigError(f"{where}: no strategy")
    return _unique(points, where, lambda p: p.label)


def _reference(value: Any, source: str) -> Strategy:
    try:
        return Strategy.parse(str(value))
    except ConfigError as err:
        raise ConfigError(f"{source}.reference: {err}") from None


def _unique(items: list, where: str, key) -> tuple:
    seen: dict = {}
    for item in items:
        if key(item) in seen:
            raise ConfigError(f"{where}: {key(item)!r} appears twice")
        seen[key(item)] = item
    return tuple(items)


def _int_list(value: Any, where: str, minimum: int = 1) -> tuple[int, ...]:
    out = []
    for v in _as_list(value):
        if isinstance(v, bool) or not isinstance(v, int) or v < minimum:
            raise ConfigError(f"{where}: expected integers >= {minimum}, got {v!r}")
        out.append(v)
    if not out:
        raise ConfigError(f"{where}: empty list")
    return _unique(out, where, lambda v: v)


def _axis_values(value: Any, axis: str, where: str) -> tuple[AxisValue, ...]:
    """Model / data axis entries: a string (a path, or ``NAME=PATH`` for data) or a mapping of
    `ModelConfig` / `DataConfig` fields plus an optional ``name`` (the label in reports)."""
    if value is None:
        return ()
    items = []
    for i, item in enumerate(_as_list(value)):
        at = f"{where}[{i}]"
        if isinstance(item, str):
            if axis == "model":
                items.append(AxisValue(Path(item.rstrip("/")).name or item, (("model.name_or_path", item),)))
            else:
                name, sep, path = item.partition("=")
                label = name if sep and "/" not in name else Path(item.rstrip("/")).name.split(".")[0]
                items.append(AxisValue(label, (("data.sources", [item]),)))
        elif isinstance(item, Mapping):
            fields = dict(item)
            label = fields.pop("name", None)
            if not fields:
                raise ConfigError(f"{at}: no {axis} options given")
            if label is None:
                label = _default_label(axis, fields, at)
            items.append(AxisValue(str(label), tuple((f"{axis}.{k}", v) for k, v in sorted(fields.items()))))
        else:
            raise ConfigError(f"{at}: expected a string or a mapping, got {item!r}")
    return _unique(items, where, lambda a: a.label)


def _default_label(axis: str, fields: Mapping[str, Any], where: str) -> str:
    if axis == "model" and "name_or_path" in fields:
        return Path(str(fields["name_or_path"]).rstrip("/")).name
    raise ConfigError(f"{where}: give this {axis} a 'name' (its label in the results)")


def _extra_axes(value: Any, where: str) -> tuple[tuple[str, tuple[Any, ...]], ...]:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where}: expected a mapping of dotted keys to lists of values")
    axes = []
    for key, values in value.items():
        if key.split(".")[0] in ("out", "seed") or key in ("sampler.strategy", "sampler.alpha", "sampler.batch_size"):
            raise ConfigError(f"{where}.{key}: this option has its own axis (strategy, batch_size, seed) or is fixed")
        values = tuple(_as_list(values))
        if not values:
            raise ConfigError(f"{where}.{key}: empty list")
        axes.append((str(key), values))
    return tuple(axes)


def parse_variants(value: Any, where: str) -> tuple[AxisValue, ...]:
    """``grid.variant``: a list of ``{name: LABEL, DOTTED.KEY: VALUE, ...}``.  Each entry is one
    named configuration (its overrides applied together), so a list of variants walks from one
    regime to another one factor at a time instead of crossing every factor with every other."""
    if value is None:
        return ()
    items = []
    for i, item in enumerate(_as_list(value)):
        at = f"{where}[{i}]"
        if not isinstance(item, Mapping) or not item.get("name"):
            raise ConfigError(f"{at}: expected a mapping with a 'name' and dotted options, "
                              "e.g. {name: trained-embeddings, model.freeze_embeddings: false}")
        overrides = {k: v for k, v in item.items() if k != "name"}
        for key in overrides:
            if str(key).split(".")[0] in ("out", "seed") or key in ("sampler.strategy", "sampler.alpha",
                                                                   "sampler.batch_size"):
                raise ConfigError(f"{at}.{key}: this option has its own axis (strategy, batch_size, seed) or is fixed")
        items.append(AxisValue(str(item["name"]), tuple((str(k), v) for k, v in overrides.items())))
    if not items:
        raise ConfigError(f"{where}: empty list")
    return _unique(items, where, lambda a: a.label)


def parse_eval_sets(value: Any, where: str) -> tuple[EvalSetSpec, ...]:
    """``evaluate``: a list of `EvalData` fields plus ``options`` (`EvalOptions` fields)."""
    if not value:
        raise ConfigError(f"{where}: give at least one evaluation set (dataset, data_dir)")
    sets = []
    for i, item in enumerate(_as_list(value)):
        at = f"{where}[{i}]"
        if not isinstance(item, Mapping):
            raise ConfigError(f"{at}: expected a mapping with dataset and data_dir")
        fields = dict(item)
        options = from_dict(EvalOptions, fields.pop("options", None) or {}, where=f"{at}.options")
        data = from_dict(EvalData, fields, where=at)

        try:
            parse_measures(options.measures)
        except ConfigError as err:
            raise ConfigError(f"{at}.options.measures: {err}") from None
        if not Path(data.data_dir).is_dir():
            raise ConfigError(f"{at}.data_dir: evaluation directory not found: {data.data_dir}")
        name = data.name or Path(data.data_dir.rstrip("/")).name
        sets.append(EvalSetSpec(name, data, options))
    return _unique(sets, where, lambda s: s.name)
