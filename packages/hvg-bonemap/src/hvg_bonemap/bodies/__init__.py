"""Body models turning SMPL-X parameters into posed joints."""

from hvg_bonemap.bodies.anthropometric import (
    REST_JOINTS,
    AnthropometricBody,
    joints_from_smplx_params,
    rest_joints,
)
from hvg_bonemap.bodies.kinematics import forward_kinematics
from hvg_bonemap.bodies.params import HandPCA, full_pose_from_params

__all__ = [
    "REST_JOINTS",
    "AnthropometricBody",
    "HandPCA",
    "forward_kinematics",
    "full_pose_from_params",
    "joints_from_smplx_params",
    "rest_joints",
]
