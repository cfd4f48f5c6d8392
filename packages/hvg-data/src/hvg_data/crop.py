"""Pelvis-centred crops (view alignment) as intrinsics changes, and camera picking for captures.

A crop box followed by a resize is an affine map of pixel coordinates, so instead of resampling a
render the crop is folded into ``K`` and the scan and bone maps are rendered directly at the output
size: exact, and no pixels are wasted. Capture images (MVHumanNet) are resampled with the same
box so that they stay consistent with their bone maps.
"""

from __future__ import annotations

import numpy as np
from hvg_core.errors import InputError

from hvg_data.rotations import axis_angle_to_matrix


def project(
    K: np.ndarray, R: np.ndarray, t: np.ndarray, points: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Project world points into each camera.

    Args:
        K: (V, 3, 3) intrinsics.
        R: (V, 3, 3) world-to-camera rotations.
        t: (V, 3) world-to-camera translations.
        points: (P, 3) world points.

    Returns:
        ``pixels (V, P, 2)`` (pixel centres at integer + 0.5) and ``depth (V, P)`` (camera z).
    """
    camera = np.einsum("vij,pj->vpi", R, points) + t[:, None]
    z = camera[..., 2]
    image = np.einsum("vij,vpj->vpi", K, camera)
    return image[..., :2] / np.where(np.abs(z) > 1e-9, z, 1e-9)[..., None], z


def pelvis_crop_boxes(
    K: np.ndarray, R: np.ndarray, t: np.ndarray, pelvis: np.ndarray, extent: float
) -> np.ndarray:
    """Square crops centred on the projected pelvis, covering ``extent`` metres at its depth.

    The view alignment of the pose input, shared with inference: a numpy front of
    :func:`hvg_bonemap.alignment.view_alignment_boxes` (over several frames the box is fixed, a
    static camera: centred on the mean projected pelvis, sized from the mean depth).

    Args:
        K: (V, 3, 3) intrinsics.
        R: (V, 3, 3) world-to-camera rotations.
        t: (V, 3) world-to-camera translations.
        pelvis: (T, 3) world pelvis positions.
        extent: Metric side of the crop at the pelvis depth.

    Returns:
        (V, 4) float64 boxes ``(x0, y0, x1, y1)`` in the cameras' pixels.

    Raises:
        InputError: The pelvis is behind a camera (``field="cameras"``).
    """
    import torch
    from hvg_bonemap.alignment import view_alignment_boxes
    from hvg_bonemap.cameras import Cameras

    cameras = Cameras(
        torch.as_tensor(np.asarray(K, np.float64)),
        torch.as_tensor(np.asarray(R, np.float64)),
        torch.as_tensor(np.asarray(t, np.float64)),
        1,
        1,
    )
    try:
        boxes = view_alignment_boxes(
            torch.as_tensor(np.asarray(pelvis, np.float64).reshape(-1, 3)), cameras, extent
        )
    except ValueError as error:
        raise InputError(f"view alignment: {error}", field="cameras") from error
    return boxes.numpy()


def crop_intrinsics(K: np.ndarray, boxes: np.ndarray, size: int) -> np.ndarray:
    """Intrinsics of the crop ``boxes`` resized to ``size`` x ``size``.

    Args:
        K: (V, 3, 3) intrinsics.
        boxes: (V, 4) ``(x0, y0, x1, y1)``.
        size: Output side.

    Returns:
        (V, 3, 3) float64: pixel ``u`` of the full image maps to ``(u - x0) * size / (x1 - x0)``.
    """
    sx = size / (boxes[:, 2] - boxes[:, 0])
    sy = size / (boxes[:, 3] - boxes[:, 1])
    out = np.array(K, np.float64, copy=True)
    out[:, 0, :] *= sx[:, None]
    out[:, 1, :] *= sy[:, None]
    out[:, 0, 2] -= boxes[:, 0] * sx
    out[:, 1, 2] -= boxes[:, 1] * sy
    return out


def pick_cameras_around(
    R: np.ndarray,
    t: np.ndarray,
    pelvis: np.ndarray,
    body_rotation: np.ndarray,
    count: int,
    max_elevation_deg: float = 35.0,
) -> np.ndarray:
    """Pick ``count`` cameras spread evenly in azimuth around the subject, starting in front.

    Azimuth and elevation are measured in the body's frame (up = the body's +Y, front = +Z) so
    the choice does not depend on how the capture's world is oriented. Cameras far above or
    below the subject are skipped when enough remain.

    Args:
        R: (C, 3, 3) world-to-camera rotations.
        t: (C, 3) world-to-camera translations.
        pelvis: (3,) world pelvis.
        body_rotation: (3,) axis-angle of the body's global orientation in the world.
        count: Cameras wanted (all if ``count >= C``).
        max_elevation_deg: Elevation limit for the preferred cameras.

    Returns:
        (min(count, C),) camera indices, ordered by azimuth starting from the front.
    """
    centres = -np.einsum("cji,cj->ci", R, t)  # -R^T t
    body = axis_angle_to_matrix(body_rotation)
    local = (centres - pelvis) @ body  # into the body frame
    azimuth = np.degrees(np.arctan2(local[:, 0], local[:, 2])) % 360.0
    elevation = np.degrees(np.arctan2(local[:, 1], np.hypot(local[:, 0], local[:, 2])))
    candidates = np.flatnonzero(np.abs(elevation) <= max_elevation_deg)
    if len(candidates) < count:
        candidates = np.arange(len(R))
    count = min(count, len(candidates))
    chosen: list[int] = []
    for target in np.arange(count) * 360.0 / count:
        free = [c for c in candidates if c not in chosen]
        gap = np.abs((azimuth[free] - target + 180.0) % 360.0 - 180.0)
        chosen.append(int(free[int(np.argmin(gap))]))
    return np.array(chosen, np.int64)
