"""``hvg-model generate`` then ``hvg-eval fvd`` as a user runs them: V views give V videos.

The paper computes FVD and FID-VID per view video (issue 17). Both console scripts run as
subprocesses from a temporary working directory with relative paths. The I3D weight file is a
random-weight file under the reference name (no weights can be downloaded here), so the run
needs ``--allow-unverified-weights``; what is checked is the sample count, not the value.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image

pytestmark = pytest.mark.integration


def _script(name: str) -> str:
    path = shutil.which(name, path=os.path.dirname(sys.executable))
    assert path is not None, name
    return path


def test_fvd_of_a_generate_output_counts_one_video_per_view(tmp_path):
    from hvg_eval.networks.i3d import InceptionI3d

    photo = np.full((48, 64, 3), 255, np.uint8)
    photo[6:22, 40:48] = (200, 30, 30)
    Image.fromarray(photo).save(tmp_path / "me.png")
    pose = np.zeros((3, 3, 4, 32, 32), np.float32)  # V=3 views, T=4 frames
    pose[:, :, :, 8:24, 12:20] = 0.6
    np.savez(tmp_path / "pose.npz", pose_maps=pose)
    env = {**os.environ, "HVG_PROGRESS": "0"}
    for out, seed in (("generated", "0"), ("other", "1")):
        generate = subprocess.run(
            [_script("hvg-model"), "generate", "--tiny", "--reference", "me.png",
             "--pose-maps", "pose.npz", "--steps", "1", "--seed", seed, "--out", out],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        assert generate.returncode == 0, generate.stderr[-2000:]
    (tmp_path / "w").mkdir()
    torch.manual_seed(0)
    torch.save(InceptionI3d().state_dict(), tmp_path / "w" / "i3d_pretrained_400.pt")
    fvd = subprocess.run(
        [_script("hvg-eval"), "fvd", "--real", "other", "--fake", "generated",
         "--weights-dir", "w", "--allow-unverified-weights", "--json"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert fvd.returncode == 0, fvd.stderr[-2000:]
    payload = json.loads(fvd.stdout)
    assert payload["conventions"]["samples"] == {"real": 3, "fake": 3}
    assert payload["value"] >= 0
