"""HVG core: the ``hvg`` plugin registry, hook specifications and shared CLI helpers."""

from hvg_core.errors import (
    DuplicateRegistrationError,
    HVGError,
    InputError,
    MissingResourceError,
    RegistryError,
    UnknownPartError,
)
from hvg_core.hookspecs import hookimpl, hookspec
from hvg_core.registry import Entry, Registry, get_registry

__all__ = [
    "DuplicateRegistrationError",
    "Entry",
    "HVGError",
    "InputError",
    "MissingResourceError",
    "Registry",
    "RegistryError",
    "UnknownPartError",
    "get_registry",
    "hookimpl",
    "hookspec",
]
