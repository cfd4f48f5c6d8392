"""The public pose helpers: orbit and explicit cameras give the same pipeline input."""

from __future__ import annotations

import pytest
import torch
from hvg_core.errors import InputError

import hvg_model
from hvg_model.pose_rendering import motion_parameters, render_camera_pose, render_orbit_pose


def test_exported_from_the_package():
    for name in ("render_orbit_pose", "render_camera_pose", "motion_parameters", "write_video"):
        assert callable(getattr(hvg_model, name))
    assert {"load_reference_image", "PoseConditioning"} <= set(hvg_model.__all__)


def test_explicit_cameras_match_the_orbit():
    from hvg_bonemap import joints_from_smplx_params, orbit_cameras

    motion = motion_parameters("walk", 2)
    orbit = render_orbit_pose(motion, num_views=3, size=32, elevation_deg=5.0)
    pelvis = joints_from_smplx_params(motion)[0, 0]
    cameras = orbit_cameras(3, elevation_deg=5.0, width=32, height=32, target=pelvis)
    explicit = render_camera_pose(motion, cameras, size=32)
    assert orbit.pose_maps.shape == (1, 3, 2, 4, 32, 32)
    assert torch.equal(orbit.pose_maps, explicit.pose_maps)
    assert torch.equal(orbit.rotations, explicit.rotations)
    assert orbit.pose_maps.amax() > 0  # the body is in view


def test_cameras_must_be_one_batch_axis():
    from hvg_bonemap import orbit_cameras

    motion = motion_parameters("walk", 1)
    cameras = orbit_cameras(2, width=16, height=16)[:, None]
    with pytest.raises(InputError, match=r"batch shape \(V,\)"):
        render_camera_pose(motion, cameras, size=16)


def test_write_video_tiles_views(tmp_path):
    from hvg_model.video_io import write_video

    frames = torch.rand(1, 2, 3, 3, 16, 16)
    path = write_video(frames, tmp_path / "nested" / "clip.mp4", fps=5)
    assert path == tmp_path / "nested" / "clip.mp4" and path.stat().st_size > 0
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert (stream.width, stream.height) == (32, 16)
        assert sum(1 for _ in container.decode(stream)) == 3
