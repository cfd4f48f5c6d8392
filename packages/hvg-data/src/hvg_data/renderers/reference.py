"""Slow, obviously correct scan renderer (Möller-Trumbore over every face): the test oracle."""

from __future__ import annotations

import numpy as np

from hvg_data.meshes import TexturedMesh
from hvg_data.renderers.base import ScanRender, camera_rays, check_cameras, shade_hits


class ReferenceScanRenderer:
    """Brute-force float64 ray-triangle intersection; for tiny meshes and images only.

    Args:
        background: RGB colour of background pixels (0-255).
    """

    name = "reference"

    def __init__(self, background: tuple[int, int, int] = (255, 255, 255)) -> None:
        self.background = np.asarray(background, np.uint8)

    def render(
        self,
        mesh: TexturedMesh,
        K: np.ndarray,
        R: np.ndarray,
        t: np.ndarray,
        width: int,
        height: int,
    ) -> ScanRender:
        """Same contract as :meth:`EmbreeScanRenderer.render`."""
        views = check_cameras(K, R, t)
        corners = mesh.vertices[mesh.faces].astype(np.float64)  # (F, 3, 3)
        v0, e1, e2 = corners[:, 0], corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0]
        shape = (views, height, width)
        rgb = np.empty((*shape, 3), np.uint8)
        rgb[:] = self.background
        mask = np.zeros(shape, bool)
        distance = np.zeros(shape, np.float32)
        triangle = np.full(shape, -1, np.int32)
        for view in range(views):
            origin, directions = camera_rays(
                np.asarray(K[view], np.float64),
                np.asarray(R[view], np.float64),
                np.asarray(t[view], np.float64),
                width,
                height,
            )
            for pixel, direction in enumerate(directions.astype(np.float64)):
                p = np.cross(direction, e2)
                det = np.einsum("fi,fi->f", e1, p)
                valid = np.abs(det) > 1e-12
                inv = np.where(valid, 1.0 / np.where(valid, det, 1.0), 0.0)
                s = origin - v0
                u = np.einsum("fi,fi->f", s, p) * inv
                q = np.cross(s, e1)
                v = (q @ direction) * inv
                dist = np.einsum("fi,fi->f", e2, q) * inv
                ok = valid & (u >= 0) & (v >= 0) & (u + v <= 1) & (dist > 0)
                if not ok.any():
                    continue
                face = int(np.argmin(np.where(ok, dist, np.inf)))
                row, col = divmod(pixel, width)
                mask[view, row, col] = True
                triangle[view, row, col] = face
                distance[view, row, col] = dist[face]
                rgb[view, row, col] = shade_hits(
                    mesh, np.array([face]), np.array([u[face]]), np.array([v[face]])
                )[0]
        return ScanRender(rgb, mask, distance, triangle)
