"""PoseSpec (serialisable, versioned) and the pose codec (render -> stored -> network input)."""

from __future__ import annotations

import pytest
import torch

from hvg_bonemap import (
    DEFAULT_POSE_SPEC,
    Cameras,
    PoseSpec,
    PoseSpecError,
    align_cameras,
    joints_from_smplx_params,
    orbit_cameras,
    view_alignment_boxes,
)
from hvg_bonemap import pose_codec as codec
from hvg_bonemap.motions import MOTIONS
from hvg_bonemap.signals import BUILTIN_SIGNALS, BoneMapSignal


@pytest.fixture(scope="module")
def scene():
    joints = joints_from_smplx_params(MOTIONS["walk"](3))  # (T, 55, 3)
    cameras = orbit_cameras(3, distance=3.0, width=48, height=48, target=joints[0, 0])
    return joints, align_cameras(cameras, joints, DEFAULT_POSE_SPEC.crop_extent, 32)


def test_spec_round_trips_and_names_bad_fields():
    spec = PoseSpec.for_signal("skeleton2d", depth_range=1.5, radii="full")
    assert spec.layout == (("skeleton2d", 3),) and spec.channels == 3
    assert PoseSpec.from_dict(spec.to_dict()) == spec
    assert DEFAULT_POSE_SPEC.to_dict()["channels"] == 4
    bad = {**DEFAULT_POSE_SPEC.to_dict(), "channels": 3}
    with pytest.raises(PoseSpecError) as caught:
        PoseSpec.from_dict(bad)
    assert caught.value.field == "channels"
    for change, field in [
        ({"version": 99}, "version"),
        ({"colour": 1}, "colour"),
        ({"depth_range": 0}, "depth_range"),
        ({"alignment": "centre"}, "alignment"),
        ({"layout": [["depth", 0]]}, "layout"),
    ]:
        with pytest.raises(PoseSpecError) as caught:
            PoseSpec.from_dict({**DEFAULT_POSE_SPEC.to_dict(), **change})
        assert caught.value.field == field, change
    with pytest.raises(PoseSpecError, match="unknown pose signal"):
        PoseSpec.for_signal("openpose")


def test_layouts_are_the_signal_classes():
    for name, cls in BUILTIN_SIGNALS.items():
        spec = PoseSpec.for_signal(name)
        assert spec.channels == cls.channels
        assert spec.from_bone_maps == (name in ("bonemap", "depth", "normal"))
    assert PoseSpec.for_signal("bonemap").layout == (("depth", 1), ("normal", 3))

    class Plugin:  # a plugin signal without a layout is one part
        channels = 2

    assert PoseSpec.for_signal("mine", Plugin).layout == (("mine", 2),)


@pytest.mark.parametrize("signal", ["bonemap", "depth", "normal"])
def test_stored_maps_decode_to_the_rendered_signal(scene, signal):
    joints, cameras = scene
    spec = PoseSpec.for_signal(signal)
    maps = BoneMapSignal().render_maps(joints[None], cameras[:, None])  # (V, T)
    depth, normal = codec.encode(maps)
    assert depth.dtype == torch.float16 and normal.dtype == torch.uint8
    reference = codec.pelvis_distance(joints[None], cameras.centers[:, None])
    decoded = codec.decode(spec, depth, normal, reference)
    rendered = codec.pose_input(spec, joints[None], cameras[:, None])
    assert decoded.shape == rendered.shape == (3, 3, spec.channels, 32, 32)
    # uint8 normals cost half a step; float16 depth (~3 m) about 1 mm, 1/1000 of the code.
    torch.testing.assert_close(decoded, rendered, atol=1 / 255, rtol=0)
    assert torch.equal(decoded.amax(-3) == 0, rendered.amax(-3) == 0)  # the same background


