from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from hvg_model.cli import cli


@pytest.fixture
def reference_png(tmp_path):
    path = tmp_path / "ref.png"
    Image.fromarray((np.random.default_rng(0).random((48, 64, 3)) * 255).astype(np.uint8)).save(
        path
    )
    return path


@pytest.mark.integration
def test_generate_tiny_writes_video_pngs_and_summary(tmp_path, reference_png):
    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli,
        [
            "generate",
            "--tiny",
            "--reference",
            str(reference_png),
            "--motion",
            "turn",
            "--frames",
            "2",
            "--views",
            "2",
            "--size",
            "32",
            "--steps",
            "1",
            "--max-guidance",
            "1.0",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["frames_shape"] == [1, 2, 2, 3, 32, 32]
    assert (out / "video_b0.mp4").stat().st_size > 0 and (out / "pose_b0.mp4").is_file()
    assert len(list((out / "frames" / "b0").glob("*.png"))) == 4


def test_generate_needs_exactly_one_model(reference_png):
    result = CliRunner().invoke(cli, ["generate", "--reference", str(reference_png)])
    assert result.exit_code == 2 and "exactly one of" in result.output


def test_params_prints_the_table():
    result = CliRunner().invoke(cli, ["params"])
    assert result.exit_code == 0 and "1,524,623,082" in result.output


@pytest.mark.integration
def test_console_script_exit_code_for_a_missing_model(tmp_path, reference_png):
    env = {**os.environ, "HVG_PROGRESS": "0"}
    process = subprocess.run(
        [
            sys.executable,
            "-m",
            "hvg_model.cli",
            "generate",
            "--model",
            str(tmp_path / "none"),
            "--reference",
            str(reference_png),
        ],
        capture_output=True,
        text=True,
        env=env,
    )
    assert process.returncode == 2
    assert "no HVG checkpoint model directory" in process.stderr
    assert "Traceback" not in process.stderr


def test_help_does_not_import_torch():
    code = "import sys; from hvg_model.cli import cli; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True)
