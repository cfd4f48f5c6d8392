"""Look up hvg-bonemap's pluggable parts (backends, body models) by name.

With hvg-core installed the ``hvg`` registry is the only lookup, so a backend or body model a
third-party plugin registers is found like a built-in one. hvg-bonemap also works alone (torch,
numpy and pluggy only; CI installs it by itself): without hvg-core there is no registry and only
the built-ins of ``hvg_bonemap._hvg_plugin`` exist, read from the same table the plugin registers.
"""

from __future__ import annotations

import importlib
from typing import Any

_LABELS = {"bonemap_backends": "backend", "body_models": "body model"}


def _registry() -> Any | None:
    """hvg-core's process-wide registry, or ``None`` when hvg-core is not installed."""
    try:
        from hvg_core.registry import get_registry
    except ModuleNotFoundError as error:
        if error.name not in {"hvg_core", "hvg_core.registry"}:
            raise
        return None
    return get_registry()


def _builtin_table(kind: str) -> dict[str, tuple[str, dict[str, Any]]]:
    from hvg_bonemap import _hvg_plugin

    return {
        "bonemap_backends": _hvg_plugin.BONEMAP_BACKENDS,
        "body_models": _hvg_plugin.BODY_MODELS,
    }[kind]


def part_names(kind: str) -> list[str]:
    """Sorted names of ``kind`` (``"bonemap_backends"`` or ``"body_models"``)."""
    registry = _registry()
    return registry.names(kind) if registry is not None else sorted(_builtin_table(kind))


def load_part(kind: str, name: str, *, argument: str) -> Any:
    """The part registered as ``name`` under ``kind``.

    Args:
        kind: ``"bonemap_backends"`` or ``"body_models"``.
        name: Registry name.
        argument: The caller's argument name, for the error message.

    Raises:
        BoneMapInputError: Unknown name (a ``ValueError``), listing the available ones.
    """
    from hvg_bonemap._validation import BoneMapInputError

    registry = _registry()
    if registry is not None:
        if (kind, name) not in registry:
            raise BoneMapInputError(
                f"{argument}: unknown {_LABELS[kind]} {name!r}; "
                f"available: {registry.names(kind)} (`hvg plugins` lists where each comes from)"
            )
        return registry.load(kind, name)
    table = _builtin_table(kind)
    if name not in table:
        raise BoneMapInputError(
            f"{argument}: unknown {_LABELS[kind]} {name!r}; available: "
            f"{sorted(table)} (install hvg-core for plug-in parts)"
        )
    module_name, _, attribute = table[name][0].partition(":")
    return getattr(importlib.import_module(module_name), attribute)
