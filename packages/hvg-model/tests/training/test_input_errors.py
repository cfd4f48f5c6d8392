"""User mistakes found deep inside hvg-model exit 2 with one line naming the field, as users run it.

Each case runs the ``hvg-model`` console script as a subprocess from a temporary working
directory with relative paths and checks the real exit code and stderr.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest


def _one_line_error(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert "Traceback" not in stderr, stderr
    errors = [line for line in lines if "error" in line.lower()]
    assert len(errors) == 1, stderr
    return errors[0]


@pytest.mark.integration
def test_trainable_patterns_that_match_nothing_exit_2(tmp_path: Path, hvg_model_script) -> None:
    result = hvg_model_script(
        tmp_path,
        "train",
        "--config",
        "tiny",
        "--out",
        "run",
        "--max-steps",
        "1",
        "--set",
        "data.dataset=procedural",
        "--set",
        'model.trainable=["no_such_layer.*"]',
    )
    assert result.returncode == 2, result.stderr
    line = _one_line_error(result.stderr)
    assert "field 'model.trainable'" in line and "no parameter matches" in line


@pytest.mark.integration
def test_a_checkpoint_from_a_newer_hvg_model_exits_2(tmp_path: Path, hvg_model_script) -> None:
    from hvg_model.testing import build_tiny_hvg_dir

    model = build_tiny_hvg_dir(tmp_path / "model")
    config_path = model / "denoising_net" / "config.json"
    config = json.loads(config_path.read_text())
    config["hvg_config_version"] = 99
    config_path.write_text(json.dumps(config))
    Image = pytest.importorskip("PIL.Image")
    Image.new("RGB", (32, 32), "white").save(tmp_path / "ref.png")
    result = hvg_model_script(tmp_path, "generate", "--model", "model", "--reference", "ref.png")
    assert result.returncode == 2, result.stderr
    line = _one_line_error(result.stderr)
    assert "hvg_config_version" in line and "upgrade hvg-model" in line
