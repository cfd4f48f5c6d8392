"""Procedural clothed-looking people: textured meshes around the built-in SMPL-X skeleton.

Each body part is a closed, UV-mapped ellipsoid mesh hung on a bone of the posed joints (torso
parts are widened along the body's left-right axis), textured from an atlas where each part
owns a tile painted with its garment: skin, a top (short or long sleeves), trousers, shorts or a
skirt, shoes and hair, in per-subject colours and patterns. Poses are SMPL-X parameters, so the
meshes, the fit and the bone maps agree exactly (same joints). Used by the ``synthetic`` dataset
and by every fixture generator in :mod:`hvg_data.testing`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hvg_data.meshes import TexturedMesh
from hvg_data.smplx_params import SMPLXParams

ATLAS_TILES = 8
TILE = 64

SKIN_TONES = ((241, 194, 167), (224, 172, 105), (198, 134, 66), (141, 85, 36), (255, 219, 172))
GARMENT_COLORS = (
    (200, 40, 40),
    (40, 90, 180),
    (30, 140, 70),
    (230, 190, 40),
    (120, 60, 150),
    (30, 30, 35),
    (235, 235, 230),
    (240, 120, 30),
    (90, 60, 40),
    (100, 170, 200),
)
HAIR_COLORS = ((30, 20, 15), (90, 55, 25), (200, 160, 90), (120, 30, 20), (60, 60, 60))


@dataclass(frozen=True)
class Outfit:
    """Garment choices of one synthetic person."""

    skin: tuple[int, int, int]
    top: tuple[int, int, int]
    top_accent: tuple[int, int, int]
    bottom: tuple[int, int, int]
    shoes: tuple[int, int, int]
    hair: tuple[int, int, int]
    long_sleeves: bool
    lower: str  # "trousers", "shorts" or "skirt"
    pattern: str  # "plain", "stripes" or "checks"


def random_outfit(rng: np.random.Generator) -> Outfit:
    """Draw an outfit."""
    colors = rng.choice(len(GARMENT_COLORS), size=4, replace=False)
    return Outfit(
        skin=SKIN_TONES[rng.integers(len(SKIN_TONES))],
        top=GARMENT_COLORS[colors[0]],
        top_accent=GARMENT_COLORS[colors[1]],
        bottom=GARMENT_COLORS[colors[2]],
        shoes=GARMENT_COLORS[colors[3]],
        hair=HAIR_COLORS[rng.integers(len(HAIR_COLORS))],
        long_sleeves=bool(rng.random() < 0.5),
        lower=str(rng.choice(["trousers", "shorts", "skirt"])),
        pattern=str(rng.choice(["plain", "stripes", "checks"])),
    )


# (name, start joint, end joint, radius x, radius z, garment); end -1 = sphere at start.
def _parts(outfit: Outfit) -> list[tuple[str, int, int, float, float, str]]:
    sleeve = "top" if outfit.long_sleeves else "skin"
    shin = "bottom" if outfit.lower == "trousers" else "skin"
    parts = [
        ("hips", 0, 3, 0.16, 0.11, "bottom"),
        ("belly", 3, 6, 0.15, 0.10, "top"),
        ("chest", 6, 9, 0.17, 0.11, "top"),
        ("neck", 9, 12, 0.055, 0.055, "skin"),
        ("head", 12, 15, 0.095, 0.105, "skin"),
        ("hair", 15, -1, 0.105, 0.11, "hair"),
        ("l_shoulder", 13, 16, 0.06, 0.06, "top"),
        ("r_shoulder", 14, 17, 0.06, 0.06, "top"),
        ("l_upper_arm", 16, 18, 0.055, 0.055, "top"),
        ("r_upper_arm", 17, 19, 0.055, 0.055, "top"),
        ("l_forearm", 18, 20, 0.045, 0.045, sleeve),
        ("r_forearm", 19, 21, 0.045, 0.045, sleeve),
        ("l_hand", 20, 28, 0.04, 0.022, "skin"),
        ("r_hand", 21, 43, 0.04, 0.022, "skin"),
        ("l_thigh", 1, 4, 0.085, 0.085, "bottom"),
        ("r_thigh", 2, 5, 0.085, 0.085, "bottom"),
        ("l_shin", 4, 7, 0.06, 0.06, shin),
        ("r_shin", 5, 8, 0.06, 0.06, shin),
        ("l_foot", 7, 10, 0.05, 0.06, "shoes"),
        ("r_foot", 8, 11, 0.05, 0.06, "shoes"),
    ]
    if outfit.lower == "skirt":
        parts.append(("skirt", 0, -2, 0.22, 0.2, "bottom"))
    return parts


def _garment_color(
    outfit: Outfit, garment: str
) -> tuple[tuple[int, int, int], tuple[int, int, int] | None]:
    if garment == "top":
        return outfit.top, None if outfit.pattern == "plain" else outfit.top_accent
    return {
        "skin": (outfit.skin, None),
        "bottom": (outfit.bottom, None),
        "shoes": (outfit.shoes, None),
        "hair": (outfit.hair, None),
    }[garment]


def paint_atlas(
    outfit: Outfit, parts: list[tuple[str, int, int, float, float, str]], rng: np.random.Generator
) -> np.ndarray:
    """(512, 512, 3) uint8 texture atlas: one 64-pixel tile per part."""
    size = ATLAS_TILES * TILE
    atlas = np.zeros((size, size, 3), np.float32)
    yy, xx = np.mgrid[0:TILE, 0:TILE]
    for index, (_, _, _, _, _, garment) in enumerate(parts):
        row, col = divmod(index, ATLAS_TILES)
        base, accent = _garment_color(outfit, garment)
        tile = np.empty((TILE, TILE, 3), np.float32)
        tile[:] = base
        if accent is not None and outfit.pattern == "stripes":
            tile[(yy // 8) % 2 == 1] = accent
        elif accent is not None and outfit.pattern == "checks":
            tile[((yy // 8) + (xx // 8)) % 2 == 1] = accent
        # Fabric-like variation so renders are not flat colour fields.
        tile *= 1.0 + 0.06 * rng.standard_normal((TILE, TILE, 1)).astype(np.float32)
        atlas[row * TILE : (row + 1) * TILE, col * TILE : (col + 1) * TILE] = tile
    return np.clip(np.round(atlas), 0, 255).astype(np.uint8)


def _unit_sphere(lon: int, lat: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Closed UV sphere: vertices (N, 3), faces (F, 3), uv (M, 2) in [0, 1]^2, face_uv (F, 3)."""
    theta = np.linspace(0, np.pi, lat + 1)  # from +y (top) to -y
    phi = np.linspace(0, 2 * np.pi, lon + 1)
    vertices = [np.array([0.0, 1.0, 0.0])]
    for i in range(1, lat):
        for j in range(lon):
            vertices.append(
                np.array(
                    [
                        np.sin(theta[i]) * np.sin(phi[j]),
                        np.cos(theta[i]),
                        np.sin(theta[i]) * np.cos(phi[j]),
                    ]
                )
            )
    vertices.append(np.array([0.0, -1.0, 0.0]))
    vertex = np.array(vertices)
    bottom = len(vertex) - 1

    def ring(i: int, j: int) -> int:
        return 1 + (i - 1) * lon + (j % lon)

    uv = np.stack(np.meshgrid(np.linspace(0, 1, lon + 1), np.linspace(1, 0, lat + 1)), -1).reshape(
        -1, 2
    )

    def uvi(i: int, j: int) -> int:
        return i * (lon + 1) + j

    faces, face_uv = [], []
    for j in range(lon):
        faces.append([0, ring(1, j + 1), ring(1, j)])
        face_uv.append([uvi(0, j), uvi(1, j + 1), uvi(1, j)])
        faces.append([bottom, ring(lat - 1, j), ring(lat - 1, j + 1)])
        face_uv.append([uvi(lat, j), uvi(lat - 1, j), uvi(lat - 1, j + 1)])
    for i in range(1, lat - 1):
        for j in range(lon):
            a, b, c, d = ring(i, j), ring(i, j + 1), ring(i + 1, j), ring(i + 1, j + 1)
            ta, tb, tc, td = uvi(i, j), uvi(i, j + 1), uvi(i + 1, j), uvi(i + 1, j + 1)
            faces += [[a, c, b], [b, c, d]]
            face_uv += [[ta, tc, tb], [tb, tc, td]]
    return vertex, np.array(faces), uv, np.array(face_uv)


