"""Inference pose input carries its PoseSpec; generate refuses maps made for another spec."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hvg_bonemap import DEFAULT_POSE_SPEC, PoseSpec
from PIL import Image

from hvg_model.pose_rendering import (
    load_pose_maps,
    load_pose_spec,
    motion_parameters,
    render_orbit_pose,
    save_pose_maps,
)


def test_rendered_maps_keep_their_spec_through_a_file(tmp_path: Path) -> None:
    spec = PoseSpec.for_signal("skeleton2d", crop_extent=2.0)
    pose = render_orbit_pose(motion_parameters("walk", 2), num_views=2, size=16, pose_signal=spec)
    assert pose.spec == spec and pose.pose_maps.shape == (1, 2, 2, 3, 16, 16)
    save_pose_maps(tmp_path / "pose.npz", pose)
    maps, rotations = load_pose_maps(tmp_path / "pose.npz")
    assert maps.shape == pose.pose_maps.shape and rotations is not None
    assert load_pose_spec(tmp_path / "pose.npz") == spec
    np.savez(tmp_path / "plain.npz", pose_maps=np.zeros((2, 2, 4, 16, 16), np.float32))
    assert load_pose_spec(tmp_path / "plain.npz") is None


@pytest.mark.integration
def test_generate_refuses_pose_maps_of_another_spec(tmp_path: Path) -> None:
    Image.fromarray(np.full((32, 32, 3), 128, np.uint8)).save(tmp_path / "ref.png")
    three = np.zeros((2, 2, 3, 32, 32), np.float32)  # a 3-channel signal for a bone-map network
    np.savez(tmp_path / "three.npz", pose_maps=three)
    wide = np.zeros((2, 2, 4, 32, 32), np.float32)
    spec = np.array(json.dumps(DEFAULT_POSE_SPEC.replace(depth_range=1.0).to_dict()))
    np.savez(tmp_path / "wide.npz", pose_maps=wide, pose_spec=spec)
    for name, field in [("three.npz", "pose_spec.channels"), ("wide.npz", "pose_spec.depth_range")]:
        result = subprocess.run(
            [
                *(sys.executable, "-m", "hvg_model.cli", "generate", "--tiny"),
                *("--reference", "ref.png", "--pose-maps", name, "--steps", "1", "--out", "out"),
            ],
            cwd=tmp_path,
            env={**os.environ, "HVG_PROGRESS": "0"},
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 2, result.stderr
        assert name in result.stderr and f"field '{field}'" in result.stderr, result.stderr
        assert "Traceback" not in result.stderr and not (tmp_path / "out").exists()
