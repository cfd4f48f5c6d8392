"""Batched forward kinematics of the SMPL-X skeleton (the joint part of smplx's ``lbs``)."""

from __future__ import annotations

import torch

from hvg_bonemap.rotations import axis_angle_to_matrix
from hvg_bonemap.skeleton import PARENTS


def forward_kinematics(
    full_pose: torch.Tensor, rest_joints: torch.Tensor, parents: tuple[int, ...] = PARENTS
) -> tuple[torch.Tensor, torch.Tensor]:
    """Poses a skeleton: global joint positions and rotations from local axis-angle rotations.

    Same recursion as SMPL-X: ``G_0 = [R_0 | J_0]``, ``G_i = G_parent(i) [R_i | J_i - J_parent(i)]``;
    the posed joint is the translation of ``G_i``. Root translation is not applied here.

    Args:
        full_pose: ``(..., J, 3)`` local axis-angle rotations in ``full_pose`` order.
        rest_joints: ``(..., J, 3)`` rest-pose joint positions (broadcasts with ``full_pose``).
        parents: Parent index per joint, ``-1`` for the root; parents precede children.

    Returns:
        ``joints`` ``(..., J, 3)`` posed positions and ``rotations`` ``(..., J, 3, 3)`` global
        rotations.
    """
    local = axis_angle_to_matrix(full_pose)
    batch = torch.broadcast_shapes(full_pose.shape[:-2], rest_joints.shape[:-2])
    local = local.expand(*batch, *local.shape[-3:])
    rest = rest_joints.expand(*batch, *rest_joints.shape[-2:])
    rotations: list[torch.Tensor] = []
    positions: list[torch.Tensor] = []
    for i, parent in enumerate(parents):
        if parent < 0:
            rotations.append(local[..., i, :, :])
            positions.append(rest[..., i, :])
            continue
        offset = rest[..., i, :] - rest[..., parent, :]
        rotations.append(rotations[parent] @ local[..., i, :, :])
        positions.append(positions[parent] + (rotations[parent] @ offset[..., None])[..., 0])
    return torch.stack(positions, dim=-2), torch.stack(rotations, dim=-3)
