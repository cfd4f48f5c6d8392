import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from hvg_bonemap import BoneMapInputError, Cameras, intrinsics, look_at, orbit_cameras

f64 = torch.float64


def random_cameras(seed: int, batch: int = 5, width: int = 320, height: int = 240) -> Cameras:
    gen = torch.Generator().manual_seed(seed)
    eye = torch.randn(batch, 3, generator=gen, dtype=f64) * 3
    R, t = look_at(eye, torch.randn(batch, 3, generator=gen, dtype=f64) * 0.1)
    K = torch.zeros(batch, 3, 3, dtype=f64)
    K[:, 0, 0] = 200 + 100 * torch.rand(batch, generator=gen, dtype=f64)
    K[:, 1, 1] = 200 + 100 * torch.rand(batch, generator=gen, dtype=f64)
    K[:, 0, 2] = width / 2 + 10 * torch.randn(batch, generator=gen, dtype=f64)
    K[:, 1, 2] = height / 2 + 10 * torch.randn(batch, generator=gen, dtype=f64)
    K[:, 2, 2] = 1
    return Cameras(K, R, t, width, height)


def test_look_at_front_camera_is_opencv():
    R, t = look_at(torch.tensor([0.0, 0.0, 3.0], dtype=f64), torch.zeros(3, dtype=f64))
    assert torch.allclose(R, torch.diag(torch.tensor([1.0, -1.0, -1.0], dtype=f64)))
    assert torch.allclose(t, torch.tensor([0.0, 0.0, 3.0], dtype=f64))
    cams = Cameras(intrinsics(100, 80, focal=50.0, dtype=f64), R, t, 100, 80)
    uv, z = cams.project(torch.tensor([[0.0, 0.0, 0.0], [0.3, 0.3, 0.0]], dtype=f64))
    assert torch.allclose(uv[0], torch.tensor([50.0, 40.0], dtype=f64)) and z[0] == 3.0
    # World +x (the body's left, seen from the front) goes right; world +y (up) goes up.
    assert uv[1, 0] > 50 and uv[1, 1] < 40


def test_look_at_straight_down_is_proper_rotation():
    R, _ = look_at(torch.tensor([0.0, 5.0, 0.0], dtype=f64), torch.zeros(3, dtype=f64))
    assert torch.allclose(R @ R.T, torch.eye(3, dtype=f64)) and abs(torch.linalg.det(R) - 1) < 1e-12
    assert torch.allclose(R[2], torch.tensor([0.0, -1.0, 0.0], dtype=f64))


def test_orbit_cameras_geometry():
    target = (0.1, -0.3, 0.2)
    cams = orbit_cameras(
        8,
        elevation_deg=20.0,
        distance=2.5,
        fov_deg=45.0,
        width=64,
        height=48,
        target=target,
        dtype=f64,
    )
    assert cams.batch_shape == (8,)
    centres = cams.centers
    assert torch.allclose(
        (centres - torch.tensor(target, dtype=f64)).norm(dim=-1), torch.full((8,), 2.5, dtype=f64)
    )
    assert torch.allclose(
        centres[0, [0, 2]], torch.tensor([0.1, 0.2 + 2.5 * math.cos(math.radians(20))], dtype=f64)
    )
    assert centres[2, 0] == pytest.approx(
        0.1 + 2.5 * math.cos(math.radians(20))
    )  # azimuth 90: +x side
    uv, _ = cams.project(torch.tensor(target, dtype=f64).expand(8, 1, 3))
    assert torch.allclose(uv[:, 0], torch.tensor([32.0, 24.0], dtype=f64).expand(8, 2), atol=1e-9)
    assert cams.K[0, 1, 1] == pytest.approx(24.0 / math.tan(math.radians(22.5)))


def test_pixel_rays_hit_their_pixels():
    cams = random_cameras(1, batch=2, width=8, height=6)
    rays = cams.pixel_rays()
    assert rays.shape == (2, 6, 8, 3)
    homog = rays @ cams.K[:, None].transpose(-1, -2)
    uv = homog[..., :2] / homog[..., 2:]
    assert torch.allclose(uv[0, 2, 5], torch.tensor([5.5, 2.5], dtype=f64))


@pytest.mark.parametrize("seed", [0, 1])
def test_opengl_roundtrip_and_projection(seed):
    cams = random_cameras(seed)
    points = torch.randn(5, 7, 3, dtype=f64, generator=torch.Generator().manual_seed(seed)) * 0.3
    uv, _ = cams.project(points)
    view, proj = cams.to_opengl(near=0.1, far=50.0)
    clip = (
        torch.cat([points, torch.ones(5, 7, 1, dtype=f64)], -1)
        @ view.transpose(-1, -2)
        @ proj.transpose(-1, -2)
    )
    ndc = clip[..., :3] / clip[..., 3:]
    u = (ndc[..., 0] + 1) / 2 * cams.width
    v = (1 - ndc[..., 1]) / 2 * cams.height  # GL rows count from the bottom
    assert torch.allclose(torch.stack([u, v], -1), uv, atol=1e-9)
    back = Cameras.from_opengl(view, proj, cams.width, cams.height)
    for a, b in ((back.K, cams.K), (back.R, cams.R), (back.t, cams.t)):
        assert torch.allclose(a, b, atol=1e-10)