def person_mesh(
    joints: np.ndarray,
    outfit: Outfit,
    *,
    seed: int = 0,
    lon: int = 16,
    lat: int = 10,
    part_scale: float = 1.0,
) -> TexturedMesh:
    """A textured person mesh around posed joints.

    Args:
        joints: (55, 3) world joints.
        part_scale: Multiplies the part radii (which are metric, adult-sized); set it to the
            fit's world scale when the joints are scaled.
        outfit: Garments and colours.
        seed: Seeds the fabric noise of the texture.
        lon: Sphere longitude segments per part.
        lat: Sphere latitude segments per part.

    Returns:
        A UV-textured :class:`TexturedMesh` (``20 * lon * (lat - 1) * 2`` faces or so).
    """
    rng = np.random.default_rng(seed)
    parts = _parts(outfit)
    atlas = paint_atlas(outfit, parts, rng)
    sphere_v, sphere_f, sphere_uv, sphere_fuv = _unit_sphere(lon, lat)
    lateral = joints[1] - joints[2]  # right hip -> left hip: the body's +x
    all_v, all_f, all_uv, all_fuv = [], [], [], []
    v_offset = uv_offset = 0
    margin = 2.0 / TILE
    for index, (_, start, end, rx, rz, _) in enumerate(parts):
        rx, rz = rx * part_scale, rz * part_scale
        if end == -1:  # hair cap: a sphere around the top of the head
            centre = joints[start] + 0.6 * (joints[start] - joints[12])
            axis_y = joints[start] - joints[12]
            half = rx
        elif end == -2:  # skirt: from the pelvis to the knees
            knees = 0.5 * (joints[4] + joints[5])
            centre = 0.5 * (joints[start] + knees) + 0.02 * (joints[3] - joints[0])
            axis_y = joints[start] - knees
            half = 0.55 * float(np.linalg.norm(axis_y))
        else:
            centre = 0.5 * (joints[start] + joints[end])
            axis_y = joints[end] - joints[start]
            half = 0.5 * float(np.linalg.norm(axis_y)) + 0.5 * min(rx, rz)
        y = axis_y / max(float(np.linalg.norm(axis_y)), 1e-9)
        x = lateral - np.dot(lateral, y) * y
        if np.linalg.norm(x) < 1e-6:
            x = np.cross(y, [0.0, 0.0, 1.0]) if abs(y[2]) < 0.9 else np.cross(y, [1.0, 0, 0])
        x /= np.linalg.norm(x)
        z = np.cross(x, y)
        frame = np.stack([x * rx, y * half, z * rz], 1)  # columns scaled
        all_v.append(sphere_v @ frame.T + centre)
        all_f.append(sphere_f + v_offset)
        row, col = divmod(index, ATLAS_TILES)
        u0, v0 = col / ATLAS_TILES + margin / ATLAS_TILES, 1 - (row + 1) / ATLAS_TILES
        span = (1 - 2 * margin) / ATLAS_TILES
        all_uv.append(
            np.stack(
                [u0 + sphere_uv[:, 0] * span, v0 + margin / ATLAS_TILES + sphere_uv[:, 1] * span],
                -1,
            )
        )
        all_fuv.append(sphere_fuv + uv_offset)
        v_offset += len(sphere_v)
        uv_offset += len(sphere_uv)
    return TexturedMesh(
        np.concatenate(all_v).astype(np.float32),
        np.concatenate(all_f).astype(np.int32),
        np.concatenate(all_uv).astype(np.float32),
        np.concatenate(all_fuv).astype(np.int32),
        atlas,
    )


