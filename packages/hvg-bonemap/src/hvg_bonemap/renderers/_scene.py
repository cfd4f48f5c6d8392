"""Flattening an (ellipsoids, cameras) pair into per-item float64 camera-space tables."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import torch

from hvg_bonemap._validation import BoneMapInputError, broadcast_batch
from hvg_bonemap.cameras import Cameras
from hvg_bonemap.ellipsoids import Ellipsoids

MIN_RADIUS = 1e-6
"""Semi-axes at or below this (1 micrometre) make an ellipsoid volume-less: it is not drawn."""


@dataclass(frozen=True)
class FlatScene:
    """Broadcast and flattened scene, ``M`` items of ``N`` ellipsoids, in camera space (float64).

    Attributes:
        batch_shape: The broadcast batch shape ``...`` with ``prod(...) = M``.
        K: ``(M, 3, 3)`` intrinsics.
        centers: ``(M, N, 3)`` ellipsoid centres in camera coordinates.
        axes: ``(M, N, 3, 3)`` ellipsoid axes (columns) in camera coordinates.
        radii: ``(M, N, 3)`` semi-axes.
        drawable: ``(M, N)`` bool, False for volume-less ellipsoids and ellipsoids containing the
            camera centre (no surface faces the camera; documented as not drawn).
        width: Image width.
        height: Image height.
    """

    batch_shape: tuple[int, ...]
    K: torch.Tensor
    centers: torch.Tensor
    axes: torch.Tensor
    radii: torch.Tensor
    drawable: torch.Tensor
    width: int
    height: int

    @cached_property  # computed once per render, sliced per chunk of items
    def quadric(self) -> torch.Tensor:
        """``(M, N, 3, 3)`` camera-space quadrics ``A diag(r^-2) A^T`` (inf rows for r = 0)."""
        inv_sq = 1.0 / self.radii.clamp_min(MIN_RADIUS) ** 2
        return (self.axes * inv_sq[..., None, :]) @ self.axes.transpose(-1, -2)

    @cached_property
    def covariance(self) -> torch.Tensor:
        """``(M, N, 3, 3)`` ``A diag(r^2) A^T`` (the dual quadric's upper block)."""
        return (self.axes * (self.radii**2)[..., None, :]) @ self.axes.transpose(-1, -2)


def flatten_scene(ellipsoids: Ellipsoids, cameras: Cameras) -> FlatScene:
    """Broadcasts ellipsoid and camera batches and moves ellipsoids into camera space."""
    if not isinstance(ellipsoids, Ellipsoids):
        raise BoneMapInputError(
            f"ellipsoids: expected hvg_bonemap.Ellipsoids, got {type(ellipsoids).__name__}"
        )
    if not isinstance(cameras, Cameras):
        raise BoneMapInputError(
            f"cameras: expected hvg_bonemap.Cameras, got {type(cameras).__name__}"
        )
    batch = broadcast_batch(
        [ellipsoids.batch_shape, cameras.batch_shape], ["ellipsoids", "cameras"]
    )
    m = math.prod(batch)
    n = ellipsoids.count
    device = ellipsoids.centers.device

    def flat(x: torch.Tensor, shape: tuple[int, ...]) -> torch.Tensor:
        # Cast before broadcasting (fewer elements); the inputs were validated on construction.
        x = x.to(device=device, dtype=torch.float64)
        return x.expand(*batch, *shape).reshape(m, *shape)

    centers = flat(ellipsoids.centers, (n, 3))
    rotations = flat(ellipsoids.rotations, (n, 3, 3))
    radii = flat(ellipsoids.radii, (n, 3))
    K = flat(cameras.K, (3, 3))
    R = flat(cameras.R, (3, 3))
    t = flat(cameras.t, (3,))
    centers_cam = centers @ R.transpose(-1, -2) + t[:, None, :]
    axes_cam = R[:, None] @ rotations
    volume = (radii > MIN_RADIUS).all(dim=-1)
    # Camera centre (origin) inside or on the ellipsoid: c^T Q c <= 1.
    local = (axes_cam.transpose(-1, -2) @ centers_cam[..., None])[..., 0] / radii.clamp_min(
        MIN_RADIUS
    )
    outside = (local * local).sum(-1) > 1.0
    return FlatScene(
        batch, K, centers_cam, axes_cam, radii, volume & outside, cameras.width, cameras.height
    )