def test_depth_range_changes_the_code(scene):
    joints, cameras = scene
    narrow_spec = DEFAULT_POSE_SPEC.replace(depth_range=0.5)
    narrow = codec.pose_input(narrow_spec, joints[None], cameras[:, None])
    wide = codec.pose_input(DEFAULT_POSE_SPEC, joints[None], cameras[:, None])
    body = wide[..., 0, :, :] > 0
    assert body.any()
    assert not torch.allclose(narrow[..., 0, :, :][body], wide[..., 0, :, :][body])
    torch.testing.assert_close(narrow[..., 1:, :, :], wide[..., 1:, :, :])


def test_skeleton_is_drawn_not_decoded(scene):
    joints, cameras = scene
    spec = PoseSpec.for_signal("skeleton2d")
    with pytest.raises(PoseSpecError) as caught:
        codec.decode(spec, torch.zeros(2, 8, 8), torch.zeros(2, 3, 8, 8), torch.ones(2))
    assert caught.value.field == "signal"
    drawn = codec.pose_input_from_stored(spec, None, None, joints, cameras)  # type: ignore[arg-type]
    assert drawn.shape == (3, 3, 3, 32, 32) and drawn.any()
    thick = codec.pose_input(spec.replace(skeleton_width_px=30.0), joints[None], cameras[:, None])
    assert int((thick > 0).sum()) > int((drawn > 0).sum())


def test_pose_input_is_checked_against_the_spec():
    maps = torch.rand(2, 4, 8, 8)
    codec.check_pose_input(DEFAULT_POSE_SPEC, maps)
    with pytest.raises(PoseSpecError) as caught:
        codec.check_pose_input(DEFAULT_POSE_SPEC, maps[:, :3])
    assert caught.value.field == "channels"
    with pytest.raises(PoseSpecError) as caught:
        codec.check_pose_input(DEFAULT_POSE_SPEC, maps * 3.0)  # raw metres, not codes
    assert caught.value.field == "depth_range"
    for made_with, field in [
        (DEFAULT_POSE_SPEC.replace(depth_range=1.0), "depth_range"),
        (PoseSpec.for_signal("skeleton2d"), "signal"),
        (DEFAULT_POSE_SPEC.replace(radii="full"), "radii"),
    ]:
        with pytest.raises(PoseSpecError) as caught:
            codec.check_pose_input(DEFAULT_POSE_SPEC, maps, made_with)
        assert caught.value.field == field


def test_view_alignment_centres_the_mean_pelvis_at_a_metric_size(scene):
    joints, _ = scene
    cameras = orbit_cameras(4, distance=3.0, width=96, height=64, target=joints[0, 0])
    boxes = view_alignment_boxes(joints[:, 0], cameras, 2.2)
    uv, z = cameras.project(joints[:, 0].expand(4, 3, 3))
    centre = 0.5 * (boxes[:, :2] + boxes[:, 2:])
    torch.testing.assert_close(centre, uv.mean(1))
    width = boxes[:, 2] - boxes[:, 0]
    torch.testing.assert_close(width, cameras.K[:, 0, 0] * 2.2 / z.mean(1))
    aligned = align_cameras(cameras, joints, 2.2, 32)
    uv_aligned, _ = aligned.project(joints[:, 0].expand(4, 3, 3))
    torch.testing.assert_close(uv_aligned.mean(1), torch.full((4, 2), 16.0), atol=1e-4, rtol=0)
    # A camera 1 m in front of the pelvis looking away from it.
    behind = Cameras(
        cameras.K[:1], torch.eye(3)[None], -joints[:1, 0] - torch.tensor([0, 0, 1.0]), 8, 8
    )
    with pytest.raises(ValueError, match="behind a camera"):
        view_alignment_boxes(joints[:, 0], behind, 2.2)


def test_normal_storage_round_trip():
    normal = torch.nn.functional.normalize(torch.randn(2, 3, 5, 5), dim=1)
    mask = torch.rand(2, 5, 5) > 0.3
    stored = codec.store_normal(normal, mask)
    back = codec.load_normal(stored, mask)
    assert not stored.masked_select(~mask[:, None].expand_as(stored)).any()
    assert float((back - normal * mask[:, None]).abs().max()) <= 1 / 127.5
