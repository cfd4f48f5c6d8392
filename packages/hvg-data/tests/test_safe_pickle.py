"""The restricted unpickler: real files load, crafted files neither execute, crash nor balloon."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import textwrap
import tracemalloc

import numpy as np
import pytest
from hvg_core.errors import InputError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from hvg_data import safe_pickle
from hvg_data.safe_pickle import load_pickle, loads
from hvg_data.testing.real_formats import TrackedArray, dumps_like_trimesh, tracked


class _Reduce:
    """Pickles as ``function(*args)`` (how a crafted file calls anything it names)."""

    def __init__(self, function, *args, state=None) -> None:
        self.function, self.args, self.state = function, args, state

    def __reduce__(self):
        if self.state is None:
            return (self.function, self.args)
        return (self.function, self.args, self.state)


def _crafted_dtype(spec: str, flags: int) -> _Reduce:
    """A pickled ``numpy.dtype(spec)`` whose state carries ``flags`` (numpy trusts them)."""
    return _Reduce(np.dtype, spec, False, True, state=(3, "<", None, None, None, -1, -1, flags))


def _crafted_array(shape, dtype, data: bytes) -> _Reduce:
    """A pickled ndarray rebuilt from raw ``data`` via ``_reconstruct`` + ``__setstate__``."""
    reconstruct = np.zeros(1).__reduce__()[0]
    return _Reduce(reconstruct, np.ndarray, (0,), b"b", state=(1, shape, dtype, False, data))


def test_numpy_dict_round_trips(tmp_path):
    data = {
        "betas": np.arange(10, dtype=np.float32)[None],
        "scale": np.array([0.5]),
        "nested": [1, 2.5, "x", (3, 4)],
        "big_endian": np.arange(4, dtype=">f8"),
        "fortran": np.asfortranarray(np.arange(6, dtype=np.int64).reshape(2, 3)),
        "names": np.array(["male", "female"]),
        "flag": np.array([True, False]),
        "scalar": np.float32(0.25),
        "dtype": np.dtype("<i4"),
    }
    path = tmp_path / "fit.pkl"
    for protocol in (0, 2, 3, 4, 5):
        path.write_bytes(pickle.dumps(data, protocol=protocol))
        loaded = load_pickle(path)
        for key in ("betas", "scale", "big_endian", "fortran", "names", "flag"):
            np.testing.assert_array_equal(loaded[key], data[key])
            assert type(loaded[key]) is np.ndarray
        assert loaded["nested"] == data["nested"]
        assert loaded["scalar"] == data["scalar"] and loaded["dtype"] == data["dtype"]


def _python2_str(data: bytes) -> str:
    """Python 2's repr of a byte string, as protocol 0 writes it."""
    printable = {c for c in range(32, 127)} - {ord("\\"), ord("'")}
    return "'" + "".join(chr(c) if c in printable else f"\\x{c:02x}" for c in data) + "'"


def test_python2_protocol0_numpy_pickle_loads():
    # What numpy 1.x on Python 2 wrote (old SMPL-era fits): text opcodes, the array bytes as an
    # escaped str, read back with encoding="latin1".
    values = np.array([0.5, -1.25, 3.0], dtype="<f8")
    text = (
        "cnumpy.core.multiarray\n_reconstruct\np0\n(cnumpy\nndarray\np1\n(I0\ntp2\nS'b'\n"
        "p3\ntp4\nRp5\n(I1\n(I3\ntp6\ncnumpy\ndtype\np7\n(S'f8'\np8\nI0\nI1\ntp9\nRp10\n"
        "(I3\nS'<'\np11\nNNNI-1\nI-1\nI0\ntp12\nbI00\nS" + _python2_str(values.tobytes()) +
        "\np13\ntp14\nb."
    )  # fmt: skip
    loaded = loads(text.encode("latin1"))
    assert type(loaded) is np.ndarray
    np.testing.assert_array_equal(loaded, values)


def test_thuman_trackedarray_pickle_loads_as_plain_arrays(tmp_path):
    fit = {"scale": tracked(np.float32(0.45)), "translation": tracked(np.zeros(3, np.float32))}
    data = dumps_like_trimesh(fit)
    assert data.startswith(b"\x80\x03")  # protocol 3, as the real archive
    assert b"ctrimesh.caching\nTrackedArray\n" in data
    assert b"cnumpy.core.multiarray\n_reconstruct\n" in data
    loaded = loads(data)
    assert type(loaded["scale"]) is np.ndarray and loaded["scale"].shape == ()
    assert float(loaded["scale"]) == pytest.approx(0.45)
    assert loaded["translation"].shape == (3,)


