"""``hvg-model train`` refuses bad configs with exit code 2 and the field named, before any work."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def _train(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "hvg_model.cli", "train", *args],
        cwd=cwd,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.integration
@pytest.mark.parametrize(
    ("text", "field"),
    [
        (b'base = "tiny"\n# caf\xe9\n', "--config"),  # Latin-1, not UTF-8
        (b'base = "tiny"\n[optim]\nlrr = 1\n', "optim.lrr"),
        (b'base = "tiny"\n[bogus]\nx = 1\n', "bogus"),
    ],
)
def test_bad_config_files_exit_2_naming_the_field(tmp_path: Path, text: bytes, field: str) -> None:
    (tmp_path / "run.toml").write_bytes(text)
    result = _train(tmp_path, "--config", "run.toml", "--out", "run")
    assert result.returncode == 2, result.stderr
    assert "run.toml" in result.stderr and f"field '{field}'" in result.stderr
    assert "unexpected" not in result.stderr and not (tmp_path / "run").exists()


@pytest.mark.integration
@pytest.mark.parametrize(
    ("variant", "field"), [("nonsense", "model.variant"), ("body_normal", "data.smplx_model")]
)
def test_a_pose_variant_the_trainer_cannot_build_exits_2_up_front(
    tmp_path: Path, variant: str, field: str
) -> None:
    # body_normal trains only with the SMPL-X model folder (--smplx-model), said up front.
    result = _train(
        tmp_path, "--config", "tiny", "--out", "run", "--set", f"model.variant={variant}"
    )
    assert result.returncode == 2, result.stderr
    assert f"field '{field}'" in result.stderr and variant in result.stderr
    assert not (tmp_path / "run").exists()  # nothing rendered, no tiny SVD built
