"""Restricted unpickling of untrusted dataset files (SMPL-X fits, camera scales).

Dataset pickles come from the internet; ``pickle.load`` would run any code they name, and even a
numpy-only pickle can crash the process (a dtype whose pickled flags claim "holds objects" turns
raw bytes into object pointers) or allocate gigabytes (``numpy.ndarray((2**28,), 'f8')``).

:class:`RestrictedUnpickler` therefore never hands a pickle a real numpy or Python callable that
could do either. Every global a pickle may name (:data:`ALLOWED_GLOBALS`) resolves to a safe
stand-in of this module:

* the numpy array machinery (``_reconstruct``, ``_frombuffer``, ``scalar``, ``dtype``) is
  re-implemented here: arrays are rebuilt with ``numpy.frombuffer`` from the bytes stored in the
  file, so their total size is bounded by the file's size (plus :data:`MAX_PICKLE_BYTES` for the
  file itself); the constructors' own shape arguments are never allocated;
* dtypes are limited to plain numbers and strings (:data:`ALLOWED_DTYPE_KINDS`); the state a
  pickle attaches to a dtype is read for its byte order only, so object dtypes, structured dtypes
  and flag tricks are refused or ignored;
* known ndarray subclasses (:data:`NDARRAY_SUBCLASSES`, e.g. ``trimesh.caching.TrackedArray``,
  which every THuman2.0/2.1 ``smplx_param.pkl`` uses) are read as plain ``numpy.ndarray``
  without importing their package;
* plain containers (dict, list, tuple, set, OrderedDict) and ``complex`` are rebuilt with the
  builtins.

Anything else fails with :class:`hvg_core.errors.InputError` naming the file.
"""

from __future__ import annotations

import collections
import io
import math
import pickle
import struct
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np
from hvg_core.errors import InputError

#: Largest pickle file read at all (bytes). Arrays are rebuilt from the file's own bytes, so the
#: arrays of one file never hold more than the file's size.
MAX_PICKLE_BYTES = 256 * 1024 * 1024

#: Array dtype kinds a dataset pickle may hold: bool, signed/unsigned int, float, complex,
#: byte strings, unicode strings. Objects (``O``), structured/void (``V``) and datetimes are
#: refused.
ALLOWED_DTYPE_KINDS = frozenset("biufcSU")

#: Most dimensions an array may have.
MAX_NDIM = 32

#: ndarray subclasses found in real dataset pickles, read as plain ``numpy.ndarray``
#: (their classes are never imported). ``trimesh.caching.TrackedArray``: THuman2.0/2.1
#: ``smplx_param.pkl`` (protocol 3). ``numpy.matrix``: old (Python 2 era) fit pickles.
NDARRAY_SUBCLASSES: frozenset[tuple[str, str]] = frozenset(
    {
        ("numpy", "ndarray"),
        ("trimesh.caching", "TrackedArray"),
        ("numpy", "matrix"),
        ("numpy.matrixlib.defmatrix", "matrix"),
    }
)

_NUMPY_CORE = ("numpy.core.multiarray", "numpy._core.multiarray")
_NUMPY_NUMERIC = ("numpy.core.numeric", "numpy._core.numeric")
_CONTAINERS = {
    "dict": dict,
    "list": list,
    "tuple": tuple,
    "set": set,
    "frozenset": frozenset,
    "complex": complex,
}

#: Byte-string constructors, admitted only with a byte or latin1 text argument (never a size).
_BYTES_TYPES = {"bytes": bytes, "bytearray": bytearray}

