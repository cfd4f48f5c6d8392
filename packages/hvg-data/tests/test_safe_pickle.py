from __future__ import annotations

import os
import pickle

import numpy as np
import pytest
from hvg_core.errors import InputError

from hvg_data.safe_pickle import load_pickle


class _Exploit:
    def __init__(self, target: str) -> None:
        self.target = target

    def __reduce__(self):
        return (os.system, (f"touch {self.target}",))


def test_numpy_dict_round_trips(tmp_path):
    data = {
        "betas": np.arange(10, dtype=np.float32)[None],
        "scale": np.array([0.5]),
        "nested": [1, 2.5, "x", (3, 4)],
    }
    path = tmp_path / "fit.pkl"
    for protocol in (2, 4, 5):
        path.write_bytes(pickle.dumps(data, protocol=protocol))
        loaded = load_pickle(path)
        np.testing.assert_array_equal(loaded["betas"], data["betas"])
        assert loaded["nested"] == data["nested"]


def test_malicious_pickle_does_not_execute(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps({"betas": _Exploit(str(marker))}))
    with pytest.raises(InputError, match=r"evil\.pkl.*refusing to unpickle posix\.system"):
        load_pickle(path)
    assert not marker.exists()


def test_builtin_eval_is_refused(tmp_path):
    path = tmp_path / "evil.pkl"
    # GLOBAL builtins.eval + a string argument, hand-assembled like a crafted file would be.
    path.write_bytes(b"cbuiltins\neval\n(S'1+1'\ntR.")
    with pytest.raises(InputError, match=r"builtins\.eval"):
        load_pickle(path)


def test_truncated_pickle_names_the_file(tmp_path):
    path = tmp_path / "smplx_param.pkl"
    full = pickle.dumps({"betas": np.zeros((1, 10))}, protocol=2)
    path.write_bytes(full[: len(full) // 2])
    with pytest.raises(InputError, match=r"smplx_param\.pkl: corrupt or truncated"):
        load_pickle(path)


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        load_pickle(tmp_path / "nope.pkl")
