"""Fixture generators for tests and for users' own tests (no licensed data needed)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from hvg_bonemap.bodies.anthropometric import REST_JOINTS
from hvg_bonemap.skeleton import PARENTS

SMPLX_NUM_VERTICES = 10475
"""Vertex count of the real SMPL-X mesh (smplx's vertex-picked keypoints index up to 9929)."""


def write_synthetic_smplx_model(
    path: str | os.PathLike[str],
    *,
    num_faces: int = 400,
    num_shape: int = 20,
    seed: int = 0,
) -> Path:
    """Writes a random SMPL-X model file with the real file's structure (keys, shapes, dtypes).

    Vertices are scattered around the built-in rest skeleton; each joint is regressed from a few
    vertices (rows of ``J_regressor`` sum to 1), skinning weights favour the nearest joint, and
    shape directions are small random offsets, so ``smplx`` loads and poses it like the real
    model. ``num_shape = 20`` means 10 betas + 10 expression coefficients (smplx's short layout).

    Returns:
        The path written (``.npz``).
    """
    rng = np.random.default_rng(seed)
    n, j = SMPLX_NUM_VERTICES, 55
    rest = np.asarray(REST_JOINTS, dtype=np.float64)
    owner = rng.integers(0, j, size=n)
    v_template = rest[owner] + rng.normal(0.0, 0.03, size=(n, 3))
    regressor = np.zeros((j, n))
    for joint in range(j):
        members = rng.choice(np.flatnonzero(owner == joint), size=4, replace=False)
        regressor[joint, members] = 0.25
    weights = np.full((n, j), 0.02 / (j - 1))
    weights[np.arange(n), owner] = 0.98
    faces = rng.integers(0, n, size=(num_faces, 3))
    comps = np.linalg.qr(rng.normal(size=(45, 45)))[0]
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(
        out,
        v_template=v_template.astype(np.float32),
        f=faces.astype(np.int32),
        shapedirs=(0.01 * rng.normal(size=(n, 3, num_shape))).astype(np.float32),
        posedirs=(0.001 * rng.normal(size=(n, 3, (j - 1) * 9))).astype(np.float32),
        J_regressor=regressor.astype(np.float32),
        weights=weights.astype(np.float32),
        kintree_table=np.stack([np.array(PARENTS), np.arange(j)]).astype(np.int64),
        hands_componentsl=comps.astype(np.float32),
        hands_componentsr=comps[::-1].copy().astype(np.float32),
        hands_meanl=(0.1 * rng.normal(size=45)).astype(np.float32),
        hands_meanr=(0.1 * rng.normal(size=45)).astype(np.float32),
        lmk_faces_idx=rng.integers(0, num_faces, size=51).astype(np.int64),
        lmk_bary_coords=np.full((51, 3), 1.0 / 3.0, dtype=np.float32),
        dynamic_lmk_faces_idx=rng.integers(0, num_faces, size=(79, 17)).astype(np.int64),
        dynamic_lmk_bary_coords=np.full((79, 17, 3), 1.0 / 3.0, dtype=np.float32),
    )
    return out