def test_pytorch3d_convention():
    cams = random_cameras(3)
    points = torch.randn(5, 7, 3, dtype=f64, generator=torch.Generator().manual_seed(3)) * 0.3
    uv, _ = cams.project(points)
    p3d = cams.to_pytorch3d()
    view = points @ p3d["R"] + p3d["T"][:, None]  # row-vector convention
    ndc = (
        p3d["focal_length"][:, None] * view[..., :2] / view[..., 2:]
        + p3d["principal_point"][:, None]
    )
    s = min(cams.width, cams.height) / 2
    u = cams.width / 2 - ndc[..., 0] * s  # PyTorch3D NDC: +X left, +Y up
    v = cams.height / 2 - ndc[..., 1] * s
    assert torch.allclose(torch.stack([u, v], -1), uv, atol=1e-9)
    assert p3d["image_size"][0].tolist() == [cams.height, cams.width]
    back = Cameras.from_pytorch3d(
        p3d["R"], p3d["T"], p3d["focal_length"], p3d["principal_point"], (cams.height, cams.width)
    )
    for a, b in ((back.K, cams.K), (back.R, cams.R), (back.t, cams.t)):
        assert torch.allclose(a, b, atol=1e-10)


def test_kaolin_convention():
    cams = random_cameras(4)
    points = torch.randn(5, 7, 3, dtype=f64, generator=torch.Generator().manual_seed(4)) * 0.3
    uv, _ = cams.project(points)
    kal = cams.to_kaolin()
    eye = torch.cat([points, torch.ones(5, 7, 1, dtype=f64)], -1) @ kal["view_matrix"].transpose(
        -1, -2
    )
    x, y, z = eye[..., 0], eye[..., 1], eye[..., 2]
    fx, fy, x0, y0 = (kal[k][:, None] for k in ("focal_x", "focal_y", "x0", "y0"))
    # Kaolin's perspective_matrix rows (fx, 0, -x0, 0), (0, fy, -y0, 0), w = -z after its ndc matrix.
    sx = (fx * x - x0 * z) / -z
    sy = (fy * y - y0 * z) / -z
    assert torch.allclose(
        torch.stack([cams.width / 2 + sx, cams.height / 2 - sy], -1), uv, atol=1e-9
    )
    back = Cameras.from_kaolin(**kal)
    for a, b in ((back.K, cams.K), (back.R, cams.R), (back.t, cams.t)):
        assert torch.allclose(a, b, atol=1e-10)


def test_camera_validation_messages():
    eye = torch.eye(3)
    with pytest.raises(BoneMapInputError, match=r"K: expected shape \(\.\.\., 3, 3\)"):
        Cameras(torch.zeros(3, 4), eye, torch.zeros(3), 10, 10)
    with pytest.raises(BoneMapInputError, match=r"t: expected shape"):
        Cameras(eye, eye, torch.zeros(4), 10, 10)
    with pytest.raises(BoneMapInputError, match="last row"):
        Cameras(2 * eye, eye, torch.zeros(3), 10, 10)
    with pytest.raises(BoneMapInputError, match="width"):
        Cameras(eye, eye, torch.zeros(3), 0, 10)
    with pytest.raises(BoneMapInputError, match="do not broadcast"):
        Cameras(eye.expand(2, 3, 3), eye.expand(3, 3, 3), torch.zeros(3), 10, 10)
    with pytest.raises(BoneMapInputError, match="fov_deg"):
        intrinsics(10, 10, fov_deg=190.0)


@settings(max_examples=40, deadline=None)
@given(
    st.floats(-80, 80),
    st.floats(0.5, 10),
    st.integers(1, 12),
    st.integers(8, 64),
    st.integers(8, 64),
)
def test_orbit_targets_centred_hypothesis(elevation, distance, views, width, height):
    cams = orbit_cameras(
        views, elevation_deg=elevation, distance=distance, width=width, height=height, dtype=f64
    )
    uv, z = cams.project(torch.zeros(views, 1, 3, dtype=f64))
    assert torch.allclose(
        uv[:, 0], torch.tensor([width / 2, height / 2], dtype=f64).expand(views, 2), atol=1e-8
    )
    assert torch.allclose(z[:, 0], torch.full((views,), distance, dtype=f64))
    assert torch.allclose(
        cams.R @ cams.R.transpose(-1, -2), torch.eye(3, dtype=f64).expand(views, 3, 3), atol=1e-12
    )
