"""What every scan renderer returns, and the shared shading from triangle hits."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from hvg_core.errors import InputError

from hvg_data.meshes import TexturedMesh


@dataclass(frozen=True)
class ScanRender:
    """Renders of one mesh from ``V`` cameras.

    Attributes:
        rgb: (V, H, W, 3) uint8 colour (unlit albedo: scan textures carry their own shading);
            background pixels hold the renderer's background colour.
        mask: (V, H, W) bool silhouette (a ray hit the scan).
        distance: (V, H, W) float32 Euclidean distance from the camera centre to the hit, metres;
            0 for background.
        triangle: (V, H, W) int32 hit face index, -1 for background.
    """

    rgb: np.ndarray
    mask: np.ndarray
    distance: np.ndarray
    triangle: np.ndarray


def check_cameras(K: np.ndarray, R: np.ndarray, t: np.ndarray) -> int:
    """Validate ``K (V, 3, 3)``, ``R (V, 3, 3)``, ``t (V, 3)``; return ``V``."""
    K, R, t = np.asarray(K), np.asarray(R), np.asarray(t)
    if K.ndim != 3 or K.shape[1:] != (3, 3):
        raise InputError(f"expected K of shape (V, 3, 3), got {K.shape}", field="K")
    views = K.shape[0]
    if R.shape != (views, 3, 3):
        raise InputError(f"expected R of shape ({views}, 3, 3), got {R.shape}", field="R")
    if t.shape != (views, 3):
        raise InputError(f"expected t of shape ({views}, 3), got {t.shape}", field="t")
    return views


@lru_cache(maxsize=8)
def _camera_directions(k_bytes: bytes, width: int, height: int) -> np.ndarray:
    # Camera-space unit directions through pixel centres, shared by every view with this K.
    K = np.frombuffer(k_bytes, np.float64).reshape(3, 3)
    inverse = np.linalg.inv(K).astype(np.float32)
    u = np.arange(width, dtype=np.float32) + 0.5
    v = np.arange(height, dtype=np.float32) + 0.5
    directions = np.empty((height, width, 3), np.float32)
    directions[..., 0] = inverse[0, 0] * u[None, :] + inverse[0, 1] * v[:, None] + inverse[0, 2]
    directions[..., 1] = inverse[1, 1] * v[:, None] + inverse[1, 2] + 0 * u[None, :]
    directions[..., 2] = inverse[2, 2]
    directions = directions.reshape(-1, 3)
    directions /= np.linalg.norm(directions, axis=-1, keepdims=True)
    directions.setflags(write=False)
    return directions


def camera_rays(
    K: np.ndarray,
    R: np.ndarray,
    t: np.ndarray,
    width: int,
    height: int,
) -> tuple[np.ndarray, np.ndarray]:
    """World-space rays through pixel centres (integer + 0.5) of one camera.

    Args:
        K: (3, 3) intrinsics (upper triangular, as every pinhole ``K``).
        R: (3, 3) world-to-camera rotation.
        t: (3,) world-to-camera translation.
        width: Image width W.
        height: Image height H.

    Returns:
        ``origin (3,)`` float64 camera centre and ``directions (H*W, 3)`` float32 unit vectors,
        row-major pixel order.
    """
    K = np.ascontiguousarray(K, np.float64)
    if abs(K[1, 0]) + abs(K[2, 0]) + abs(K[2, 1]) > 0:
        raise ValueError(f"K must be upper triangular, got {K.tolist()}")
    camera = _camera_directions(K.tobytes(), int(width), int(height))
    rotation = np.asarray(R, np.float32)
    # Rows R^T d as three broadcast multiply-adds: matmul with an inner size of 3 is much slower.
    world = camera[:, 0:1] * rotation[0]
    world += camera[:, 1:2] * rotation[1]
    world += camera[:, 2:3] * rotation[2]
    origin = -np.asarray(R, np.float64).T @ np.asarray(t, np.float64)
    return origin, world


def shade_hits(
    mesh: TexturedMesh, triangle: np.ndarray, bary_u: np.ndarray, bary_v: np.ndarray
) -> np.ndarray:
    """Colour of hit points from face ids and Embree barycentrics.

    Args:
        mesh: The mesh.
        triangle: (P,) int face ids (all valid).
        bary_u: (P,) weight of the face's second vertex.
        bary_v: (P,) weight of the face's third vertex.

    Returns:
        (P, 3) uint8 colours (bilinear texture lookup, or interpolated vertex colours).
    """
    w1 = bary_u.astype(np.float32)[:, None]
    w2 = bary_v.astype(np.float32)[:, None]
    w0 = (1.0 - bary_u - bary_v).astype(np.float32)[:, None]
    if mesh.texture is not None and mesh.uv is not None and mesh.face_uv is not None:
        corner = mesh.face_uv[triangle]  # (P, 3)
        # Corner by corner, in the order a sum over the corner axis adds them (same rounding),
        # without materialising the (P, 3, 2) weighted corners.
        uv = mesh.uv[corner[:, 0]] * w0
        uv += mesh.uv[corner[:, 1]] * w1
        uv += mesh.uv[corner[:, 2]] * w2
        return bilinear_lookup(mesh.texture, uv)
    assert mesh.vertex_colors is not None
    corner = mesh.faces[triangle]
    colors = mesh.vertex_colors[corner[:, 0]].astype(np.float32) * w0
    colors += mesh.vertex_colors[corner[:, 1]].astype(np.float32) * w1
    colors += mesh.vertex_colors[corner[:, 2]].astype(np.float32) * w2
    return np.clip(np.round(colors), 0, 255).astype(np.uint8)


def bilinear_lookup(texture: np.ndarray, uv: np.ndarray) -> np.ndarray:
    """Bilinear texture lookup with wrap-around (OBJ uv: v = 0 at the image bottom).

    Args:
        texture: (Ht, Wt, 3) uint8.
        uv: (P, 2) texture coordinates.

    Returns:
        (P, 3) uint8.
    """
    height, width = texture.shape[:2]
    x = (uv[:, 0] % 1.0) * width - 0.5
    y = (1.0 - (uv[:, 1] % 1.0)) * height - 0.5
    x0, y0 = np.floor(x), np.floor(y)
    fx, fy = (x - x0)[:, None], (y - y0)[:, None]
    col0 = x0.astype(np.int64) % width
    row0 = (y0.astype(np.int64) % height) * width
    col1 = (col0 + 1) % width
    row1 = (row0 + width) % (height * width)
    # One gather of the four texels by flat index (2-D fancy indexing is slower), converted after
    # the gather: never convert the whole (large) texture per call.
    flat = texture.reshape(-1, texture.shape[-1])
    index = np.stack([row0 + col0, row0 + col1, row1 + col0, row1 + col1])
    t00, t01, t10, t11 = np.take(flat, index, axis=0).astype(np.float32)
    top = t00 * (1 - fx) + t01 * fx
    bottom = t10 * (1 - fx) + t11 * fx
    return np.clip(np.round(top * (1 - fy) + bottom * fy), 0, 255).astype(np.uint8)