#: (module, name) pairs a pickle may reference (``numpy.core`` is ``numpy._core`` since numpy 2;
#: ``__builtin__`` is Python 2's ``builtins``).
ALLOWED_GLOBALS: frozenset[tuple[str, str]] = frozenset(
    {
        *NDARRAY_SUBCLASSES,
        ("numpy", "dtype"),
        *((module, "_reconstruct") for module in _NUMPY_CORE),
        *((module, "scalar") for module in _NUMPY_CORE),
        *((module, "_frombuffer") for module in _NUMPY_NUMERIC),
        ("collections", "OrderedDict"),
        *(("builtins", name) for name in _CONTAINERS),
        *(("__builtin__", name) for name in _CONTAINERS),
        ("_codecs", "encode"),  # Python 3 writes bytes for protocol 2 through it
        *((module, name) for module in ("builtins", "__builtin__") for name in _BYTES_TYPES),
    }
)

_PICKLE_ERRORS = (
    pickle.UnpicklingError,
    struct.error,  # the Python unpickler's reading of a truncated binary argument
    EOFError,
    ValueError,
    TypeError,
    AttributeError,
    KeyError,
    IndexError,
    OverflowError,
    RecursionError,
    MemoryError,
)


class _Refused(pickle.UnpicklingError):
    """The pickle is well-formed but asks for something dataset pickles may not hold."""


class _ArrayClass:
    """Stand-in for ``numpy.ndarray`` and its known subclasses: only a marker, never called."""

    __slots__ = ("qualified_name",)

    def __init__(self, qualified_name: str) -> None:
        self.qualified_name = qualified_name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise _Refused(f"{self.qualified_name} may only appear as the class of a pickled array")

    def __setstate__(self, state: Any) -> None:
        raise _Refused("an array class cannot carry state")


class _PendingDtype:
    """A dtype named by a pickle; only its type string and byte order are ever used."""

    __slots__ = ("_built", "_byteorder", "_spec")

    def __init__(self, spec: str) -> None:
        self._spec = spec
        self._byteorder = "="
        self._built = False

    def __setstate__(self, state: Any) -> None:
        if self._built:
            raise _Refused("a dtype was given state twice")
        self._built = True
        # (version, byteorder, subarray, names, fields, elsize, alignment, flags): structured
        # and sub-array layouts are refused, the flags (where object tricks live) are ignored.
        if not isinstance(state, tuple) or len(state) < 2:
            raise _Refused("malformed dtype state")
        if any(part is not None for part in state[2:5]):
            raise _Refused("structured or sub-array dtypes are not allowed")
        if state[1] not in ("<", ">", "|", "="):
            raise _Refused(f"unknown byte order {state[1]!r} in a dtype")
        self._byteorder = state[1]

    def resolve(self) -> np.dtype:
        """The real dtype (native-endian check done by :func:`_checked_dtype`)."""
        dtype = _checked_dtype(self._spec)
        if self._byteorder in ("<", ">") and dtype.itemsize > 1 and dtype.kind != "S":
            dtype = dtype.newbyteorder(self._byteorder)
        return dtype


def _checked_dtype(spec: Any) -> np.dtype:
    if not isinstance(spec, str) or not 1 <= len(spec) <= 8 or not spec.isascii():
        raise _Refused(f"dtype spec {spec!r} is not a short type string")
    try:
        dtype = np.dtype(spec)
    except TypeError as error:
        raise _Refused(f"unknown dtype {spec!r}") from error
    if dtype.kind not in ALLOWED_DTYPE_KINDS or dtype.hasobject or dtype.fields is not None:
        raise _Refused(f"dtype {spec!r} is not allowed (only numbers and strings; no objects)")
    if dtype.itemsize == 0:
        raise _Refused(f"zero-size dtype {spec!r} is not allowed")
    return dtype


def _as_dtype(value: Any) -> np.dtype:
    if isinstance(value, _PendingDtype):
        return value.resolve()
    raise _Refused(f"expected a dtype, got {type(value).__name__}")


def _as_shape(value: Any) -> tuple[int, ...]:
    if isinstance(value, int) and not isinstance(value, bool):
        value = (value,)
    if (
        not isinstance(value, tuple)
        or len(value) > MAX_NDIM
        or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in value)
    ):
        raise _Refused(f"malformed array shape {value!r}")
    return value


