from __future__ import annotations

import numpy as np
import pytest
import torch
from hvg_core.errors import InputError
from hvg_core.registry import get_registry

from hvg_data.config import RenderConfig
from hvg_data.crop import crop_intrinsics, pelvis_crop_boxes, project
from hvg_data.render_sample import render_sample

CONFIG = RenderConfig(views=4, size=64)


def _load(name, root, subject=None):
    adapter = get_registry().load("datasets", name)(root)
    return adapter.load(subject or adapter.subjects()[0])


@pytest.mark.parametrize(
    ("name", "subject"),
    [
        ("thuman2", None),
        ("thuman21", "0527"),
        ("2k2k", "train/00003"),
        ("customhuman", None),
        ("mvhumannet", None),
    ],
)
def test_bone_maps_fall_inside_the_silhouette(name, subject, fixture_roots):
    sample = _load(name, fixture_roots[name], subject)
    rendered = render_sample(sample, CONFIG)
    frames = sample.frames
    assert rendered.rgb.shape == (4, frames, 64, 64, 3)
    bones = rendered.depth > 0
    assert bones.sum() > 50 * frames
    inside = (bones & rendered.mask).sum() / bones.sum()
    assert inside > 0.9, f"{name}: only {inside:.1%} of bone-map pixels inside the silhouette"
    # Background pixels of the bone maps are encoded as 0, foreground normals as unit vectors.
    assert not rendered.normal[~bones].any()
    normals = rendered.normal[bones].astype(np.float32) / 127.5 - 1
    np.testing.assert_allclose(np.linalg.norm(normals, axis=-1), 1.0, atol=0.02)
    assert set(rendered.source_hashes) and all(
        len(h) == 64 for h in rendered.source_hashes.values()
    )


def test_pelvis_lands_at_the_crop_centre(fixture_roots):
    sample = _load("thuman2", fixture_roots["thuman2"])
    rendered = render_sample(sample, CONFIG)
    pixels, _ = project(
        rendered.K.astype(np.float64),
        rendered.R.astype(np.float64),
        rendered.t.astype(np.float64),
        rendered.joints[0, :1].astype(np.float64),
    )
    np.testing.assert_allclose(pixels[:, 0], 32.0, atol=1e-3)  # view alignment


def test_crop_matches_hvg_bonemap(fixture_roots):
    from hvg_bonemap import Cameras, crop_cameras
    from hvg_bonemap import pelvis_crop_boxes as bonemap_boxes

    rng = np.random.default_rng(0)
    K = np.array([[[500.0, 0, 320], [0, 510, 240], [0, 0, 1]]] * 3)
    R = np.stack([np.linalg.qr(rng.normal(size=(3, 3)))[0] for _ in range(3)])
    R *= np.sign(np.linalg.det(R))[:, None, None]
    pelvis = rng.normal(size=3)
    t = -np.einsum("vij,j->vi", R, pelvis) + np.array([0.0, 0.0, 3.0])
    boxes = pelvis_crop_boxes(K, R, t, pelvis[None], extent=1.5)
    cameras = Cameras(torch.tensor(K), torch.tensor(R), torch.tensor(t), 640, 480)
    side = boxes[0, 2] - boxes[0, 0]  # same depth for every camera -> same side
    theirs = bonemap_boxes(torch.tensor(pelvis), cameras, crop_size=(side, side)).numpy()
    np.testing.assert_allclose(boxes, theirs, atol=1e-9)
    np.testing.assert_allclose(
        crop_intrinsics(K, boxes, 96),
        crop_cameras(cameras, torch.tensor(boxes), (96, 96)).K.numpy(),
        atol=1e-9,
    )


def test_capture_views_are_spread_and_consistent(mvhumannet_fixture):
    sample = _load("mvhumannet", mvhumannet_fixture.root)
    rendered = render_sample(sample, CONFIG)
    assert len(set(rendered.camera_names)) == 4
    assert rendered.frame_ids == mvhumannet_fixture.ticks
    # The cropped cameras put the marker where the cropped image shows it (red).
    pixels, _ = project(
        rendered.K.astype(np.float64),
        rendered.R.astype(np.float64),
        rendered.t.astype(np.float64),
        mvhumannet_fixture.marker[None],
    )
    for view in range(4):
        u, v = pixels[view, 0]
        if 1 <= u < 63 and 1 <= v < 63:
            patch = rendered.rgb[view, 0, int(v) - 1 : int(v) + 2, int(u) - 1 : int(u) + 2]
            redness = patch[..., 0].astype(int) - patch[..., 1:].max(-1)
            assert redness.max() > 40


def test_scan_without_fit_is_an_input_error(fixture_roots):
    sample = _load("2k2k", fixture_roots["2k2k"], "test/00011")
    with pytest.raises(InputError, match="no SMPL-X fit"):
        render_sample(sample, CONFIG)


def test_synthetic_sequence_frames_move():
    adapter = get_registry().load("datasets", "synthetic")(None, count=1, frames=3)
    rendered = render_sample(adapter.load("00000"), RenderConfig(views=2, size=48))
    assert rendered.rgb.shape == (2, 3, 48, 48, 3)
    assert not np.array_equal(rendered.mask[:, 0], rendered.mask[:, 2])  # walking
    assert np.abs(rendered.joints[0] - rendered.joints[2]).max() > 0.05


@pytest.mark.parametrize(
    ("damage", "why"),
    [
        (lambda R: R * 1.1, "scaled"),
        (lambda R: R * np.array([1.0, 1.0, -1.0]), "reflection"),
        (lambda R: R + 0.05, "sheared"),
        (lambda R: np.full_like(R, np.nan), "not finite"),
    ],
)
def test_capture_cameras_must_be_rotations(mvhumannet_fixture, damage, why):
    import dataclasses

    sample = _load("mvhumannet", mvhumannet_fixture.root)
    capture = sample.capture
    R = capture.R.copy()
    R[1] = damage(R[1])
    broken = dataclasses.replace(sample, capture=dataclasses.replace(capture, R=R))
    with pytest.raises(InputError, match="not a rotation") as error:
        render_sample(broken, CONFIG)
    assert error.value.field == "R" and capture.camera_names[1] in str(error.value), why