def random_pose_params(
    rng: np.random.Generator,
    frames: int = 1,
    *,
    motion: str = "pose",
    hand_pca_components: int | None = None,
) -> SMPLXParams:
    """SMPL-X parameters of a plausible standing pose or a short walk.

    Args:
        rng: Random generator.
        frames: ``T``; with ``motion="walk"`` the body walks on the spot and turns slowly.
        motion: ``"pose"`` (static pose repeated) or ``"walk"``.
        hand_pca_components: Store hand poses as this many PCA zeros instead of 45-D axis-angle.

    Returns:
        Fit with ``T`` frames (``transl`` keeps the feet near y = 0 for the built-in body).
    """
    body = np.zeros((frames, 21, 3))
    arm_down = np.radians(rng.uniform(55, 80))
    body[:, 15, 2] = -arm_down  # left shoulder (joint 16): +x arm rotates down
    body[:, 16, 2] = arm_down  # right shoulder (joint 17)
    body[:, 17, 1] = -np.radians(rng.uniform(0, 40))  # left elbow bends forward
    body[:, 18, 1] = np.radians(rng.uniform(0, 40))
    body[:, 0, 0] = -np.radians(rng.uniform(-10, 20))  # hips
    body[:, 1, 0] = -np.radians(rng.uniform(-10, 20))
    body[:, 3, 0] = np.radians(rng.uniform(0, 20))  # knees
    body[:, 4, 0] = np.radians(rng.uniform(0, 20))
    body[:, 14, 2] = np.radians(rng.uniform(-15, 15))  # head tilt (joint 15)
    body += np.radians(rng.normal(0, 3, size=body.shape)) * (np.arange(21) < 15)[None, :, None]
    yaw0 = rng.uniform(0, 2 * np.pi)
    yaw = np.full(frames, yaw0)
    if motion == "walk":
        phase = np.linspace(0, 2 * np.pi, frames, endpoint=False) + rng.uniform(0, np.pi)
        swing = np.radians(25) * np.sin(phase)
        body[:, 0, 0] = -swing
        body[:, 1, 0] = swing
        body[:, 3, 0] = np.radians(30) * np.clip(np.sin(phase), 0, None)
        body[:, 4, 0] = np.radians(30) * np.clip(-np.sin(phase), 0, None)
        body[:, 15, 0] = np.radians(20) * np.sin(phase)
        body[:, 16, 0] = -np.radians(20) * np.sin(phase)
        yaw = yaw0 + np.linspace(0, np.radians(rng.uniform(-60, 60)), frames)
    elif motion != "pose":
        raise ValueError(f"unknown motion {motion!r}")
    global_orient = np.zeros((frames, 3))
    global_orient[:, 1] = yaw
    hand_width = 45 if hand_pca_components is None else hand_pca_components
    zeros3 = np.zeros((frames, 3), np.float32)
    transl = np.zeros((frames, 3), np.float32)
    transl[:, 1] = 1.25  # built-in pelvis sits at y = -0.35 in the model frame; feet near 0
    return SMPLXParams(
        betas=np.zeros((frames, 10), np.float32),
        global_orient=global_orient.astype(np.float32),
        body_pose=body.reshape(frames, 63).astype(np.float32),
        left_hand_pose=np.zeros((frames, hand_width), np.float32),
        right_hand_pose=np.zeros((frames, hand_width), np.float32),
        jaw_pose=zeros3,
        leye_pose=zeros3,
        reye_pose=zeros3,
        expression=np.zeros((frames, 10), np.float32),
        transl=transl,
        scale=np.ones(frames, np.float32),
        world_rotation=zeros3,
        world_translation=zeros3.copy(),
        gender="neutral",
        hand_pca_components=hand_pca_components,
        flat_hand_mean=hand_pca_components is not None,
    )
