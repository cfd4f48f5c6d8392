"""The one config mechanism: versioned dicts, dotted overrides, coercion, registry fields."""

from __future__ import annotations

import types
from dataclasses import dataclass, field
from typing import ClassVar

import pytest

from hvg_core import hookspecs, registry
from hvg_core.config import Config, parse_overrides, registered
from hvg_core.errors import InputError
from hvg_core.registry import Registry, make_plugin_manager


@dataclass
class Inner(Config):
    size: int = 4
    ratio: float = 0.5
    name: str | None = None


@dataclass
class Outer(Config):
    CONFIG_VERSION: ClassVar[int] = 2
    LEGACY_VERSION_KEYS: ClassVar[tuple[str, ...]] = ("config_version",)

    enabled: bool = False
    steps: int = 10
    scale: float | None = 1.0
    tags: list[str] = field(default_factory=list)
    layouts: list[list[int]] = field(default_factory=lambda: [[1, 2]])
    sampler: str = registered("samplers", "alpha")
    inner: Inner = field(default_factory=Inner)

    @classmethod
    def upgrade(cls, data, version):
        if version == 1 and "num_steps" in data:  # version 1 called it num_steps
            data["steps"] = data.pop("num_steps")
        return data


@pytest.fixture
def samplers_alpha_beta(monkeypatch):
    """A process registry with exactly two samplers, ``alpha`` and ``beta``."""

    @hookspecs.hookimpl
    def hvg_register_samplers(register):
        register("alpha", object(), description="a")
        register("beta", object(), description="b")

    manager = make_plugin_manager(load_entry_points=False)
    manager.register(types.SimpleNamespace(hvg_register_samplers=hvg_register_samplers))
    monkeypatch.setattr(registry, "_REGISTRY", Registry(manager))


def test_round_trip_writes_version_and_rebuilds_equal(samplers_alpha_beta):
    config = Outer(enabled=True, steps=3, tags=["a"], sampler="beta", inner=Inner(size=8))
    data = config.to_dict()
    assert next(iter(data)) == "version" and data["version"] == 2
    assert data["inner"] == {"size": 8, "ratio": 0.5, "name": None}
    assert Outer.from_dict(data) == config
    assert Outer.from_dict({}) == Outer()


def test_values_are_coerced_to_the_annotated_type(samplers_alpha_beta):
    config = Outer.from_dict(
        {"enabled": "yes", "steps": "7", "scale": "2", "tags": "x, y", "inner": {"ratio": 1}}
    )
    assert config.enabled is True and config.steps == 7 and config.scale == 2.0
    assert isinstance(config.inner.ratio, float) and config.tags == ["x", "y"]
    assert Outer.from_dict({"scale": None}).scale is None


@pytest.mark.parametrize(
    ("data", "field_name"),
    [
        ({"steps": 2.5}, "steps"),
        ({"steps": True}, "steps"),
        ({"enabled": "maybe"}, "enabled"),
        ({"inner": {"size": "big"}}, "inner.size"),
        ({"inner": 3}, "inner"),
        ({"layouts": [[1, "x"]]}, "layouts[0][1]"),
        ({"steps": None}, "steps"),
    ],
)
def test_bad_values_name_the_field(samplers_alpha_beta, data, field_name):
    with pytest.raises(InputError) as caught:
        Outer.from_dict(data, source="run.toml")
    assert caught.value.field == field_name and caught.value.path == "run.toml"
    assert caught.value.exit_code == 2


def test_unknown_key_is_an_input_error_naming_it(samplers_alpha_beta):
    with pytest.raises(InputError) as caught:
        Outer.from_dict({"inner": {"sise": 3}}, source="x.json")
    assert caught.value.field == "inner.sise"
    assert "known: name, ratio, size" in str(caught.value)


def test_registry_backed_field_must_name_a_registered_part(samplers_alpha_beta):
    with pytest.raises(InputError) as caught:
        Outer.from_dict({"sampler": "gamma"})
    assert caught.value.field == "sampler"
    assert "registered: alpha, beta" in str(caught.value)
    with pytest.raises(InputError):
        Outer().with_overrides(["sampler=gamma"])
    assert Outer().with_overrides(["sampler=beta"]).sampler == "beta"


def test_dotted_overrides_coerce_and_leave_the_original_alone(samplers_alpha_beta):
    original = Outer()
    changed = original.with_overrides(
        ["inner.size=16", "layouts=[[2, 3], [6, 1]]", "scale=null", "inner.name=3", "tags=a,b"]
    )
    assert changed.inner.size == 16 and changed.layouts == [[2, 3], [6, 1]]
    assert changed.scale is None and changed.inner.name == "3" and changed.tags == ["a", "b"]
    assert original == Outer()
    with pytest.raises(InputError) as caught:
        original.with_overrides(["inner.nope=1"])
    assert caught.value.field == "inner.nope" and caught.value.path == "--set"


@pytest.mark.parametrize("item", ["steps", "=3", "inner..size=3"])
def test_malformed_override_is_an_input_error(item):
    with pytest.raises(InputError) as caught:
        parse_overrides([item])
    assert caught.value.field == "--set"


def test_versions_newer_refused_older_upgraded_legacy_key_read(samplers_alpha_beta):
    with pytest.raises(InputError) as caught:
        Outer.from_dict({"version": 3})
    assert caught.value.field == "version" and "newer" in str(caught.value)
    with pytest.raises(InputError):
        Outer.from_dict({"version": "two"})
    assert Outer.from_dict({"version": 1, "num_steps": 4}).steps == 4
    assert Outer.from_dict({"config_version": 1, "num_steps": 5}).steps == 5
    with pytest.raises(InputError) as caught:
        Outer.from_dict({"config_version": 9})
    assert caught.value.field == "config_version"


def test_merged_keeps_unlisted_fields(samplers_alpha_beta):
    base = Outer(steps=99, inner=Inner(size=1))
    merged = base.merged({"version": 2, "inner": {"ratio": 0.25}})
    assert merged.steps == 99 and merged.inner.size == 1 and merged.inner.ratio == 0.25


@dataclass(frozen=True)
class FrozenWithTuple(Config):
    colour: tuple[int, int, int] = (255, 255, 255)
    size: int = 8

    def __post_init__(self) -> None:
        if self.size < 1:
            raise InputError("must be >= 1", field="size")


def test_frozen_configs_with_fixed_tuples_are_coerced_and_checked_again():
    config = FrozenWithTuple.from_dict({"colour": ["1", 2, 3]})
    assert config.colour == (1, 2, 3) and isinstance(config.colour, tuple)
    assert config.with_overrides(["colour=[4, 5, 6]"]).colour == (4, 5, 6)
    with pytest.raises(InputError, match="expected 3 values") as caught:
        FrozenWithTuple.from_dict({"colour": [1, 2]})
    assert caught.value.field == "colour"
    with pytest.raises(InputError) as caught:  # __post_init__ runs on the merged values
        config.with_overrides(["size=0"])
    assert caught.value.field == "size"
