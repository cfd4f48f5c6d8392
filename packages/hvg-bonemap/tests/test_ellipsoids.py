import pytest
import torch

from hvg_bonemap import (
    BoneMapInputError,
    Ellipsoids,
    ellipsoids_from_joints,
    joints_from_smplx_params,
)
from hvg_bonemap.skeleton import BONE_SETS, JOINT_INDEX


def test_midpoint_axis_and_half_length():
    joints = joints_from_smplx_params(
        body_pose=0.3 * torch.randn(2, 63, generator=torch.Generator().manual_seed(0))
    )
    ell = ellipsoids_from_joints(joints)
    assert (
        ell.centers.shape == (2, 54, 3)
        and ell.rotations.shape == (2, 54, 3, 3)
        and ell.radii.shape == (2, 54, 3)
    )
    k = [b.name for b in BONE_SETS["paper"]].index("left_wrist")
    start, end = joints[:, JOINT_INDEX["left_elbow"]], joints[:, JOINT_INDEX["left_wrist"]]
    assert torch.allclose(ell.centers[:, k], 0.5 * (start + end))
    axis = ell.rotations[:, k, :, 1]
    assert torch.allclose(axis, (end - start) / (end - start).norm(dim=-1, keepdim=True), atol=1e-6)
    assert torch.allclose(ell.radii[:, k, 1], 0.5 * (end - start).norm(dim=-1))
    assert torch.allclose(ell.radii[:, k, 0], torch.tensor(0.025)) and torch.allclose(
        ell.radii[:, k, 2], torch.tensor(0.025)
    )
    rot = ell.rotations.double()
    assert torch.allclose(
        rot @ rot.transpose(-1, -2), torch.eye(3, dtype=torch.float64).expand_as(rot), atol=1e-5
    )


def test_degenerate_bones():
    joints = torch.zeros(55, 3)
    joints[JOINT_INDEX["left_hip"]] = torch.tensor([0.0, -0.5, 0.0])  # anti-parallel to up
    joints[JOINT_INDEX["right_hip"]] = torch.tensor([0.0, 0.5, 0.0])  # parallel to up
    ell = ellipsoids_from_joints(joints)
    names = [b.name for b in BONE_SETS["paper"]]
    left, right, spine = names.index("left_hip"), names.index("right_hip"), names.index("spine1")
    assert torch.allclose(ell.rotations[left, :, 1], torch.tensor([0.0, -1.0, 0.0]))
    assert torch.allclose(ell.rotations[right], torch.eye(3))
    assert torch.equal(ell.rotations[spine], torch.eye(3))  # zero length: identity...
    assert ell.radii[spine, 1] == 0  # ...and no volume
    assert torch.isfinite(ell.rotations).all()


def test_min_half_length_ratio_and_presets():
    joints = joints_from_smplx_params()
    thin = ellipsoids_from_joints(joints)
    fat = ellipsoids_from_joints(joints, radii="full", min_half_length_ratio=0.6)
    assert (fat.radii[:, 0] >= thin.radii[:, 0]).all()
    assert (fat.radii[:, 1] >= 0.6 * fat.radii[:, 0] - 1e-7).all()
    ana = ellipsoids_from_joints(joints, bones="anatomical")
    assert ana.count == len(BONE_SETS["anatomical"])


def test_shape_errors_name_argument():
    with pytest.raises(BoneMapInputError, match=r"joints: expected shape \(\.\.\., 55, 3\)"):
        ellipsoids_from_joints(torch.zeros(24, 3))
    with pytest.raises(BoneMapInputError, match="rotations"):
        Ellipsoids(torch.zeros(4, 3), torch.zeros(5, 3, 3), torch.ones(4, 3))
    with pytest.raises(BoneMapInputError, match="radii"):
        Ellipsoids(torch.zeros(4, 3), torch.eye(3).expand(4, 3, 3), -torch.ones(4, 3))
    with pytest.raises(BoneMapInputError, match="NaN"):
        Ellipsoids(torch.full((4, 3), float("nan")), torch.eye(3).expand(4, 3, 3), torch.ones(4, 3))
    with pytest.raises(BoneMapInputError, match="numeric"):
        ellipsoids_from_joints("joints")
