"""Byte-level details of real dataset files that fixtures reproduce (no third-party imports).

THuman2.0/2.1 ``smplx_param.pkl`` files are pickle protocol 3 dicts whose arrays are
``trimesh.caching.TrackedArray`` (an ndarray subclass), each written as
``numpy.core.multiarray._reconstruct(TrackedArray, (0,), b'b')`` plus the array state. Tests must
not need trimesh, so :class:`TrackedArray` here is a plain ndarray subclass, and
:func:`dumps_like_trimesh` rewrites the pickle's class reference to the name the real files carry
(protocol 3 names globals as text lines ``c<module>\\n<name>\\n`` and has no frame lengths, so the
rewrite is exact).
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import numpy as np

#: The class and array-rebuild references as written in the real archives (numpy 1.x era).
REAL_TRACKED_ARRAY_GLOBAL = b"ctrimesh.caching\nTrackedArray\n"
REAL_RECONSTRUCT_GLOBAL = b"cnumpy.core.multiarray\n_reconstruct\n"


class TrackedArray(np.ndarray):
    """Stand-in for ``trimesh.caching.TrackedArray`` (only its pickled name matters)."""


def tracked(array: Any) -> TrackedArray:
    """``array`` as a :class:`TrackedArray` view (like ``trimesh.caching.tracked_array``)."""
    return np.array(array, order="C", copy=True).view(TrackedArray)


def dumps_like_trimesh(obj: Any) -> bytes:
    """Pickle ``obj`` as the THuman SMPL-X archives do: protocol 3, ``TrackedArray`` arrays.

    Every :class:`TrackedArray` in ``obj`` is written as ``trimesh.caching.TrackedArray`` and
    rebuilt through ``numpy.core.multiarray._reconstruct`` (the numpy 1.x module path), byte for
    byte what ``pickle.dump(fit, f)`` wrote on Python 3 with trimesh installed.
    """
    data = pickle.dumps(obj, protocol=3)
    ours = f"c{TrackedArray.__module__}\n{TrackedArray.__qualname__}\n".encode()
    if ours not in data:
        raise ValueError("dumps_like_trimesh: the object holds no TrackedArray")
    data = data.replace(ours, REAL_TRACKED_ARRAY_GLOBAL)
    for numpy_2_path in (b"cnumpy._core.multiarray\n_reconstruct\n",):
        data = data.replace(numpy_2_path, REAL_RECONSTRUCT_GLOBAL)
    return data


def write_thuman_fit(path: Path, fit: dict[str, Any]) -> None:
    """Write a THuman ``smplx_param.pkl``: every array a TrackedArray, protocol 3."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(dumps_like_trimesh({key: tracked(value) for key, value in fit.items()}))