def _as_bytes(value: Any) -> bytes | bytearray:
    if isinstance(value, (bytes, bytearray)):
        return value
    if isinstance(value, str):  # Python 2 str loaded with encoding="latin1"
        try:
            return value.encode("latin1")
        except UnicodeEncodeError as error:
            raise _Refused("array data is not a byte string") from error
    if isinstance(value, pickle.PickleBuffer):
        return bytes(value.raw())
    raise _Refused(f"array data must be bytes, got {type(value).__name__}")


class _PendingArray:
    """What ``_reconstruct`` returns; the pickle's BUILD state turns it into an array."""

    __slots__ = ("_loader", "array")

    def __init__(self, loader: RestrictedUnpickler) -> None:
        self._loader = loader
        self.array: np.ndarray | None = None

    def __setstate__(self, state: Any) -> None:
        if self.array is not None:
            raise _Refused("an array was given state twice")
        if not isinstance(state, tuple) or len(state) not in (4, 5):
            raise _Refused("malformed array state")
        shape, dtype, fortran, data = state[-4:]
        order = "F" if fortran is True or fortran == 1 else "C"
        self.array = self._loader.build_array(data, _as_dtype(dtype), _as_shape(shape), order)


class RestrictedUnpickler(pickle._Unpickler):
    """An unpickler that only rebuilds numpy arrays and plain Python containers.

    It extends Python's own (pure-Python) unpickler rather than the C one: the C unpickler sizes
    its memo table from the indices a file names (``LONG_BINPUT 4294967295`` in a 10-byte file
    makes it allocate and clear 64 GiB), the Python one keeps the memo in a dict. Dataset pickles
    are small or hold their bulk in a few large byte strings, so the speed difference does not
    matter.

    Args:
        file: Binary file object.
        source: Name used in error messages.
        budget: Most array bytes the whole load may create (default: the data's size).
    """

    def __init__(
        self, file: io.BufferedIOBase | io.BytesIO, *, source: str, budget: int | None = None
    ) -> None:
        # latin1 lets Python 2 pickles (many SMPL fits) decode numpy byte payloads.
        super().__init__(file, encoding="latin1")
        self._source = source
        self._budget = MAX_PICKLE_BYTES if budget is None else budget
        numpy_core = {
            "_reconstruct": self._reconstruct,
            "scalar": self._scalar,
        }
        self._globals: dict[tuple[str, str], Any] = {}
        for module, name in ALLOWED_GLOBALS:
            if (module, name) in NDARRAY_SUBCLASSES:
                self._globals[module, name] = _ArrayClass(f"{module}.{name}")
            elif module in _NUMPY_CORE:
                self._globals[module, name] = numpy_core[name]
            elif module in _NUMPY_NUMERIC:
                self._globals[module, name] = self._frombuffer
            elif (module, name) == ("numpy", "dtype"):
                self._globals[module, name] = self._dtype
            elif (module, name) == ("collections", "OrderedDict"):
                self._globals[module, name] = self._ordered_dict
            elif (module, name) == ("_codecs", "encode"):
                self._globals[module, name] = self._latin1_encode
            elif name in _BYTES_TYPES:
                self._globals[module, name] = self._bytes if name == "bytes" else self._bytearray
            else:
                self._globals[module, name] = _CONTAINERS[name]

    def find_class(self, module: str, name: str) -> Any:
        """Resolve a global to its safe stand-in, if it is on the allow-list."""
        try:
            return self._globals[module, name]
        except KeyError:
            raise InputError(
                f"refusing to unpickle {module}.{name}: only numpy arrays and plain containers "
                "are allowed in dataset pickles",
                path=self._source,
            ) from None

    def persistent_load(self, pid: Any) -> Any:
        """Reject persistent ids (torch's pickles use them for tensor storages)."""
        raise InputError(
            "refusing to unpickle a persistent id (e.g. a torch tensor storage); "
            "convert the file to numpy arrays",
            path=self._source,
        )

    # Stand-ins. They are bound methods, so a pickle cannot set attributes on them.

    def build_array(
        self, data: Any, dtype: np.dtype, shape: tuple[int, ...], order: str
    ) -> np.ndarray:
        """An array copied from ``data``, whose size must match ``shape`` and ``dtype`` exactly."""
        raw = _as_bytes(data)
        count = math.prod(shape)
        if count * dtype.itemsize != len(raw):
            raise _Refused(
                f"array data holds {len(raw)} bytes, shape {shape} of {dtype} needs "
                f"{count * dtype.itemsize}"
            )
        self._spend(len(raw))
        flat = np.frombuffer(raw, dtype=dtype, count=count)
        array = flat.reshape(shape, order=order).astype(dtype.newbyteorder("="), copy=True)
        return array

    def _spend(self, nbytes: int) -> None:
        if nbytes > self._budget:
            raise InputError(
                "the arrays in this pickle would need more memory than the file's own size "
                f"(limit {MAX_PICKLE_BYTES} bytes); it is not a plain dataset pickle",
                path=self._source,
            )
        self._budget -= nbytes

    def _reconstruct(self, subtype: Any, shape: Any = (0,), code: Any = b"b") -> _PendingArray:
        if not isinstance(subtype, _ArrayClass):
            raise _Refused("_reconstruct may only build numpy arrays")
        return _PendingArray(self)

    def _frombuffer(self, buffer: Any, dtype: Any, shape: Any, order: Any = "C") -> np.ndarray:
        if order not in ("C", "F"):
            raise _Refused(f"unknown array order {order!r}")
        return self.build_array(buffer, _as_dtype(dtype), _as_shape(shape), order)

    def _scalar(self, dtype: Any, data: Any = None) -> Any:
        resolved = _as_dtype(dtype)
        raw = _as_bytes(data)
        if len(raw) != resolved.itemsize:
            raise _Refused(f"scalar of {resolved} needs {resolved.itemsize} bytes, got {len(raw)}")
        self._spend(len(raw))
        return np.frombuffer(raw, dtype=resolved, count=1).astype(resolved.newbyteorder("="))[0]

    def _dtype(self, spec: Any, align: Any = False, copy: Any = True) -> _PendingDtype:
        _checked_dtype(spec)
        return _PendingDtype(spec)

    def _ordered_dict(self, *args: Any) -> collections.OrderedDict[Any, Any]:
        return collections.OrderedDict(*args)

    def _bytes(self, *args: Any) -> bytes:
        return bytes(self._byte_source(*args))

    def _bytearray(self, *args: Any) -> bytearray:
        return bytearray(self._byte_source(*args))

    def _byte_source(self, data: Any = b"", encoding: Any = "latin1") -> bytes | bytearray:
        # bytes(n) / bytearray(n) would allocate n bytes: only copies of stored data pass.
        if isinstance(data, (bytes, bytearray)):
            return data
        return self._latin1_encode(data, encoding)

    def _latin1_encode(self, text: Any, encoding: Any = "utf-8", errors: Any = "strict") -> bytes:
        if not isinstance(text, str) or encoding not in ("latin1", "latin-1", "iso-8859-1"):
            raise _Refused("_codecs.encode is only allowed for latin1 text")
        try:
            return text.encode("latin1")
        except UnicodeEncodeError as error:
            raise _Refused("text is not latin1") from error


