"""Lazy package exports, so that importing a package (and its ``hvg`` plugin) stays cheap.

The registry imports every package's ``_hvg_plugin`` module, which first imports the package
itself; with eager re-exports in ``__init__`` that would pull torch into ``hvg-eval --help``.
Packages therefore declare their public names here and import them on first access (PEP 562)::

    from hvg_core.lazy import lazy_exports

    __getattr__, __dir__, __all__ = lazy_exports(
        __name__, {"build_sampler": "hvg_sampler.build", "Window": "hvg_sampler.windows"}
    )
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(
    package: str, exports: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]], list[str]]:
    """Module ``__getattr__``, ``__dir__`` and ``__all__`` for lazily imported public names.

    Args:
        package: The package's ``__name__``.
        exports: Public name -> module that defines it.

    Returns:
        ``(__getattr__, __dir__, __all__)`` to assign at module level.
    """
    names = sorted(exports)

    def __getattr__(name: str) -> Any:
        module_name = exports.get(name)
        if module_name is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module_name), name)
        importlib.import_module(package).__dict__[name] = value  # cache: next access is direct
        return value

    def __dir__() -> list[str]:
        return sorted(set(names) | set(importlib.import_module(package).__dict__))

    return __getattr__, __dir__, names
