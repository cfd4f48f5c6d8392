"""One config mechanism for every HVG package: dataclasses, versioned dicts, dotted overrides.

A config is a ``@dataclass`` that subclasses :class:`Config`. Its field annotations are its
schema: values read from a dict, a file or a ``section.field=value`` override are coerced to the
annotated type (``int``, ``float``, ``bool``, ``str``, ``X | None``, ``list[X]``,
``tuple[X, Y, Z]``, ``dict[str, X]``, nested config dataclasses; frozen dataclasses too), an unknown key is an
:class:`~hvg_core.errors.InputError` naming the key (exit code 2), and a field declared with
:func:`registered` must name a part registered in the HVG registry under its kind::

    @dataclass
    class SamplingConfig(Config):
        CONFIG_VERSION: ClassVar[int] = 1

        sampler: str = registered("samplers", "hvg")
        num_steps: int = 25


    config = SamplingConfig.from_dict({"version": 1, "num_steps": "30"})  # num_steps == 30
    config = config.with_overrides(["sampler=temporal"])
    config.to_dict()  # {"version": 1, "sampler": "temporal", "num_steps": 30}

:meth:`Config.to_dict` writes a ``version`` key (the class's ``CONFIG_VERSION``);
:meth:`Config.from_dict` refuses a newer version and passes an older one through
:meth:`Config.upgrade`. Nested configs are plain tables without their own version.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import math
import types
import typing
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar, TypeVar

from hvg_core.errors import InputError

#: Key of the schema version in every dict :meth:`Config.to_dict` writes.
VERSION_KEY = "version"
#: Field metadata key naming the registry kind a field's value must be registered under.
REGISTRY_METADATA = "hvg_registry_kind"

ConfigT = TypeVar("ConfigT", bound="Config")

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


def registered(kind: str, default: Any = dataclasses.MISSING, **field_options: Any) -> Any:
    """A dataclass field whose value (a name, or a list of names) must be registered as ``kind``.

    Args:
        kind: Registry kind (``"samplers"``, ``"noise_inits"``, ``"pose_signals"``…; see
            :data:`hvg_core.registry.KINDS`).
        default: Default value (``None`` is allowed and never looked up).
        **field_options: Passed to :func:`dataclasses.field` (e.g. ``default_factory``).
    """
    metadata = {**field_options.pop("metadata", {}), REGISTRY_METADATA: kind}
    if default is not dataclasses.MISSING:
        field_options["default"] = default
    return dataclasses.field(metadata=metadata, **field_options)


class Config:
    """Base of every HVG config dataclass (see the module docstring).

    Class attributes:
        CONFIG_VERSION: Version written by :meth:`to_dict`; bump it when a field changes
            meaning and teach :meth:`upgrade` to read the old form.
        LEGACY_VERSION_KEYS: Other keys older files used for the version (read, never written).
    """

    CONFIG_VERSION: ClassVar[int] = 1
    LEGACY_VERSION_KEYS: ClassVar[tuple[str, ...]] = ()

    def to_dict(self) -> dict[str, Any]:
        """Plain nested dict (JSON/TOML-safe) with a ``version`` key first."""
        return {VERSION_KEY: self.CONFIG_VERSION, **config_as_dict(self)}

    @classmethod
    def from_dict(
        cls: type[ConfigT], data: Mapping[str, Any], *, source: str = "<dict>"
    ) -> ConfigT:
        """Build from a (possibly partial) nested mapping; missing fields keep their defaults.

        Args:
            data: Mapping as written by :meth:`to_dict` (the version key is optional).
            source: File or argument name used in error messages.

        Raises:
            InputError: Newer version, unknown key, value of the wrong type, or an unregistered
                name in a registry-backed field; the message names the field.
        """
        values = cls._read_version(data, source)
        config = cls()
        merge_into(config, values, source=source)
        config = _revalidated(config)
        check_registered(config, source=source)
        return config

    @classmethod
    def _read_version(cls, data: Mapping[str, Any], source: str) -> dict[str, Any]:
        if not isinstance(data, Mapping):
            raise InputError(f"expected a table of fields, got {type(data).__name__}", path=source)
        values = dict(data)
        version: Any = cls.CONFIG_VERSION
        key = VERSION_KEY
        for candidate in (VERSION_KEY, *cls.LEGACY_VERSION_KEYS):
            if candidate in values:
                key, version = candidate, values.pop(candidate)
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise InputError(
                f"the version must be a positive integer, got {version!r}", path=source, field=key
            )
        if version > cls.CONFIG_VERSION:
            raise InputError(
                f"version {version} is newer than this {cls.__name__} understands "
                f"({cls.CONFIG_VERSION}); upgrade HVG",
                path=source,
                field=key,
            )
        if version < cls.CONFIG_VERSION:
            values = cls.upgrade(values, version)
        return values

    @classmethod
    def upgrade(cls, data: dict[str, Any], version: int) -> dict[str, Any]:
        """Rewrite a dict of an older ``version`` into the current form (default: unchanged)."""
        return data

    def merged(self: ConfigT, data: Mapping[str, Any], *, source: str = "<dict>") -> ConfigT:
        """A copy with the fields of a partial nested mapping set (a version key is allowed).

        Raises:
            InputError: As :meth:`from_dict`.
        """
        values = self._read_version(data, source)
        config = copy.deepcopy(self)
        merge_into(config, values, source=source)
        config = _revalidated(config)
        check_registered(config, source=source)
        return config

    def with_overrides(
        self: ConfigT, overrides: Iterable[str], *, source: str = "--set"
    ) -> ConfigT:
        """A copy with ``a.b=c`` overrides applied (see :func:`parse_overrides`).

        Raises:
            InputError: A malformed override, unknown key or bad value, naming it.
        """
        config = copy.deepcopy(self)
        merge_into(config, parse_overrides(overrides, source=source), source=source)
        config = _revalidated(config)
        check_registered(config, source=source)
        return config


def config_as_dict(config: Any) -> dict[str, Any]:
    """The fields of a config dataclass as a plain nested dict (no version key)."""
    return {f.name: _plain(getattr(config, f.name)) for f in dataclasses.fields(config) if f.init}


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return config_as_dict(value)
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    return value


def parse_overrides(overrides: Iterable[str], *, source: str = "--set") -> dict[str, Any]:
    """Turn ``a.b=c`` strings into one nested mapping (later overrides win).

    Values are read as JSON where they parse (``[1, 2]``, ``true``, ``3e-4``, ``null``), else
    kept as text; the field's type then coerces them. Dashes in keys become underscores.

    Raises:
        InputError: An item without ``=`` or with an empty key part.
    """
    nested: dict[str, Any] = {}
    for item in overrides:
        key, separator, raw = item.partition("=")
        parts = [part.strip().replace("-", "_") for part in key.split(".")]
        if not separator or not all(parts):
            raise InputError(
                f"override {item!r} is not of the form section.field=value", field=source
            )
        try:
            value: Any = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        table = nested
        for part in parts[:-1]:
            child = table.get(part)
            if not isinstance(child, dict):
                child = table[part] = {}
            table = child
        table[parts[-1]] = value
    return nested


def merge_into(
    target: Any, values: Mapping[str, Any], *, source: str = "<dict>", prefix: str = ""
) -> None:
    """Set the fields of the config dataclass ``target`` from a partial nested mapping.

    Nested dataclass fields are merged into (other fields keep their values); every other field
    is replaced by the value coerced to its annotated type.

    Raises:
        InputError: Unknown key (the message lists the known ones) or a value of the wrong type.
    """
    fields = {f.name: f for f in dataclasses.fields(target) if f.init}
    hints = _type_hints(type(target))
    for raw_key, value in values.items():
        key = str(raw_key).replace("-", "_")
        dotted = f"{prefix}{key}"
        if key not in fields:
            raise InputError(
                f"unknown config field; known: {', '.join(sorted(fields))}",
                path=source,
                field=dotted,
            )
        current = getattr(target, key)
        if dataclasses.is_dataclass(current) and not isinstance(current, type):
            if not isinstance(value, Mapping):
                raise InputError("expected a table of fields", path=source, field=dotted)
            merge_into(current, value, source=source, prefix=f"{dotted}.")
        else:
            _set_field(target, key, coerce(value, hints[key], field=dotted, source=source))


def _set_field(target: Any, key: str, value: Any) -> None:
    """Set a field, also of a frozen dataclass (validated afterwards by :func:`_revalidated`)."""
    if type(target).__dataclass_params__.frozen:  # type: ignore[attr-defined]
        object.__setattr__(target, key, value)
    else:
        setattr(target, key, value)


def _revalidated(config: ConfigT) -> ConfigT:
    """A frozen config rebuilt through its ``__init__`` (so ``__post_init__`` checks it again)."""
    if type(config).__dataclass_params__.frozen:  # type: ignore[attr-defined]
        return dataclasses.replace(config)
    return config


def _type_hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def coerce(value: Any, annotation: Any, *, field: str, source: str = "<dict>") -> Any:
    """``value`` converted to the annotated type, or an :class:`InputError` naming ``field``.

    Text is accepted for numbers and booleans (``"3"``, ``"true"``), a comma-separated or JSON
    string for lists; an integer field refuses ``2.5``.
    """
    if annotation is Any or annotation is object:
        return value
    origin = typing.get_origin(annotation)
    if origin is typing.Union or origin is types.UnionType:
        return _coerce_union(value, typing.get_args(annotation), field, source)
    if value is None:
        raise InputError(f"expected {_describe(annotation)}, got null", path=source, field=field)
    if origin is typing.Literal:
        choices = typing.get_args(annotation)
        if value not in choices:
            raise InputError(
                f"must be one of {', '.join(map(repr, choices))}, got {value!r}",
                path=source,
                field=field,
            )
        return value
    if origin in (list, tuple) or annotation in (list, tuple):
        return _coerce_list(value, annotation, field, source)
    if origin is dict or annotation is dict:
        args = typing.get_args(annotation)
        if not isinstance(value, Mapping):
            raise InputError(f"expected a table, got {value!r}", path=source, field=field)
        item_type = args[1] if len(args) == 2 else Any
        return {
            str(k): coerce(v, item_type, field=f"{field}.{k}", source=source)
            for k, v in value.items()
        }
    if isinstance(annotation, type) and dataclasses.is_dataclass(annotation):
        if not isinstance(value, Mapping):
            raise InputError("expected a table of fields", path=source, field=field)
        instance = annotation()
        merge_into(instance, value, source=source, prefix=f"{field}.")
        return instance
    if annotation is bool:
        return _coerce_bool(value, field, source)
    if annotation is int:
        return _coerce_int(value, field, source)
    if annotation is float:
        return _coerce_float(value, field, source)
    if annotation is str:
        if isinstance(value, str):
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        raise InputError(f"expected text, got {value!r}", path=source, field=field)
    raise TypeError(f"config field {field!r} has an unsupported type {annotation!r}")


def _coerce_union(value: Any, args: tuple[Any, ...], field: str, source: str) -> Any:
    allows_none = type(None) in args
    if value is None or (allows_none and isinstance(value, str) and value.lower() == "none"):
        if allows_none:
            return None
        raise InputError(f"expected {_describe(args)}, got null", path=source, field=field)
    options = [arg for arg in args if arg is not type(None)]
    # Exact type first, so that ``int | str`` keeps "3" as text and 3 as a number.
    for arg in options:
        if isinstance(arg, type) and type(value) is arg:
            return value
    errors = []
    for arg in options:
        try:
            return coerce(value, arg, field=field, source=source)
        except InputError as error:
            errors.append(error)
    raise InputError(f"expected {_describe(args)}, got {value!r}", path=source, field=field)


def _coerce_list(
    value: Any, annotation: Any, field: str, source: str
) -> list[Any] | tuple[Any, ...]:
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except json.JSONDecodeError as error:
                raise InputError(
                    f"expected a list, got {value!r} ({error.msg})", path=source, field=field
                ) from error
        else:
            value = [part.strip() for part in text.split(",")] if text else []
    if not isinstance(value, list | tuple):
        raise InputError(f"expected a list, got {value!r}", path=source, field=field)
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) is tuple and args and args[-1] is not Ellipsis:
        if len(value) != len(args):
            raise InputError(
                f"expected {len(args)} values, got {len(value)}", path=source, field=field
            )
        return tuple(
            coerce(item, item_type, field=f"{field}[{index}]", source=source)
            for index, (item, item_type) in enumerate(zip(value, args, strict=True))
        )
    item_type = args[0] if args else Any
    return [
        coerce(item, item_type, field=f"{field}[{index}]", source=source)
        for index, item in enumerate(value)
    ]


def _coerce_bool(value: Any, field: str, source: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise InputError(f"expected true/false, got {value!r}", path=source, field=field)


def _coerce_int(value: Any, field: str, source: str) -> int:
    if isinstance(value, bool):
        raise InputError(f"expected an integer, got {value!r}", path=source, field=field)
    try:
        number = float(value)
    except (TypeError, ValueError) as error:
        raise InputError(f"expected an integer, got {value!r}", path=source, field=field) from error
    if not math.isfinite(number) or number != int(number):
        raise InputError(f"expected an integer, got {value!r}", path=source, field=field)
    return int(number)


def _coerce_float(value: Any, field: str, source: str) -> float:
    if isinstance(value, bool):
        raise InputError(f"expected a number, got {value!r}", path=source, field=field)
    try:
        return float(value)
    except (TypeError, ValueError) as error:
        raise InputError(f"expected a number, got {value!r}", path=source, field=field) from error


def _describe(annotation: Any) -> str:
    if isinstance(annotation, tuple):
        return " or ".join(_describe(arg) for arg in annotation)
    if annotation is type(None):
        return "null"
    return getattr(annotation, "__name__", str(annotation))


def check_registered(config: Any, *, source: str = "<dict>", prefix: str = "") -> None:
    """Check every :func:`registered` field of ``config`` (recursively) names a registered part.

    Raises:
        InputError: The first unregistered name, naming the field and listing the registered
            names of that kind.
    """
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        dotted = f"{prefix}{f.name}"
        kind = f.metadata.get(REGISTRY_METADATA)
        if kind is not None:
            names = value if isinstance(value, list | tuple) else [value]
            for name in names:
                if name is not None:
                    _check_one(kind, name, dotted, source)
        elif dataclasses.is_dataclass(value) and not isinstance(value, type):
            check_registered(value, source=source, prefix=f"{dotted}.")


def _check_one(kind: str, name: Any, field: str, source: str) -> None:
    from hvg_core.registry import get_registry

    known = get_registry().names(kind)
    if name not in known:
        raise InputError(
            f"{name!r} is not a registered {kind.removesuffix('s').replace('_', ' ')}; "
            f"registered: {', '.join(known) or '(none)'}",
            path=source,
            field=field,
        )


__all__ = [
    "REGISTRY_METADATA",
    "VERSION_KEY",
    "Config",
    "check_registered",
    "coerce",
    "config_as_dict",
    "merge_into",
    "parse_overrides",
    "registered",
]
