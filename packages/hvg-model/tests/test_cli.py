from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
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


def _script(name: str) -> str:
    return str(Path(sys.executable).with_name(name))


@pytest.mark.integration
def test_generate_aligns_a_user_photo_and_writes_one_video_per_view(tmp_path):
    from hvg_eval.inputs.discover import discover_videos

    from hvg_model.conditioning import reference_foreground_mask

    # A user photo: white background, the person (a red block) small and off-centre.
    photo = np.full((48, 64, 3), 255, np.uint8)
    photo[6:22, 40:48] = (200, 30, 30)
    Image.fromarray(photo).save(tmp_path / "me.png")
    # Pose maps whose first frame of view 0 shows the body at rows 8..24, columns 12..20.
    pose = np.zeros((2, 3, 4, 32, 32), np.float32)
    pose[:, :, :, 8:24, 12:20] = 0.6
    np.savez(tmp_path / "pose.npz", pose_maps=pose)
    env = {**os.environ, "HVG_PROGRESS": "0"}
    command = [_script("hvg-model"), "generate", "--tiny", "--reference", "me.png"]
    command += ["--pose-maps", "pose.npz", "--steps", "1", "--max-guidance", "2.0"]
    result = subprocess.run(
        [*command, "--out", "out"], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    out = tmp_path / "out"
    summary = json.loads((out / "summary.json").read_text())
    assert summary["frames_shape"] == [1, 2, 3, 3, 32, 32]
    assert summary["view_videos"] == "hvg-views.json" and summary["uncond"] == "reference_image"
    # The person was moved and scaled onto the first pose frame's box.
    aligned = np.asarray(Image.open(out / "reference_aligned.png"), np.float32) / 255
    mask = reference_foreground_mask(torch.from_numpy(aligned).permute(2, 0, 1)[None])[0]
    rows, cols = mask.any(-1).nonzero(), mask.any(-2).nonzero()
    box = (int(cols.min()), int(rows.min()), int(cols.max()) + 1, int(rows.max()) + 1)
    assert all(abs(a - b) <= 1 for a, b in zip(box, (12, 8, 20, 24), strict=True)), box
    # hvg-eval reads the output as V = 2 videos of T = 3 frames.
    items = discover_videos(out)
    assert [item.name for item in items] == ["view_00", "view_01"]
    assert all(item.read().shape[0] == 3 for item in items)
    assert (out / "view_00.mp4").is_file() and (out / "video_b0.mp4").is_file()

    # A photo with nobody in it is a user error naming the file.
    Image.fromarray(np.full((40, 40, 3), 255, np.uint8)).save(tmp_path / "empty.png")
    command[4] = "empty.png"
    result = subprocess.run(
        [*command, "--out", "out2"], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert result.returncode == 2, result.stderr
    assert "empty.png" in result.stderr and "no person found" in result.stderr


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
