import math

import numpy as np
import pytest
import torch

from hvg_bonemap import (
    AnthropometricBody,
    BoneMapInputError,
    HandPCA,
    joints_from_smplx_params,
    rest_joints,
)
from hvg_bonemap.bodies import full_pose_from_params
from hvg_bonemap.rotations import axis_angle_to_matrix
from hvg_bonemap.skeleton import JOINT_INDEX, PARENTS

RESEARCH_BONE_LENGTHS = {  # SMPL-X neutral rest bone lengths (research/bonemap.md section 1.1), metres
    "left_knee": 0.383, "left_ankle": 0.407, "left_foot": 0.140, "spine2": 0.132, "spine3": 0.060,
    "neck": 0.169, "head": 0.163, "left_collar": 0.097, "left_shoulder": 0.133, "left_elbow": 0.267,
    "left_wrist": 0.253, "left_index1": 0.104, "left_thumb1": 0.051,
}  # fmt: skip


def test_rest_skeleton_is_anthropometric():
    rest = rest_joints(torch.float64)
    assert rest.shape == (55, 3)
    for name, length in RESEARCH_BONE_LENGTHS.items():
        i = JOINT_INDEX[name]
        assert (rest[i] - rest[PARENTS[i]]).norm().item() == pytest.approx(length, abs=0.01), name
    mirror = rest.clone()
    mirror[:, 0] = 2 * rest[0, 0] - rest[:, 0]  # mirror about the sagittal plane through the pelvis
    left = [i for i, n in enumerate(JOINT_INDEX) if n.startswith("left_")]
    right = [
        JOINT_INDEX[n.replace("left_", "right_", 1)] for n in JOINT_INDEX if n.startswith("left_")
    ]
    assert torch.allclose(mirror[left], rest[right], atol=1e-9)
    assert rest[JOINT_INDEX["left_wrist"], 0] > 0.5  # T-pose, left = +x
    height = rest[JOINT_INDEX["head"], 1] + 0.12 - rest[:, 1].min()  # head top to ball of foot
    assert 1.6 < height < 1.8


def test_zero_pose_is_rest_plus_transl_and_accepts_shapes():
    transl = torch.tensor([[0.1, 0.2, 0.3]])
    joints = joints_from_smplx_params(body_pose=torch.zeros(1, 21, 3), transl=transl)
    assert torch.allclose(joints[0], rest_joints() + transl, atol=1e-6)
    flat = joints_from_smplx_params(
        {"body_pose": np.zeros((2, 63), np.float64), "betas": np.zeros(10)}
    )
    assert flat.shape == (2, 55, 3) and flat.dtype == torch.float64
    assert joints_from_smplx_params().shape == (55, 3)


def test_global_orient_rotates_about_pelvis():
    yaw = torch.tensor([0.0, math.pi / 2, 0.0])
    joints = joints_from_smplx_params(global_orient=yaw)
    rest = rest_joints()
    rot = axis_angle_to_matrix(yaw)
    expected = (rest - rest[0]) @ rot.T + rest[0]
    assert torch.allclose(joints, expected, atol=1e-6)


def test_elbow_bend_moves_only_descendants():
    body_pose = torch.zeros(21, 3)
    body_pose[JOINT_INDEX["left_elbow"] - 1] = torch.tensor([0.0, -1.0, 0.0])
    joints = joints_from_smplx_params(body_pose=body_pose)
    rest = rest_joints()
    moved = (joints - rest).norm(dim=-1) > 1e-6
    assert moved[JOINT_INDEX["left_wrist"]] and moved[JOINT_INDEX["left_index3"]]
    assert not moved[JOINT_INDEX["left_elbow"]] and not moved[JOINT_INDEX["right_wrist"]]
    elbow, wrist = JOINT_INDEX["left_elbow"], JOINT_INDEX["left_wrist"]
    assert (joints[wrist] - joints[elbow]).norm() == pytest.approx(
        (rest[wrist] - rest[elbow]).norm().item(), abs=1e-6
    )


def test_hand_pca_decoding_and_thuman_scale():
    gen = torch.Generator().manual_seed(0)
    comps, mean = torch.randn(45, 45, generator=gen), torch.randn(45, generator=gen)
    pca = HandPCA(comps, mean)
    coeffs = torch.randn(3, 12, generator=gen)
    full, _, _ = full_pose_from_params({"left_hand_pose": coeffs}, left_hand_pca=pca)
    assert torch.allclose(full[:, 25:40].reshape(3, 45), coeffs @ comps[:12] + mean, atol=1e-5)
    with pytest.raises(BoneMapInputError, match="PCA coefficients need"):
        joints_from_smplx_params(left_hand_pose=coeffs)
    base = joints_from_smplx_params(body_pose=0.1 * torch.ones(63))
    scaled = joints_from_smplx_params(
        body_pose=0.1 * torch.ones(63), scale=np.array([0.45]), translation=[1.0, 2.0, 3.0]
    )
    assert torch.allclose(scaled, base * 0.45 + torch.tensor([1.0, 2.0, 3.0]), atol=1e-6)


def test_body_module_and_errors():
    body = AnthropometricBody()
    assert body(body_pose=torch.zeros(4, 63)).shape == (4, 55, 3)
    with pytest.raises(BoneMapInputError, match=r"body_pose: expected shape \(\.\.\., 63\)"):
        body(body_pose=torch.zeros(4, 62))
    with pytest.raises(BoneMapInputError, match="do not broadcast"):
        body(body_pose=torch.zeros(4, 63), transl=torch.zeros(3, 3))
    with pytest.raises(BoneMapInputError, match="NaN"):
        body(global_orient=torch.tensor([float("nan"), 0, 0]))
    with pytest.raises(BoneMapInputError, match="scale"):
        body(scale=torch.tensor([-1.0]))
