"""Pose signals: per-pixel conditioning maps ``(..., C, H, W)`` in [0, 1] (paper Table 3)."""

from hvg_bonemap.signals.body_normal import BodyNormalSignal, render_mesh_normals
from hvg_bonemap.signals.bonemap import (
    BoneMapSignal,
    DepthSignal,
    NormalSignal,
    encode_depth,
    encode_normal,
)
from hvg_bonemap.signals.skeleton2d import Skeleton2DSignal

BUILTIN_SIGNALS: dict[str, type] = {
    "bonemap": BoneMapSignal,
    "depth": DepthSignal,
    "normal": NormalSignal,
    "skeleton2d": Skeleton2DSignal,
    "body_normal": BodyNormalSignal,
}
"""hvg-bonemap's own signals by registered name (what ``PoseSpec.for_signal`` reads layouts from)."""

__all__ = [
    "BUILTIN_SIGNALS",
    "BodyNormalSignal",
    "BoneMapSignal",
    "DepthSignal",
    "NormalSignal",
    "Skeleton2DSignal",
    "encode_depth",
    "encode_normal",
    "render_mesh_normals",
]