def _finish(root: Any) -> Any:
    """Replace pending arrays/dtypes in the unpickled object graph by real numpy objects.

    Iterative (deep nesting cannot overflow the stack) and linear in the number of distinct
    objects (shared sub-objects are visited once).
    """
    done: dict[int, Any] = {}
    keep_alive: list[Any] = []

    def leaf(obj: Any) -> tuple[bool, Any]:
        if isinstance(obj, _PendingArray):
            if obj.array is None:
                raise _Refused("an array was never given its data")
            return True, obj.array
        if isinstance(obj, _PendingDtype):
            return True, obj.resolve()
        if isinstance(obj, _ArrayClass):
            raise _Refused("a bare array class is not data")
        if isinstance(obj, (list, dict, tuple, set, frozenset)):
            return False, None
        if isinstance(obj, (str, bytes, bytearray, int, float, complex, bool, type(None))):
            return True, obj
        if isinstance(obj, (np.ndarray, np.generic)):
            return True, obj
        raise _Refused(f"unexpected object of type {type(obj).__name__}")

    # Post-order traversal with an explicit stack: (object, children visited?).
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        obj, expanded = stack.pop()
        key = id(obj)
        if not expanded and key in done:
            continue
        is_leaf, value = leaf(obj)
        if is_leaf:
            done[key] = value
            keep_alive.append(obj)
            continue
        children = list(obj.items()) if isinstance(obj, dict) else list(obj)
        flat = [c for pair in children for c in pair] if isinstance(obj, dict) else children
        if not expanded:
            # A container can contain itself (memo); mark it before visiting the children.
            if isinstance(obj, (list, dict)):
                done[key] = obj
                keep_alive.append(obj)
            stack.append((obj, True))
            stack.extend((child, False) for child in flat if id(child) not in done)
            continue
        if isinstance(obj, list):
            obj[:] = [done[id(c)] for c in obj]
        elif isinstance(obj, dict):
            items = [(done[id(k)], done[id(v)]) for k, v in children]
            obj.clear()
            obj.update(items)
        else:
            if any(id(c) not in done for c in flat):
                raise _Refused("a tuple or set contains itself")
            rebuilt = [done[id(c)] for c in flat]
            done[key] = type(obj)(rebuilt) if isinstance(obj, (set, frozenset)) else tuple(rebuilt)
            keep_alive.append(obj)
    return done[id(root)]


