from __future__ import annotations

import numpy as np
import pytest
import torch
from hvg_core.errors import InputError

from hvg_model.pose_rendering import load_pose_maps, motion_parameters, render_orbit_pose


def test_orbit_pose_maps_are_pelvis_centred_in_every_view():
    from hvg_bonemap import joints_from_smplx_params

    params = motion_parameters("walk", 2)
    pose = render_orbit_pose(params, num_views=4, size=32)
    assert pose.pose_maps.shape == (1, 4, 2, 4, 32, 32)
    assert pose.rotations.shape == (1, 4, 3, 3)
    assert pose.pose_maps.min() >= 0 and pose.pose_maps.max() <= 1
    # The training crop rule (hvg_data.crop): the pelvis projected and averaged over the frames
    # lands at the centre, and the crop is 2.2 m wide at the mean pelvis depth.
    pelvis = joints_from_smplx_params(params)[:, 0]  # (T, 3)
    uv, depth = pose.cameras.project(pelvis.expand(4, 2, 3))
    torch.testing.assert_close(uv.mean(1), torch.full((4, 2), 16.0), atol=1e-3, rtol=0)
    focal = pose.cameras.K[:, 0, 0]
    torch.testing.assert_close(
        focal * 2.2 / depth.mean(1), torch.full((4,), 32.0), rtol=1e-4, atol=0
    )


def test_inference_crop_extent_is_the_training_one():
    from hvg_data.config import RenderConfig

    from hvg_model.pose_rendering import CROP_EXTENT

    assert RenderConfig().crop_extent == CROP_EXTENT


def test_unknown_motion_lists_the_built_ins():
    with pytest.raises(InputError, match="walk"):
        motion_parameters("moonwalk", 2)


def test_precomputed_maps_are_read_and_checked(tmp_path):
    good = tmp_path / "maps.npz"
    np.savez(
        good, pose_maps=np.full((2, 3, 4, 16, 16), 255, np.uint8), R=np.tile(np.eye(3), (2, 1, 1))
    )
    maps, rotations = load_pose_maps(good)
    assert maps.shape == (1, 2, 3, 4, 16, 16) and maps.max() == 1.0
    assert rotations.shape == (1, 2, 3, 3)
    bad = tmp_path / "bad.npz"
    np.savez(bad, pose_maps=np.zeros((2, 3, 4, 16, 16)), R=np.zeros((3, 3, 3)))
    with pytest.raises(InputError, match="'R'"):
        load_pose_maps(bad)
    with pytest.raises(InputError, match="pose_maps"):
        np.savez(bad, other=np.zeros(3))
        load_pose_maps(bad)
