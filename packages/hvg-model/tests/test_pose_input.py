from __future__ import annotations

import pytest
import torch

from hvg_model.pose_input import encode_stored_bonemap, render_pose_signal, signal_class
from hvg_model.pose_modulator import PoseModulator, pose_signal_channels


@pytest.fixture(scope="module")
def scene():
    from hvg_bonemap import joints_from_smplx_params, orbit_cameras
    from hvg_bonemap.motions import MOTIONS

    joints = joints_from_smplx_params(MOTIONS["walk"](2))  # (T, 55, 3)
    cameras = orbit_cameras(3, distance=3.0, width=32, height=32, target=joints[0, 0])
    return joints, cameras


def test_network_pose_layouts_come_from_the_registered_signals():
    from hvg_core.registry import get_registry

    for name in get_registry().names("pose_signals"):
        cls = signal_class(name)
        modulator = PoseModulator(name, 32, (8, 8, 16, 32))
        assert modulator.in_channels == pose_signal_channels(name) == cls.channels
        assert [part for part, _ in modulator.spec.layout] == list(modulator.guiders)
    assert list(PoseModulator("bonemap", 32, (8, 8, 16, 32)).guiders) == ["depth", "normal"]


@pytest.mark.parametrize("signal", ["bonemap", "depth", "normal"])
def test_stored_maps_encode_like_the_rendered_signal(scene, signal):
    from hvg_bonemap.signals.bonemap import BoneMapSignal

    joints, cameras = scene
    renderer = BoneMapSignal()
    maps = renderer.render_maps(joints[None], cameras[:, None])  # (V, T)
    pelvis_distance = (joints[None, :, 0] - cameras.centers[:, None]).norm(dim=-1)
    stored_normal = maps.normal_uint8()  # what a shard keeps
    encoded = encode_stored_bonemap(maps.depth, stored_normal, pelvis_distance, pose_signal=signal)
    rendered = render_pose_signal(joints[None], cameras[:, None], pose_signal=signal)
    assert encoded.shape == rendered.shape == (3, 2, pose_signal_channels(signal), 32, 32)
    # uint8 storage of the normals costs at most half a quantisation step.
    torch.testing.assert_close(encoded, rendered, atol=1 / 255, rtol=0)


def test_stored_maps_reject_mismatched_shapes():
    with pytest.raises(ValueError, match=r"normal \(\.\.\., 3, H, W\)"):
        encode_stored_bonemap(torch.zeros(2, 8, 8), torch.zeros(2, 1, 8, 8), torch.ones(2))
    with pytest.raises(ValueError, match="drawn from joints and cameras"):
        encode_stored_bonemap(
            torch.zeros(2, 8, 8), torch.zeros(2, 3, 8, 8), torch.ones(2), pose_signal="skeleton2d"
        )
