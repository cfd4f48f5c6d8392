"""Rotation helpers: axis-angle (Rodrigues) and the rotation aligning one direction with another."""

from __future__ import annotations

import torch


def axis_angle_to_matrix(axis_angle: torch.Tensor) -> torch.Tensor:
    """Converts axis-angle vectors to rotation matrices (Rodrigues' formula).

    Args:
        axis_angle: ``(..., 3)`` rotation axis scaled by the angle in radians.

    Returns:
        ``(..., 3, 3)`` rotation matrices, same dtype and device.
    """
    angle_sq = (axis_angle * axis_angle).sum(-1, keepdim=True)
    angle = angle_sq.sqrt()
    small = angle_sq < 1e-12
    # Taylor expansions keep the formula exact to rounding near the identity.
    safe = torch.where(small, torch.ones_like(angle), angle)
    sin_over = torch.where(small, 1.0 - angle_sq / 6.0, torch.sin(safe) / safe)
    one_minus_cos_over = torch.where(
        small, 0.5 - angle_sq / 24.0, (1.0 - torch.cos(safe)) / (safe * safe)
    )
    x, y, z = axis_angle.unbind(-1)
    zero = torch.zeros_like(x)
    skew = torch.stack([zero, -z, y, z, zero, -x, -y, x, zero], dim=-1).reshape(
        *axis_angle.shape[:-1], 3, 3
    )
    eye = torch.eye(3, dtype=axis_angle.dtype, device=axis_angle.device)
    return eye + sin_over[..., None] * skew + one_minus_cos_over[..., None] * (skew @ skew)


def matrix_to_axis_angle(matrix: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`axis_angle_to_matrix` for angles in ``[0, pi)``.

    Args:
        matrix: ``(..., 3, 3)`` rotation matrices.

    Returns:
        ``(..., 3)`` axis-angle vectors.
    """
    trace = matrix.diagonal(dim1=-2, dim2=-1).sum(-1)
    cos = ((trace - 1.0) / 2.0).clamp(-1.0, 1.0)
    angle = torch.acos(cos)
    vec = torch.stack(
        [
            matrix[..., 2, 1] - matrix[..., 1, 2],
            matrix[..., 0, 2] - matrix[..., 2, 0],
            matrix[..., 1, 0] - matrix[..., 0, 1],
        ],
        dim=-1,
    )
    sin = torch.sin(angle)
    small = sin.abs() < 1e-7
    scale = torch.where(
        small,
        0.5 + angle * angle / 12.0,
        angle / (2.0 * torch.where(small, torch.ones_like(sin), sin)),
    )
    return vec * scale[..., None]


def rotation_aligning(
    source: torch.Tensor, target: torch.Tensor, eps: float = 1e-9
) -> torch.Tensor:
    """Rotation matrices ``R`` with ``R @ source_hat = target_hat`` (minimal rotation).

    Robust for every input: when ``target`` is anti-parallel to ``source`` the rotation is
    composed from the well-conditioned alignment with ``-target`` and a half-turn about an axis
    perpendicular to ``source``; when ``target`` or ``source`` has (near) zero length the
    identity is returned.

    Args:
        source: ``(..., 3)`` direction to rotate (need not be unit length), e.g. the up axis.
        target: ``(..., 3)`` direction to align with.
        eps: Length below which ``target`` counts as zero.

    Returns:
        ``(..., 3, 3)`` proper rotation matrices.
    """
    source, target = torch.broadcast_tensors(source, target)
    source_length = source.norm(dim=-1, keepdim=True)
    length = target.norm(dim=-1, keepdim=True)
    degenerate = (length < eps) | (source_length < eps)
    unit_y = torch.zeros_like(source)
    unit_y[..., 1] = 1.0
    a = torch.where(source_length < eps, unit_y, source / source_length.clamp_min(1e-300))
    b = torch.where(degenerate, a, target / length.clamp_min(1e-300))
    flip = (a * b).sum(-1) < 0.0
    # For anti-parallel-ish targets align with -b instead (cos >= 0, well conditioned), then
    # turn half way round an axis perpendicular to a: that maps a -> -a -> b.
    b_eff = torch.where(flip[..., None], -b, b)
    cos = (a * b_eff).sum(-1)
    v = torch.linalg.cross(a, b_eff)
    x, y, z = v.unbind(-1)
    zero = torch.zeros_like(x)
    skew = torch.stack([zero, -z, y, z, zero, -x, -y, x, zero], dim=-1).reshape(*v.shape[:-1], 3, 3)
    eye = torch.eye(3, dtype=a.dtype, device=a.device).expand(skew.shape)
    rot = eye + skew + (skew @ skew) / (1.0 + cos)[..., None, None]
    half_turn = _half_turn_perpendicular(a)
    return torch.where(flip[..., None, None], rot @ half_turn, rot)


def _half_turn_perpendicular(a: torch.Tensor) -> torch.Tensor:
    """Rotation by pi about a unit axis perpendicular to the unit vector ``a`` (maps a -> -a)."""
    helper = torch.zeros_like(a)
    # Pick the coordinate axis least aligned with a so that the cross product is well conditioned.
    helper.scatter_(-1, a.abs().argmin(dim=-1, keepdim=True), 1.0)
    axis = torch.linalg.cross(a, helper)
    axis = axis / axis.norm(dim=-1, keepdim=True)
    eye = torch.eye(3, dtype=a.dtype, device=a.device)
    return 2.0 * axis[..., :, None] * axis[..., None, :] - eye
