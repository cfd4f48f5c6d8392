"""Slow, obviously correct float64 ray-ellipsoid renderer without culling (the test oracle).

Every pixel ray is intersected with every ellipsoid in the ellipsoid's own unit-sphere frame,
in world coordinates (independently of the fast renderer's camera-space row algebra).
"""

from __future__ import annotations

import math

import torch

from hvg_bonemap._validation import BoneMapInputError, broadcast_batch
from hvg_bonemap.cameras import Cameras
from hvg_bonemap.ellipsoids import Ellipsoids
from hvg_bonemap.renderers._scene import MIN_RADIUS
from hvg_bonemap.renderers.output import BoneMap


def render_reference(
    ellipsoids: Ellipsoids, cameras: Cameras, *, pixel_chunk: int = 16384
) -> BoneMap:
    """Renders depth, normal, mask and index maps by brute force in float64.

    Args:
        ellipsoids: Batch ``...e`` of ``N`` ellipsoids.
        cameras: Batch ``...c`` of cameras; ``...e`` and ``...c`` broadcast to ``...``.
        pixel_chunk: Pixels per step (memory ``pixel_chunk * N`` float64 per temporary).

    Returns:
        :class:`BoneMap` with batch shape ``...``; float32 maps computed in float64.
    """
    if not isinstance(ellipsoids, Ellipsoids) or not isinstance(cameras, Cameras):
        raise BoneMapInputError("render_reference: expected (Ellipsoids, Cameras)")
    batch = broadcast_batch(
        [ellipsoids.batch_shape, cameras.batch_shape], ["ellipsoids", "cameras"]
    )
    m, n = math.prod(batch), ellipsoids.count
    h, w = cameras.height, cameras.width
    f64, device = torch.float64, ellipsoids.centers.device
    ell, cam = ellipsoids.expand(batch), cameras.expand(batch)
    centers = ell.centers.reshape(m, n, 3).to(device=device, dtype=f64)
    rotations = ell.rotations.reshape(m, n, 3, 3).to(device=device, dtype=f64)
    radii = ell.radii.reshape(m, n, 3).to(device=device, dtype=f64)
    K = cam.K.reshape(m, 3, 3).to(device=device, dtype=f64)
    R = cam.R.reshape(m, 3, 3).to(device=device, dtype=f64)
    t = cam.t.reshape(m, 3).to(device=device, dtype=f64)
    depth = torch.zeros(m, h * w, dtype=f64, device=device)
    normal = torch.zeros(m, h * w, 3, dtype=f64, device=device)
    index = torch.full((m, h * w), -1, dtype=torch.int64, device=device)
    v, u = torch.meshgrid(
        torch.arange(h, dtype=f64, device=device) + 0.5,
        torch.arange(w, dtype=f64, device=device) + 0.5,
        indexing="ij",
    )
    pixels = torch.stack(
        [u.reshape(-1), v.reshape(-1), torch.ones(h * w, dtype=f64, device=device)], dim=-1
    )
    for i in range(m):
        origin = -(R[i].T @ t[i])
        directions = pixels @ torch.linalg.inv(K[i]).T @ R[i]  # world-space rays (rows)
        directions = directions / directions.norm(dim=-1, keepdim=True)
        valid = (radii[i] > MIN_RADIUS).all(dim=-1)  # (N,)
        to_local = (
            rotations[i].transpose(-1, -2) / radii[i].clamp_min(MIN_RADIUS)[..., None]
        )  # S^-1 A^T
        o_local = (to_local @ (origin - centers[i])[..., None])[..., 0]  # (N, 3)
        c_coef = (o_local * o_local).sum(-1) - 1.0  # > 0: camera outside
        valid = valid & (c_coef > 0)
        for start in range(0, h * w, pixel_chunk):
            d = directions[start : start + pixel_chunk]  # (P, 3)
            d_local = torch.einsum("nij,pj->pni", to_local, d)  # (P, N, 3)
            a = (d_local * d_local).sum(-1)
            b = (d_local * o_local[None]).sum(-1)
            disc = b * b - a * c_coef[None]
            hit = valid[None] & (disc >= 0)
            # Near root of a t^2 + 2 b t + c = 0, written without cancellation.
            t_near = c_coef[None] / (-b + disc.clamp_min(0).sqrt())
            hit = hit & (-b > 0) & torch.isfinite(t_near)
            t_near = torch.where(hit, t_near, torch.full_like(t_near, math.inf))
            best_t, best_k = t_near.min(dim=-1)
            any_hit = torch.isfinite(best_t)
            rows = torch.nonzero(any_hit).squeeze(1)
            k = best_k[rows]
            point = origin + best_t[rows, None] * d[rows]
            rel = point - centers[i, k]
            q = (rotations[i, k] / radii[i, k, None, :] ** 2) @ rotations[i, k].transpose(-1, -2)
            n_world = (q @ rel[..., None])[..., 0]
            n_cam = n_world @ R[i].T
            n_cam = n_cam / n_cam.norm(dim=-1, keepdim=True)
            ray_cam = d[rows] @ R[i].T
            n_cam = torch.where(((n_cam * ray_cam).sum(-1, keepdim=True) > 0), -n_cam, n_cam)
            depth[i, start + rows] = best_t[rows]
            normal[i, start + rows] = n_cam
            index[i, start + rows] = k
    mask = index >= 0
    return BoneMap(
        depth.to(torch.float32).reshape(*batch, h, w),
        normal.to(torch.float32).reshape(*batch, h, w, 3).movedim(-1, -3).contiguous(),
        mask.reshape(*batch, h, w),
        index.to(torch.int32).reshape(*batch, h, w),
    )


class ReferenceRenderer:
    """Backend wrapper of :func:`render_reference` (``ReferenceRenderer()(ellipsoids, cameras)``).

    Args:
        pixel_chunk: Pixels per step.
    """

    devices = ("cpu", "cuda")

    def __init__(self, pixel_chunk: int = 16384) -> None:
        self.pixel_chunk = int(pixel_chunk)

    def __call__(self, ellipsoids: Ellipsoids, cameras: Cameras) -> BoneMap:
        """Renders with the float64 brute-force oracle."""
        return render_reference(ellipsoids, cameras, pixel_chunk=self.pixel_chunk)
