from dataclasses import dataclass, field
from typing import Literal

import pytest

from polyir.config_io import dump_yaml, from_dict, load_yaml, parse_override, set_dotted, to_dict
from polyir.errors import ConfigError


@dataclass(frozen=True)
class Inner:
    alpha: float = 0.5
    strategy: Literal["mono", "cross", "hybrid"] = "hybrid"


@dataclass(frozen=True)
class Outer:
    name: str
    sizes: tuple[int, ...] = (64,)
    inner: Inner = field(default_factory=Inner)
    note: str | None = None


def test_round_trip_through_yaml(tmp_path):
    cfg = from_dict(Outer, {"name": "x", "sizes": [32, 64], "inner": {"alpha": 1, "strategy": "mono"}})
    assert cfg == Outer("x", (32, 64), Inner(1.0, "mono"))
    path = tmp_path / "c.yaml"
    path.write_text(dump_yaml(cfg))
    assert from_dict(Outer, load_yaml(path)) == cfg
    assert to_dict(cfg)["sizes"] == [32, 64]


@pytest.mark.parametrize("data, message", [
    ({"name": "x", "bogus": 1}, "unknown key 'bogus'"),
    ({}, "missing required key 'name'"),
    ({"name": "x", "inner": {"strategy": "other"}}, "config.inner.strategy: 'other' is not one of"),
    ({"name": "x", "inner": {"alpha": "high"}}, "expected a number"),
    ({"name": "x", "sizes": [1, "a"]}, r"config.sizes\[1\]: expected an integer"),
    ({"name": 3}, "expected a string"),
])
def test_errors_name_the_key(data, message):
    with pytest.raises(ConfigError, match=message):
        from_dict(Outer, data)


def test_overrides_and_yaml_errors(tmp_path):
    key, value = parse_override("inner.alpha=0.25")
    assert from_dict(Outer, set_dotted({"name": "x"}, key, value)).inner.alpha == 0.25
    assert parse_override("sizes=[1, 2]") == ("sizes", [1, 2])
    with pytest.raises(ConfigError, match="key=value"):
        parse_override("nonsense")
    bad = tmp_path / "bad.yaml"
    bad.write_text("a: [1, 2\nb: 3\n")
    with pytest.raises(ConfigError, match="malformed YAML"):
        load_yaml(bad)
    with pytest.raises(ConfigError, match="not found"):
        load_yaml(tmp_path / "none.yaml")
