"""Hypothesis robustness of the analytic renderer over random poses, cameras and ellipsoids."""

import math

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hvg_bonemap import (
    Cameras,
    Ellipsoids,
    ellipsoids_from_joints,
    intrinsics,
    joints_from_smplx_params,
    look_at,
    render,
)
from hvg_bonemap.rotations import axis_angle_to_matrix

SETTINGS = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def check_invariants(out, cams):
    assert torch.isfinite(out.depth).all() and torch.isfinite(out.normal).all()
    assert (out.depth >= 0).all()
    assert torch.equal(out.mask, out.depth > 0) and torch.equal(out.mask, out.index >= 0)
    norms = out.normal.norm(dim=-3)
    assert torch.allclose(norms[out.mask], torch.ones(()), atol=1e-4)
    assert (norms[~out.mask] == 0).all()
    rays = cams.pixel_rays().to(out.normal.dtype).movedim(-1, -3)  # (..., 3, H, W)
    assert ((out.normal * rays).sum(-3)[out.mask] <= 1e-4).all()  # facing the camera


@SETTINGS
@given(
    seed=st.integers(0, 10_000),
    pose_scale=st.floats(0.0, 1.5),
    azimuth=st.floats(-math.pi, math.pi),
    elevation=st.floats(-1.2, 1.2),
    distance=st.floats(0.3, 8.0),
    fov=st.floats(10.0, 150.0),
)
def test_random_poses_and_cameras(seed, pose_scale, azimuth, elevation, distance, fov):
    gen = torch.Generator().manual_seed(seed)
    joints = joints_from_smplx_params(
        body_pose=pose_scale * torch.randn(63, generator=gen),
        global_orient=pose_scale * torch.randn(3, generator=gen),
        left_hand_pose=pose_scale * torch.randn(45, generator=gen),
    )
    target = joints[0] + 0.3 * torch.randn(3, generator=gen)
    eye = target + distance * torch.tensor(
        [
            math.cos(elevation) * math.sin(azimuth),
            math.sin(elevation),
            math.cos(elevation) * math.cos(azimuth),
        ]
    )
    R, t = look_at(eye, target)
    cams = Cameras(intrinsics(40, 32, fov_deg=fov), R, t, 40, 32)
    ell = ellipsoids_from_joints(joints)
    out = render(ell, cams)
    check_invariants(out, cams)
    ref = render(ell, cams, backend="reference")
    both = out.mask & ref.mask
    # Equal to the float64 oracle except at boundary pixels where float32 decides a grazing ray.
    assert (out.mask != ref.mask).sum() <= max(3, int(0.01 * both.sum()))
    if both.any():
        assert (
            (out.depth - ref.depth)[both].abs() <= 1e-4 * (1 + ref.depth[both])
        ).float().mean() > 0.99


@SETTINGS
@given(
    centers=st.lists(st.tuples(*[st.floats(-2.0, 2.0)] * 3), min_size=1, max_size=6),
    radii=st.lists(st.tuples(*[st.floats(0.0, 1.5)] * 3), min_size=6, max_size=6),
    axes=st.lists(st.tuples(*[st.floats(-3.0, 3.0)] * 3), min_size=6, max_size=6),
)
def test_arbitrary_ellipsoids_around_a_camera_at_the_origin(centers, radii, axes):
    """Ellipsoids may contain the camera, lie behind it, be cut by its plane or be degenerate."""
    n = len(centers)
    ell = Ellipsoids(
        torch.tensor(centers),
        axis_angle_to_matrix(torch.tensor(axes[:n])),
        torch.tensor(radii[:n]),
    )
    cams = Cameras(intrinsics(24, 20, fov_deg=100.0), torch.eye(3), torch.zeros(3), 24, 20)
    out = render(ell, cams)
    check_invariants(out, cams)
    ref = render(ell, cams, backend="reference")
    assert (out.mask != ref.mask).sum() <= 4


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 4),
    bad_dim=st.integers(1, 5).filter(lambda d: d != 3),
    which=st.sampled_from(["centers", "rotations", "radii", "K", "R", "t"]),
)
def test_wrong_shapes_name_the_argument(n, bad_dim, which):
    import pytest

    from hvg_bonemap import BoneMapInputError

    shapes = {
        "centers": (n, 3),
        "rotations": (n, 3, 3),
        "radii": (n, 3),
        "K": (3, 3),
        "R": (3, 3),
        "t": (3,),
    }
    shape = list(shapes[which])
    shape[-1] = bad_dim
    values = {
        "centers": torch.zeros(n, 3),
        "rotations": torch.eye(3).expand(n, 3, 3),
        "radii": torch.ones(n, 3),
        "K": intrinsics(8, 8, focal=8.0),
        "R": torch.eye(3),
        "t": torch.zeros(3),
    }
    values[which] = torch.zeros(shape)
    with pytest.raises(BoneMapInputError, match=rf"^{which}: expected shape"):
        Ellipsoids(values["centers"], values["rotations"], values["radii"])
        Cameras(values["K"], values["R"], values["t"], 8, 8)


def test_cpu_threads_are_limited_while_rendering_and_restored(monkeypatch):
    import hvg_bonemap.renderers.analytic as analytic_module
    from hvg_bonemap import AnalyticRenderer, Cameras, Ellipsoids, intrinsics

    seen = []
    original = analytic_module.flatten_scene

    def spy(*args):
        seen.append(torch.get_num_threads())
        return original(*args)

    monkeypatch.setattr(analytic_module, "flatten_scene", spy)
    ell = Ellipsoids(torch.tensor([[0.0, 0.0, 2.0]]), torch.eye(3)[None], torch.full((1, 3), 0.3))
    cam = Cameras(intrinsics(16, 16, focal=20.0), torch.eye(3), torch.zeros(3), 16, 16)
    previous = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        assert AnalyticRenderer()(ell, cam).mask.any()
        AnalyticRenderer(cpu_threads=None)(ell, cam)
        assert seen == [1, 2] and torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(previous)
    with pytest.raises(ValueError, match="cpu_threads"):
        AnalyticRenderer(cpu_threads=0)
