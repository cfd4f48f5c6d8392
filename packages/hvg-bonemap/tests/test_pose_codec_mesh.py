"""The codec draws mesh signals (``body_normal``) from a posed mesh, and says when it is missing."""

from __future__ import annotations

import pytest
import torch

from hvg_bonemap import PoseSpec, orbit_cameras
from hvg_bonemap.meshes import icosphere
from hvg_bonemap.pose_codec import draws_mesh, pose_input, pose_input_from_stored
from hvg_bonemap.pose_spec import PoseSpecError
from hvg_bonemap.signals import BodyNormalSignal


def _mesh() -> tuple[torch.Tensor, torch.Tensor]:
    vertices, faces = icosphere(3)
    # Two frames: the sphere moves sideways between them.
    frames = torch.stack([torch.tensor(vertices) * 0.4, torch.tensor(vertices) * 0.4 + 0.2])
    return frames.float(), torch.tensor(faces)


def test_only_mesh_signals_draw_meshes() -> None:
    assert draws_mesh(PoseSpec.for_signal("body_normal"))
    for signal in ("bonemap", "depth", "normal", "skeleton2d"):
        assert not draws_mesh(PoseSpec.for_signal(signal))


def test_body_normal_pose_input_is_the_signal_of_the_mesh() -> None:
    spec = PoseSpec.for_signal("body_normal")
    vertices, faces = _mesh()
    cameras = orbit_cameras(3, distance=2.5, width=32, height=32)
    joints = torch.zeros(2, 55, 3)
    stored = pose_input_from_stored(
        spec,
        torch.zeros(3, 2, 32, 32),
        torch.zeros(3, 2, 3, 32, 32),
        joints,
        cameras,
        mesh=(vertices, faces),
    )
    direct = BodyNormalSignal(faces)(vertices[None], cameras[:, None])
    assert stored.shape == (3, 2, 3, 32, 32)
    torch.testing.assert_close(stored, direct)
    assert float((stored.sum(2) > 0).float().mean()) > 0.05
    # The two frames differ (the sphere moved): the mesh of each frame is drawn.
    assert not torch.equal(stored[:, 0], stored[:, 1])
    with pytest.raises(PoseSpecError) as caught:
        pose_input(spec, joints[None], cameras[:, None])
    assert caught.value.field == "mesh"
