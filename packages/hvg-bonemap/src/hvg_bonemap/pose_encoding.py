"""Pose-signal value codes: depth and normal codes, their stored forms, the pelvis distance.

The lowest layer of the pose codec (:mod:`hvg_bonemap.pose_codec`), kept apart so that the signal
classes (:mod:`hvg_bonemap.signals`) can draw with it while the codec looks signals up by name.
Pure tensor functions; the pelvis distance (the depth code's reference) is computed only here.
"""

from __future__ import annotations

import torch

from hvg_bonemap.skeleton import JOINT_INDEX

#: Metres spanned by the depth code unless a ``PoseSpec`` says otherwise (pelvis at 0.5).
DEFAULT_DEPTH_RANGE = 2.0

#: Lowest depth code of a body pixel, so that the body never reads as background (0).
MIN_DEPTH_CODE = 1.0 / 255.0


def pelvis_distance(joints: torch.Tensor, centers: torch.Tensor) -> torch.Tensor:
    """Distance from camera centres to the pelvis, the reference of the depth code.

    Args:
        joints: ``(..., 55, 3)`` world joints, or pelvis positions ``(..., 3)``.
        centers: ``(..., 3)`` camera centres (``Cameras.centers``), broadcasting with ``...``.

    Returns:
        ``(...)`` metres.
    """
    pelvis = joints[..., JOINT_INDEX["pelvis"], :] if joints.shape[-2:] == (55, 3) else joints
    return (pelvis.to(centers) - centers).norm(dim=-1)


def depth_code(
    depth: torch.Tensor, mask: torch.Tensor, reference: torch.Tensor, depth_range: float
) -> torch.Tensor:
    """Depth in metres -> code in [0, 1]: ``clamp(0.5 + (reference - depth) / range, 1/255, 1)``.

    Args:
        depth: ``(..., H, W)`` Euclidean depth, metres.
        mask: ``(..., H, W)`` bool body pixels.
        reference: ``(...)`` reference distance (:func:`pelvis_distance`).
        depth_range: Metres spanned by the code.

    Returns:
        ``(..., 1, H, W)`` float32, 0 on the background.
    """
    ref = reference.to(torch.float32)[..., None, None]
    value = (0.5 + (ref - depth.float()) / depth_range).clamp(MIN_DEPTH_CODE, 1.0)
    return torch.where(mask, value, torch.zeros_like(value))[..., None, :, :]


def normal_code(normal: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Unit normals -> code in [0, 1]: ``(n + 1) / 2``.

    Args:
        normal: ``(..., 3, H, W)`` camera-space unit normals.
        mask: ``(..., H, W)`` bool body pixels.

    Returns:
        ``(..., 3, H, W)`` float32, 0 on the background.
    """
    value = 0.5 * (normal.float() + 1.0)
    return torch.where(mask[..., None, :, :], value, torch.zeros_like(value))


def store_normal(normal: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Unit normals ``(..., 3, H, W)`` -> uint8 ``round((n + 1) * 127.5)``, 0 on the background."""
    encoded = ((normal.float() + 1.0) * 127.5).round().clamp(0, 255).to(torch.uint8)
    return encoded * mask[..., None, :, :].to(torch.uint8)


def load_normal(stored: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`store_normal`: ``(..., 3, H, W)`` float32 in [-1, 1], 0 on background."""
    normal = stored.float() / 127.5 - 1.0
    return normal * mask[..., None, :, :].to(normal.dtype)