def loads(data: bytes, *, source: str = "<bytes>") -> Any:
    """Unpickle ``data`` with :class:`RestrictedUnpickler` (see :func:`load_pickle`).

    Args:
        data: The pickle bytes.
        source: File name used in error messages.

    Raises:
        InputError: Truncated, corrupt or unsafe data (``source`` named).
    """
    if len(data) > MAX_PICKLE_BYTES:
        raise InputError(
            f"pickle is {len(data)} bytes, more than the {MAX_PICKLE_BYTES}-byte limit for "
            "dataset pickles",
            path=source,
        )
    try:
        unpickler = RestrictedUnpickler(io.BytesIO(data), source=source, budget=len(data))
        return _finish(unpickler.load())
    except InputError:
        raise
    except _Refused as error:
        raise InputError(
            f"refusing to unpickle: {error} (dataset pickles may hold only numpy arrays of "
            "numbers or strings and plain containers)",
            path=source,
        ) from error
    except _PICKLE_ERRORS as error:
        detail = (
            "the file ends before the pickle does"
            if isinstance(error, EOFError) or not str(error)
            else f"{type(error).__name__}: {error}"
        )
        raise InputError(
            f"corrupt or truncated pickle, or not a plain dataset pickle ({detail})", path=source
        ) from error


def load_pickle(path: str | PathLike[str]) -> Any:
    """Load a pickle file with :class:`RestrictedUnpickler`.

    Args:
        path: The pickle file.

    Returns:
        The unpickled object: dicts, lists, tuples, sets, numbers, strings, bytes, numpy arrays
        (known subclasses such as trimesh's ``TrackedArray`` become plain ``numpy.ndarray``),
        numpy scalars and dtypes.

    Raises:
        InputError: Missing, truncated, oversized or unsafe file (file named).
    """
    file = Path(path)
    if not file.is_file():
        raise InputError("file not found", path=file)
    size = file.stat().st_size
    if size > MAX_PICKLE_BYTES:
        raise InputError(
            f"pickle is {size} bytes, more than the {MAX_PICKLE_BYTES}-byte limit for dataset "
            "pickles",
            path=file,
        )
    return loads(file.read_bytes(), source=str(file))
