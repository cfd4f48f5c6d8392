"""Small mesh helpers: icospheres and ellipsoid meshes (for mesh backends and cross-checks)."""

from __future__ import annotations

import numpy as np


def icosphere(subdivisions: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Unit icosphere: ``vertices (V, 3)`` float64 on the unit sphere, ``faces (F, 3)`` int64.

    ``F = 20 * 4**subdivisions`` (1280 faces for 3); faces are counter-clockwise seen from outside.
    """
    if subdivisions < 0:
        raise ValueError(f"subdivisions: expected >= 0, got {subdivisions}")
    phi = (1.0 + 5.0**0.5) / 2.0
    verts = [(-1, phi, 0), (1, phi, 0), (-1, -phi, 0), (1, -phi, 0), (0, -1, phi), (0, 1, phi), (0, -1, -phi),
             (0, 1, -phi), (phi, 0, -1), (phi, 0, 1), (-phi, 0, -1), (-phi, 0, 1)]  # fmt: skip
    faces = [(0, 11, 5), (0, 5, 1), (0, 1, 7), (0, 7, 10), (0, 10, 11), (1, 5, 9), (5, 11, 4), (11, 10, 2),
             (10, 7, 6), (7, 1, 8), (3, 9, 4), (3, 4, 2), (3, 2, 6), (3, 6, 8), (3, 8, 9), (4, 9, 5), (2, 4, 11),
             (6, 2, 10), (8, 6, 7), (9, 8, 1)]  # fmt: skip
    vertices = np.asarray(verts, dtype=np.float64)
    vertices /= np.linalg.norm(vertices, axis=1, keepdims=True)
    tris = np.asarray(faces, dtype=np.int64)
    for _ in range(subdivisions):
        edges = np.sort(np.concatenate([tris[:, [0, 1]], tris[:, [1, 2]], tris[:, [2, 0]]]), axis=1)
        unique, inverse = np.unique(edges, axis=0, return_inverse=True)
        mids = vertices[unique].mean(axis=1)
        mids /= np.linalg.norm(mids, axis=1, keepdims=True)
        mid_index = inverse.reshape(3, -1).T + len(vertices)
        a, b, c = tris.T
        ab, bc, ca = mid_index.T
        tris = np.concatenate(
            [
                np.stack([a, ab, ca], 1),
                np.stack([b, bc, ab], 1),
                np.stack([c, ca, bc], 1),
                np.stack([ab, bc, ca], 1),
            ]
        )
        vertices = np.concatenate([vertices, mids])
    return vertices, tris


def ellipsoid_mesh(
    centers: np.ndarray, rotations: np.ndarray, radii: np.ndarray, subdivisions: int = 3
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Meshes ``N`` ellipsoids as deformed icospheres.

    Args:
        centers: ``(N, 3)``.
        rotations: ``(N, 3, 3)`` axes as columns.
        radii: ``(N, 3)`` semi-axes.
        subdivisions: Icosphere level.

    Returns:
        ``vertices (N * V, 3)``, ``faces (N * F, 3)``, exact ellipsoid ``normals (N * V, 3)``.
    """
    unit, faces = icosphere(subdivisions)
    scaled = unit[None] * radii[:, None, :]
    vertices = np.einsum("nij,nvj->nvi", rotations, scaled) + centers[:, None, :]
    grad = np.einsum("nij,nvj->nvi", rotations, unit[None] / np.maximum(radii[:, None, :], 1e-30))
    normals = grad / np.linalg.norm(grad, axis=-1, keepdims=True)
    offsets = (np.arange(len(centers)) * len(unit))[:, None, None]
    return vertices.reshape(-1, 3), (faces[None] + offsets).reshape(-1, 3), normals.reshape(-1, 3)
