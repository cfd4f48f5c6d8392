"""The few ``hvg_bonemap`` entry points hvg-data uses, imported in one place."""

from __future__ import annotations

from typing import Any

import numpy as np


def bone_maps(
    joints: np.ndarray,
    K: np.ndarray,
    R: np.ndarray,
    t: np.ndarray,
    size: int,
    bones: str = "paper",
    *,
    spec: Any = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bone maps of ``T`` frames of joints seen by ``V`` cameras.

    Args:
        joints: (T, 55, 3) world joints.
        K: (V, 3, 3) intrinsics.
        R: (V, 3, 3) world-to-camera rotations.
        t: (V, 3) world-to-camera translations.
        size: Square image side.
        bones: Bone set name (used without ``spec``).
        spec: The ``hvg_bonemap.PoseSpec`` whose bones and radii are drawn.

    Returns:
        ``depth (V, T, H, W)`` float32, ``normal (V, T, H, W, 3)`` float32 (camera space, 0 for
        background), ``mask (V, T, H, W)`` bool.
    """
    import torch
    from hvg_bonemap.cameras import Cameras
    from hvg_bonemap.ellipsoids import ellipsoids_from_joints
    from hvg_bonemap.rendering import render

    with torch.no_grad():
        ellipsoids = ellipsoids_from_joints(
            torch.from_numpy(np.asarray(joints, np.float32)),
            bones=bones if spec is None else spec.bones,
            radii=None if spec is None else spec.radii,
        )
        # Frames along the second batch axis, views along the first: (1, T) x (V, 1) -> (V, T).
        ellipsoids = type(ellipsoids)(
            ellipsoids.centers[None], ellipsoids.rotations[None], ellipsoids.radii[None]
        )
        cameras = Cameras(
            torch.from_numpy(np.asarray(K, np.float32))[:, None],
            torch.from_numpy(np.asarray(R, np.float32))[:, None],
            torch.from_numpy(np.asarray(t, np.float32))[:, None],
            size,
            size,
        )
        maps = render(ellipsoids, cameras)
    normal = maps.normal.permute(0, 1, 3, 4, 2).numpy()
    return maps.depth.numpy(), normal, maps.mask.numpy()


def orbit(
    views: int,
    *,
    elevation_deg: float,
    distance: float,
    fov_deg: float,
    size: int,
    target: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``K, R, t`` (float64) of ``views`` cameras evenly spaced on a ring around ``target``."""
    import torch
    from hvg_bonemap.cameras import orbit_cameras

    cameras = orbit_cameras(
        views,
        elevation_deg=elevation_deg,
        distance=distance,
        fov_deg=fov_deg,
        width=size,
        height=size,
        target=torch.as_tensor(np.asarray(target, np.float64)),
        dtype=torch.float64,
    )
    return cameras.K.numpy(), cameras.R.numpy(), cameras.t.numpy()
