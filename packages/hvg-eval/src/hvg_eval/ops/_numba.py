"""``numba.njit`` for the package's CPU kernels, cached on disk where a cache can be written.

numba caches compiled code beside the module, else in the user's cache directory, and raises
at import when neither is writable (a read-only install run by a user without a home, e.g. in
a container). Then the kernels are compiled in each process instead (~2 s), and a warning says
how to cache them. ``hvg_bonemap.renderers._numba`` is the same file (the two packages install
separately).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

from numba import njit

NO_CACHE_WARNING = (
    "numba cannot cache the compiled CPU kernels here (neither the package directory nor the "
    "user cache directory is writable): they are compiled again in every process (~2 s). "
    "Set NUMBA_CACHE_DIR to a writable directory to cache them."
)


def cpu_kernel(**options: Any) -> Callable[[Callable[..., Any]], Any]:
    """Decorator: ``njit(nogil=True, cache=True, **options)``, uncached where caching fails."""

    def decorate(function: Callable[..., Any]) -> Any:
        try:
            return njit(cache=True, nogil=True, **options)(function)
        except RuntimeError as error:
            if "no locator available" not in str(error):
                raise
            warnings.warn(NO_CACHE_WARNING, RuntimeWarning, stacklevel=2)
            return njit(nogil=True, **options)(function)

    return decorate
