"""The DenoisingNet's ``pose_maps`` input, encoded exactly as ``hvg_bonemap``'s pose signals.

The pose signals registered by hvg-bonemap (``bonemap``, ``depth``, ``normal``, ``skeleton2d``,
``body_normal``) are the single definition of the network's pose input: maps in [0, 1], the bone
map being the depth code (nearer is brighter, the pelvis at 0.5, background 0) followed by the
normal code ``(n + 1) / 2``. This module gives the same encoding for maps that were rendered
earlier and stored raw (dataset shards keep depth in metres and normals as uint8), and renders
signals from joints and cameras through the registry.
"""

from __future__ import annotations

from typing import Any

import torch

from hvg_model.pose_modulator import POSE_SIGNALS


def encode_stored_bonemap(
    depth: torch.Tensor,
    normal: torch.Tensor,
    reference_distance: torch.Tensor,
    *,
    pose_signal: str = "bonemap",
    depth_range: float = 2.0,
) -> torch.Tensor:
    """Encode raw bone maps the way ``hvg_bonemap.signals.bonemap`` does.

    Args:
        depth: ``(..., H, W)`` or ``(..., 1, H, W)`` Euclidean depth in metres, 0 background.
        normal: ``(..., 3, H, W)`` camera-space unit normals, float in [−1, 1] or uint8
            ``round((n + 1)·127.5)``; 0 background.
        reference_distance: ``(...)`` distance from the camera centre to the pelvis (metres).
        pose_signal: ``"bonemap"``, ``"depth"`` or ``"normal"``.
        depth_range: Metres spanned by the depth code.

    Returns:
        ``(..., C, H, W)`` float32 in [0, 1].
    """
    from hvg_bonemap import BoneMap
    from hvg_bonemap.signals.bonemap import encode_depth, encode_normal

    if pose_signal not in ("bonemap", "depth", "normal"):
        raise ValueError(
            f"stored bone maps give pose_signal 'bonemap', 'depth' or 'normal', not {pose_signal!r}"
        )
    if depth.ndim >= 3 and depth.shape[-3] == 1 and depth.ndim == normal.ndim:
        depth = depth[..., 0, :, :]
    if normal.shape[-3] != 3 or normal.shape[:-3] != depth.shape[:-2]:
        raise ValueError(
            f"normal must have shape (..., 3, H, W) matching depth (..., H, W); got "
            f"{tuple(normal.shape)} and {tuple(depth.shape)}"
        )
    depth = depth.float()
    mask = depth > 0
    if normal.dtype == torch.uint8:
        normal = normal.float() / 127.5 - 1.0
    normal = torch.where(
        mask[..., None, :, :], normal.float(), torch.zeros((), dtype=torch.float32)
    )
    maps = BoneMap(depth=depth, normal=normal, mask=mask, index=torch.where(mask, 0, -1).int())
    parts = []
    for name, _ in POSE_SIGNALS[pose_signal]:
        if name == "depth":
            reference = torch.as_tensor(reference_distance, dtype=torch.float32)
            parts.append(encode_depth(maps, reference.expand(maps.batch_shape), depth_range))
        else:
            parts.append(encode_normal(maps))
    return torch.cat(parts, dim=-3)


def render_pose_signal(
    joints: torch.Tensor, cameras: Any, *, pose_signal: str = "bonemap", **options: Any
) -> torch.Tensor:
    """Render a registered pose signal: joints ``(..., 55, 3)`` × cameras → ``(..., C, H, W)``.

    The signal comes from the ``pose_signals`` registry (hvg-bonemap's built-ins or a plugin's).
    """
    from hvg_core.registry import get_registry

    signal = get_registry().load("pose_signals", pose_signal)
    if isinstance(signal, type):
        signal = signal(**options)
    return signal(joints, cameras)
