import pytest
import torch

pytest.importorskip("embreex")

from hvg_bonemap import ellipsoids_from_joints, joints_from_smplx_params, orbit_cameras, render
from hvg_bonemap.renderers.embree_mesh import EmbreeMeshRenderer


def test_mesh_ray_cast_agrees_with_analytic():
    joints = joints_from_smplx_params(body_pose=0.2 * torch.ones(63))
    ell = ellipsoids_from_joints(joints)
    cams = orbit_cameras(2, distance=3.0, width=128, height=128, target=(0.0, -0.3, 0.0))
    mesh = EmbreeMeshRenderer(subdivisions=3)(ell, cams)
    exact = render(ell, cams)
    both = mesh.mask & exact.mask
    assert both.sum() / (mesh.mask | exact.mask).sum() > 0.98
    assert (mesh.depth - exact.depth)[both].abs().mean() < 2e-3
    angle = torch.rad2deg(torch.acos((mesh.normal * exact.normal).sum(1)[both].clamp(-1, 1)))
    assert angle.mean() < 1.0
    assert (mesh.index == exact.index)[both].float().mean() > 0.97