def test_loading_never_imports_trimesh(tmp_path):
    path = tmp_path / "smplx_param.pkl"
    path.write_bytes(dumps_like_trimesh({"betas": tracked(np.ones((1, 10), np.float32))}))
    code = (
        "import sys\nfrom hvg_data.safe_pickle import load_pickle\n"
        f"print(load_pickle({str(path)!r})['betas'].sum())\n"
        "assert 'trimesh' not in sys.modules\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "10.0"


def test_malicious_reduce_does_not_execute(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps({"betas": _Reduce(os.system, f"touch {marker}")}))
    with pytest.raises(InputError, match=r"evil\.pkl.*refusing to unpickle posix\.system"):
        load_pickle(path)
    assert not marker.exists()


@pytest.mark.parametrize(
    ("payload", "refused"),
    [
        (b"cbuiltins\neval\n(S'1+1'\ntR.", "builtins.eval"),
        (b"cbuiltins\ngetattr\n(cbuiltins\nobject\nS'__subclasses__'\ntR.", "builtins.getattr"),
        (b"c__builtin__\ngetattr\n(c__builtin__\ndict\nS'get'\ntR.", "__builtin__.getattr"),
        (b"cnumpy\nload\n(S'/etc/passwd'\ntR.", "numpy.load"),
        (b"cnumpy.testing._private.utils\nrunstring\n(S'1'\n(dtR.", "numpy.testing"),
        (b"cnumpy.lib.npyio\nload\n(S'x.npy'\ntR.", "numpy.lib.npyio.load"),
        (b"cnumpy\nfromfile\n(S'/dev/zero'\ntR.", "numpy.fromfile"),
        (b"cos\nsystem\n(S'true'\ntR.", "os.system"),
        (b"ccopyreg\n_reconstructor\n(cbuiltins\nobject\ntR.", "copyreg._reconstructor"),
        (b"ctorch._utils\n_rebuild_tensor_v2\n(tR.", "torch._utils"),
    ],
)
def test_gadgets_are_refused(payload, refused):
    with pytest.raises(InputError, match=f"refusing to unpickle {refused}"):
        loads(payload, source="evil.pkl")


def test_stack_global_gadget_is_refused():
    data = pickle.dumps(_Reduce(np.load, "/etc/passwd"), protocol=4)
    with pytest.raises(InputError, match=r"refusing to unpickle numpy\.load"):
        loads(data)


@pytest.mark.parametrize(
    "payload",
    [
        # numpy.ndarray((2**28,), 'f8'): 2 GiB uninitialised, accepted by a naive allow-list.
        b"cnumpy\nndarray\n((I268435456\ntS'f8'\ntR.",
        # The subclass stand-in is not callable either.
        b"ctrimesh.caching\nTrackedArray\n((I268435456\ntS'f8'\ntR.",
        # _reconstruct's own shape argument is never allocated; no state -> refused.
        b"cnumpy.core.multiarray\n_reconstruct\n(cnumpy\nndarray\n(I268435456\ntS'f8'\ntR.",
        # bytes(n) / bytearray(n) allocate n bytes.
        b"cbuiltins\nbytes\n(I268435456\ntR.",
        b"c__builtin__\nbytearray\n(I268435456\ntR.",
        # _codecs.encode with an expanding bytes codec.
        b"c_codecs\nencode\n(S'aaaa'\nS'hex'\ntR.",
    ],
)
def test_balloons_are_refused_without_allocating(payload):
    tracemalloc.start()
    try:
        with pytest.raises(InputError):
            loads(payload, source="balloon.pkl")
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 16 * 2**20


@pytest.mark.parametrize(
    "payload",
    [
        b"\x80\x02]r\xff\xff\xff\xff.",  # LONG_BINPUT 2**32-1: a 32 GiB memo table
        b"\x80\x02]p4000000000\n.",  # PUT with a text index
        b"\x80\x04\x95\xff\xff\xff\xff\xff\x00\x00\x00N.",  # FRAME of 1 TiB
    ],
)
def test_opcode_arguments_cannot_size_the_unpickler(payload):
    # The C unpickler would allocate a memo table as large as the index; this one must not.
    tracemalloc.start()
    try:
        try:
            loads(payload)
        except InputError as error:
            assert "corrupt or truncated" in str(error)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 16 * 2**20


def test_array_sizes_are_bounded_by_the_file():
    blob = b"\0" * 2**16
    arrays = [_crafted_array((2**13,), np.dtype("f8"), blob) for _ in range(4)]
    # One 64 KiB byte string, memoised once and reused as the data of many arrays.
    data = pickle.dumps([blob, *arrays] * 64, protocol=3)
    assert len(data) < 2**17
    with pytest.raises(InputError, match="more memory than the file"):
        loads(data, source="memo.pkl")


def test_shape_must_match_the_stored_bytes():
    data = pickle.dumps(_crafted_array((2**28,), np.dtype("f8"), b"\0" * 8), protocol=3)
    with pytest.raises(InputError, match="array data holds 8 bytes"):
        loads(data)


def test_oversized_file_is_refused_before_reading(tmp_path, monkeypatch):
    monkeypatch.setattr(safe_pickle, "MAX_PICKLE_BYTES", 1000)
    path = tmp_path / "huge.pkl"
    path.write_bytes(pickle.dumps(np.zeros(1000)))
    with pytest.raises(InputError, match=r"huge\.pkl: pickle is \d+ bytes, more than"):
        load_pickle(path)


@pytest.mark.parametrize(
    "obj",
    [
        np.array([1, "a", None], dtype=object),
        np.zeros(2, dtype=[("a", "f4"), ("b", "O")]),
        np.zeros(2, dtype=[("a", "f4"), ("b", "i4")]),
        np.zeros(2, dtype="V8"),
        np.zeros(2, dtype="M8[s]"),
        np.zeros(2, dtype="m8[s]"),
    ],
)
def test_object_structured_and_odd_dtypes_are_refused(obj):
    for protocol in (2, 3, 5):
        with pytest.raises(InputError):
            loads(pickle.dumps(obj, protocol=protocol))


# The crash of issue 18: a numpy-only pickle whose dtype state claims "holds objects" makes
# numpy read raw bytes as object pointers. Run in a child so a regression cannot take the test
# process down; the child must exit 0 having loaded a float array or refused the file.
_FLAG_TRICK_CHILD = textwrap.dedent(
    """
    import sys
    import numpy as np
    from hvg_core.errors import InputError
    from hvg_data.safe_pickle import loads
    data = open(sys.argv[1], "rb").read()
    try:
        value = loads(data)
    except InputError as error:
        print("refused", error)
    else:
        assert value.dtype == np.float64 and not value.dtype.hasobject, value.dtype
        assert value.tobytes() == b"A" * 16
        repr(value), value.copy(), value.sum()
        print("loaded", value.dtype)
    """
)


@pytest.mark.parametrize(
    ("spec", "flags"), [("f8", 0x3F), ("f8", 0x01), ("f8", 0xFF), ("V8", 0x3F)]
)
def test_dtype_flag_trick_cannot_crash(tmp_path, spec, flags):
    path = tmp_path / "trick.pkl"
    dtype = _crafted_dtype(spec, flags)
    path.write_bytes(pickle.dumps(_crafted_array((2,), dtype, b"A" * 16), protocol=3))
    child = subprocess.run(
        [sys.executable, "-c", _FLAG_TRICK_CHILD, str(path)], capture_output=True, text=True
    )
    assert child.returncode == 0, (child.returncode, child.stderr[-2000:])
    assert child.stdout.startswith(("refused", "loaded float64"))


def test_structured_state_on_a_plain_dtype_is_refused():
    dtype = _Reduce(np.dtype, "f8", False, True, state=(3, "|", None, ("a",), {}, 8, 1, 0x3F))
    with pytest.raises(InputError, match="structured"):
        loads(pickle.dumps(_crafted_array((2,), dtype, b"A" * 16), protocol=3))


def test_persistent_ids_are_refused():
    class _TorchLike(pickle.Pickler):
        def persistent_id(self, obj):
            return ("storage", "0") if isinstance(obj, bytes) else None

    import io

    buffer = io.BytesIO()
    _TorchLike(buffer, protocol=2).dump({"w": b"x"})
    with pytest.raises(InputError, match="persistent id"):
        loads(buffer.getvalue())


def test_deep_nesting_and_self_reference():
    nested: list = []
    for _ in range(50_000):
        nested = [nested]
    data = pickle.dumps(nested, protocol=4) if sys.getrecursionlimit() > 10**5 else None
    if data is None:  # the pickler itself recurses; write the opcodes directly
        data = b"\x80\x04" + b"]" * 50_000 + b"a" * 49_999 + b"."
    result = loads(data)
    depth = 0
    while result:
        result, depth = result[0], depth + 1
    assert depth == 49_999
    loop: list = [np.zeros(2)]
    loop.append(loop)
    loaded = loads(pickle.dumps(loop, protocol=3))
    assert loaded[1] is loaded and type(loaded[0]) is np.ndarray


def test_truncated_pickle_names_the_file(tmp_path):
    path = tmp_path / "smplx_param.pkl"
    full = dumps_like_trimesh({"betas": tracked(np.zeros((1, 10), np.float32))})
    path.write_bytes(full[: len(full) // 2])
    with pytest.raises(InputError, match=r"smplx_param\.pkl: corrupt or truncated"):
        load_pickle(path)


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        load_pickle(tmp_path / "nope.pkl")


# Fuzzing. Valid pickles of random numpy data must round-trip exactly; mutated pickles must load
# or raise InputError, never anything else and never crash (they run in a child process).

_DTYPES = st.sampled_from(["<f4", ">f8", "<i2", "u1", "?", "<c8", "<U3", "S2", "<i8", "f2"])
_ARRAYS = _DTYPES.flatmap(
    lambda dtype: hnp.arrays(np.dtype(dtype), hnp.array_shapes(min_dims=0, max_dims=3, max_side=4))
)
_LEAVES = st.one_of(
    _ARRAYS,
    _ARRAYS.map(tracked),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False),
    st.text(max_size=5),
    st.binary(max_size=5),
    st.binary(max_size=5).map(bytearray),
    st.none(),
    st.booleans(),
)
_VALUES = st.recursive(
    _LEAVES,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.text(max_size=4), children, max_size=4),
        st.lists(children, max_size=3).map(tuple),
    ),
    max_leaves=10,
)


