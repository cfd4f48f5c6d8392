"""Bone-map pose signals: depth + normal (the paper's default), depth only, normal only."""

from __future__ import annotations

from collections.abc import Mapping

import torch

from hvg_bonemap._validation import as_float_tensor, check_trailing_shape
from hvg_bonemap.cameras import Cameras
from hvg_bonemap.ellipsoids import ellipsoids_from_joints
from hvg_bonemap.pose_encoding import (
    DEFAULT_DEPTH_RANGE,
    depth_code,
    normal_code,
    pelvis_distance,
)
from hvg_bonemap.renderers.output import BoneMap
from hvg_bonemap.rendering import render
from hvg_bonemap.skeleton import DEFAULT_BONE_SET, Bone


def encode_normal(bonemap: BoneMap) -> torch.Tensor:
    """Camera-space normals mapped to [0, 1]: ``(n + 1) / 2``, background 0. ``(..., 3, H, W)``."""
    return normal_code(bonemap.normal, bonemap.mask)


def encode_depth(
    bonemap: BoneMap,
    reference_distance: torch.Tensor,
    depth_range: float = DEFAULT_DEPTH_RANGE,
) -> torch.Tensor:
    """Depth mapped to [0, 1] around a reference distance: nearer is brighter, background 0.

    ``value = clamp(0.5 + (reference - depth) / depth_range, 1/255, 1)`` on the body, so the
    pelvis sits at 0.5 and the code does not depend on how far the camera is; body pixels never
    reach the background value 0 (:func:`hvg_bonemap.pose_encoding.depth_code`).

    Args:
        bonemap: Rendered maps with batch ``...``.
        reference_distance: ``(...)`` distance of the reference point (e.g. the pelvis).
        depth_range: Metres spanned by [0, 1].

    Returns:
        ``(..., 1, H, W)`` float32.
    """
    return depth_code(bonemap.depth, bonemap.mask, reference_distance, depth_range)


class BoneMapSignal:
    """Dual-dimensional bone map (§3.1) as a 4-channel signal: encoded depth, then normals.

    Call with joints ``(..., 55, 3)`` and cameras (batch broadcasting with ``...``); returns
    ``(..., 4, H, W)`` in [0, 1]. ``render_maps`` gives the raw :class:`BoneMap`.

    Args:
        bones: Bone-set name or ``Bone`` list.
        radii: Radius preset or per-bone overrides.
        depth_range: Metres spanned by the depth code (see :func:`encode_depth`).
        backend: Bone-map backend name or callable.
    """

    channels = 4
    layout: tuple[tuple[str, int], ...] = (("depth", 1), ("normal", 3))
    """Parts in channel order (each gets its own guider in the pose modulator)."""
    spec_options = ("bones", "radii", "depth_range")
    """``PoseSpec`` fields the constructor takes (``hvg_bonemap.pose_codec.signal_for``)."""

    def __init__(
        self,
        bones: str | tuple[Bone, ...] = DEFAULT_BONE_SET,
        radii: str | Mapping[str, float] | None = None,
        depth_range: float = DEFAULT_DEPTH_RANGE,
        backend: str = "analytic",
    ) -> None:
        self.bones = bones
        self.radii = radii
        self.depth_range = depth_range
        self.backend = backend

    def render_maps(self, joints: torch.Tensor, cameras: Cameras) -> BoneMap:
        """Raw depth/normal/mask maps of the joints' bone ellipsoids."""
        joints = as_float_tensor(joints, "joints")
        check_trailing_shape(joints, "joints", (55, 3), "(..., 55, 3)")
        return render(
            ellipsoids_from_joints(joints, self.bones, self.radii), cameras, backend=self.backend
        )

    def _pelvis_distance(self, joints: torch.Tensor, cameras: Cameras) -> torch.Tensor:
        return pelvis_distance(joints.to(cameras.R), cameras.centers)

    def __call__(self, joints: torch.Tensor, cameras: Cameras) -> torch.Tensor:
        """Signal ``(..., 4, H, W)``: channel 0 depth code, channels 1-3 normal code."""
        maps = self.render_maps(joints, cameras)
        depth = encode_depth(
            maps, self._pelvis_distance(joints, cameras).expand(maps.batch_shape), self.depth_range
        )
        return torch.cat([depth, encode_normal(maps)], dim=-3)


class DepthSignal(BoneMapSignal):
    """Bone-map depth code only, ``(..., 1, H, W)`` (Table 3 ablation)."""

    channels = 1
    layout = (("depth", 1),)

    def __call__(self, joints: torch.Tensor, cameras: Cameras) -> torch.Tensor:
        """Signal ``(..., 1, H, W)``."""
        maps = self.render_maps(joints, cameras)
        return encode_depth(
            maps, self._pelvis_distance(joints, cameras).expand(maps.batch_shape), self.depth_range
        )


class NormalSignal(BoneMapSignal):
    """Bone-map normal code only, ``(..., 3, H, W)`` (Table 3 ablation)."""

    channels = 3
    layout = (("normal", 3),)

    def __call__(self, joints: torch.Tensor, cameras: Cameras) -> torch.Tensor:
        """Signal ``(..., 3, H, W)``."""
        return encode_normal(self.render_maps(joints, cameras))
