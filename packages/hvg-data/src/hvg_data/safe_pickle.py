"""Restricted unpickling of untrusted dataset files (SMPL-X fits, camera scales).

Dataset pickles come from the internet; ``pickle.load`` would run any code they name. The
unpickler here resolves only the globals needed to rebuild plain containers and numpy arrays,
so a crafted file fails with :class:`hvg_core.errors.InputError` instead of executing.
"""

from __future__ import annotations

import io
import pickle
from os import PathLike
from pathlib import Path
from typing import Any

from hvg_core.errors import InputError

#: (module, name) pairs a pickle may reference. numpy moved ``core`` to ``_core`` in 2.0; files
#: written by either version name their own path.
ALLOWED_GLOBALS: frozenset[tuple[str, str]] = frozenset(
    {
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "scalar"),
        ("numpy.core.numeric", "_frombuffer"),
        ("numpy._core.numeric", "_frombuffer"),
        ("collections", "OrderedDict"),
        ("builtins", "dict"),
        ("builtins", "list"),
        ("builtins", "tuple"),
        ("builtins", "set"),
        ("builtins", "frozenset"),
        ("builtins", "complex"),
        ("builtins", "slice"),
        ("_codecs", "encode"),  # Python 2 pickles of numpy arrays store bytes through it
    }
)


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that only rebuilds numpy arrays and plain Python containers.

    Args:
        file: Binary file object.
        source: Name used in error messages.
    """

    def __init__(self, file: io.BufferedIOBase | io.BytesIO, *, source: str) -> None:
        # latin1 lets Python 2 pickles (many SMPL fits) decode numpy byte payloads.
        super().__init__(file, encoding="latin1")
        self._source = source

    def find_class(self, module: str, name: str) -> Any:
        """Resolve a global only if it is on the allow-list."""
        if (module, name) in ALLOWED_GLOBALS:
            return super().find_class(module, name)
        raise InputError(
            f"refusing to unpickle {module}.{name}: only numpy arrays and plain containers are "
            "allowed in dataset pickles",
            path=self._source,
        )

    def persistent_load(self, pid: Any) -> Any:
        """Reject persistent ids (torch's pickles use them for tensor storages)."""
        raise InputError(
            "refusing to unpickle a persistent id (e.g. a torch tensor storage); "
            "convert the file to numpy arrays",
            path=self._source,
        )


def load_pickle(path: str | PathLike[str]) -> Any:
    """Load a pickle file with :class:`RestrictedUnpickler`.

    Args:
        path: The pickle file.

    Returns:
        The unpickled object (dicts, lists, numbers, strings and numpy arrays only).

    Raises:
        InputError: Missing, truncated or unsafe file (file named).
    """
    file = Path(path)
    if not file.is_file():
        raise InputError("file not found", path=file)
    data = file.read_bytes()
    try:
        return RestrictedUnpickler(io.BytesIO(data), source=str(file)).load()
    except InputError:
        raise
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError) as error:
        raise InputError(f"corrupt or truncated pickle ({error})", path=file) from error
