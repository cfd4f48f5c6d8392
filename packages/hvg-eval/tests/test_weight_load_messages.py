"""A weight file that torch refuses gets HVG's one-line message, not torch's advice."""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
import torch
from hvg_core.errors import InputError

from hvg_eval.testing import write_frame_folders
from hvg_eval.weights.loading import read_state_dict

TORCH_ADVICE = ("weights_only", "file an issue", "Re-running", "will likely succeed")


def test_a_pickled_object_is_named_without_torchs_advice(tmp_path):
    path = tmp_path / "vgg.pth"
    torch.save({"options": argparse.Namespace(depth=3)}, path)
    with pytest.raises(InputError) as info:
        read_state_dict(path)
    message = str(info.value)
    assert "Python objects besides tensors (argparse.Namespace)" in message
    assert info.value.path == str(path) and "\n" not in message
    assert not [phrase for phrase in TORCH_ADVICE if phrase in message]


def test_garbage_bytes_get_a_short_reason(tmp_path):
    path = tmp_path / "vgg.pth"
    path.write_bytes(b"garbage bytes")
    with pytest.raises(InputError) as info:
        read_state_dict(path)
    message = str(info.value)
    assert "not a readable torch checkpoint (" in message and "\n" not in message
    assert not [phrase for phrase in TORCH_ADVICE if phrase in message]


def test_allow_unverified_weights_on_the_command_line(tmp_path):
    """The issue's case: `--allow-unverified-weights` with a file that is not plain tensors."""
    rng = np.random.default_rng(0)
    videos = rng.integers(0, 256, size=(1, 2, 16, 16, 3), dtype=np.uint8)
    write_frame_folders(tmp_path / "real", videos)
    write_frame_folders(tmp_path / "fake", videos)
    weights = tmp_path / "weights"
    weights.mkdir()
    for name in ("vgg16-397923af.pth", "vgg.pth"):
        torch.save({"options": argparse.Namespace(depth=3)}, weights / name)
    script = shutil.which("hvg-eval", path=os.path.dirname(sys.executable))
    assert script is not None
    env = {k: v for k, v in os.environ.items() if k != "HVG_DEBUG"}
    result = subprocess.run(
        [script, "lpips", "--real", "real", "--fake", "fake", "--weights-dir", "weights",
         "--allow-unverified-weights"],
        cwd=tmp_path, capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.stderr
    assert "Python objects besides tensors (argparse.Namespace)" in errors[0]
    assert not [phrase for phrase in TORCH_ADVICE if phrase in result.stderr]
