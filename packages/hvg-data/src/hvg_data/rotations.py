"""Small numpy rotation helpers (axis-angle <-> matrix), float64 inside for accuracy."""

from __future__ import annotations

import numpy as np


def axis_angle_to_matrix(axis_angle: np.ndarray) -> np.ndarray:
    """Rodrigues' formula.

    Args:
        axis_angle: (..., 3) rotation vectors, radians.

    Returns:
        (..., 3, 3) rotation matrices (float64).
    """
    vector = np.asarray(axis_angle, np.float64)
    angle = np.linalg.norm(vector, axis=-1, keepdims=True)
    axis = vector / np.where(angle > 1e-12, angle, 1.0)
    x, y, z = axis[..., 0], axis[..., 1], axis[..., 2]
    zero = np.zeros_like(x)
    cross = np.stack([zero, -z, y, z, zero, -x, -y, x, zero], -1).reshape(*x.shape, 3, 3)
    sin, cos = np.sin(angle)[..., None], np.cos(angle)[..., None]
    eye = np.broadcast_to(np.eye(3), cross.shape)
    return eye + sin * cross + (1 - cos) * (cross @ cross)


def matrix_to_axis_angle(matrix: np.ndarray) -> np.ndarray:
    """Inverse of :func:`axis_angle_to_matrix` (angles in [0, pi]).

    Args:
        matrix: (..., 3, 3) rotation matrices.

    Returns:
        (..., 3) rotation vectors (float64).
    """
    m = np.asarray(matrix, np.float64)
    cos = np.clip((np.trace(m, axis1=-2, axis2=-1) - 1) / 2, -1.0, 1.0)
    angle = np.arccos(cos)
    skew = np.stack(
        [m[..., 2, 1] - m[..., 1, 2], m[..., 0, 2] - m[..., 2, 0], m[..., 1, 0] - m[..., 0, 1]], -1
    )
    sin = np.sin(angle)
    small = sin > 1e-6
    vector = np.where(
        small[..., None],
        skew / np.where(small, 2 * sin, 1.0)[..., None] * angle[..., None],
        0.5 * skew,
    )
    # Near pi the skew part vanishes: take the axis from the symmetric part instead.
    near_pi = (~small) & (cos < 0)
    if np.any(near_pi):
        sym = (m[near_pi] + np.eye(3)) / 2
        column = np.argmax(np.diagonal(sym, axis1=-2, axis2=-1), -1)
        axis = sym[np.arange(len(column)), :, column]
        axis /= np.linalg.norm(axis, axis=-1, keepdims=True)
        vector[near_pi] = axis * angle[near_pi][..., None]
    return vector