def _assert_same(loaded, original):
    if isinstance(original, np.ndarray):
        assert type(loaded) is np.ndarray
        assert loaded.shape == original.shape and loaded.dtype == original.dtype.newbyteorder("=")
        np.testing.assert_array_equal(loaded, np.asarray(original))
    elif isinstance(original, (list, tuple)):
        assert type(loaded) is type(original) and len(loaded) == len(original)
        for a, b in zip(loaded, original):
            _assert_same(a, b)
    elif isinstance(original, dict):
        assert loaded.keys() == original.keys()
        for key in original:
            _assert_same(loaded[key], original[key])
    else:
        assert loaded == original and type(loaded) is type(original)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=_VALUES, protocol=st.sampled_from([2, 3, 4, 5]))
def test_fuzz_random_numpy_values_round_trip(value, protocol):
    data = pickle.dumps(value, protocol=protocol)
    if f"{TrackedArray.__module__}".encode() in data:
        # Our stand-in class is not on the allow-list under its own name ...
        with pytest.raises(InputError, match=r"refusing to unpickle hvg_data\.testing"):
            loads(data)
        # ... but written as the real archives write it, it loads as a plain array.
        data = dumps_like_trimesh(value)
    _assert_same(loads(data), value)


_MUTATION_CHILD = textwrap.dedent(
    """
    import json, pickle, random, sys
    import numpy as np
    from hvg_core.errors import InputError
    from hvg_data.safe_pickle import loads
    seeds = json.loads(sys.argv[1])
    bases = [
        pickle.dumps({"betas": np.arange(10, dtype="f4")[None], "s": np.float64(2)}, protocol=p)
        for p in (2, 3, 4, 5)
    ] + [pickle.dumps([np.zeros((2, 3), ">i4"), ("a", b"b", 1.5)], protocol=3)]
    outcomes = {"loaded": 0, "refused": 0}
    for seed in seeds:
        rng = random.Random(seed)
        data = bytearray(rng.choice(bases))
        for _ in range(rng.randint(1, 4)):
            if not data:
                break
            kind = rng.random()
            at = rng.randrange(len(data))
            if kind < 0.5:
                data[at] = rng.randrange(256)
            elif kind < 0.7:
                del data[at:at + rng.randint(1, 8)]
            elif kind < 0.9:
                data[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
            else:
                data = data[:at]
        try:
            loads(bytes(data))
            outcomes["loaded"] += 1
        except InputError:
            outcomes["refused"] += 1
        except BaseException as error:
            print("SEED", seed, type(error).__name__, error)
            sys.exit(1)
    print(json.dumps(outcomes))
    """
)


def test_fuzz_mutated_pickles_never_crash():
    seeds = list(range(3000))
    child = subprocess.run(
        [sys.executable, "-c", _MUTATION_CHILD, json.dumps(seeds)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert child.returncode == 0, (child.returncode, child.stdout[-2000:], child.stderr[-2000:])
    outcomes = json.loads(child.stdout.strip().splitlines()[-1])
    assert outcomes["refused"] > 100 and sum(outcomes.values()) == len(seeds)
