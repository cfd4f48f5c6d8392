"""MVHumanNet fixture capture: rendered images, masks, cameras and EasyMocap fits.

The capture world is Z-down like the released captures (the body's +Y maps to world -Z through
``Rh``; ``world_up="+z"`` gives a Z-up world), cameras stand on a ring around the subject, and
every stored image carries a red marker drawn where the *official* convention puts a known 3-D
point (:data:`MARKER_OFFSET` from the frame-0 pelvis): project with the
full-resolution ``K`` (pixel centres at integers) and ``[R | translation / 1000 * camera_scale]``,
then take the stored pixel containing that point after the half-resolution downscale. A loader
that gets the millimetres, ``camera_scale``, the resolution or the half-pixel wrong misses it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hvg_data.renderers.embree import EmbreeScanRenderer
from hvg_data.rotations import axis_angle_to_matrix, matrix_to_axis_angle
from hvg_data.testing._people import fixture_person, write_pickle

CAMERA_SCALE = 100 / 65  # the "Longgang" rig: 2448 x 2048 full resolution
FULL_SIZE = (2448, 2048)
MARKER_OFFSET = np.array([0.0, 0.1, 0.0])  # body frame: 10 cm up from the pelvis, on the belly
#: Rotation from the body's frame (Y up) to the capture world. The released captures are Z-down
#: (the body's up is world -Z; issue 13's check of the shipped sample), the default here.
WORLD_UP = {
    "-z": np.array([[1.0, 0, 0], [0, 0, 1], [0, -1, 0]]),  # body +Y -> world -Z
    "+z": np.array([[1.0, 0, 0], [0, 0, -1], [0, 1, 0]]),  # body +Y -> world +Z
}
MARKER_COLOR = (255, 0, 0)


@dataclass(frozen=True)
class MVHumanNetFixture:
    """What the fixture wrote, for tests.

    Attributes:
        root: Folder holding the capture folder(s) (the adapter's ``root``).
        capture: Capture id.
        cameras: Camera names.
        ticks: Ticks with images and fits.
        marker: (3,) world point of the marker.
        marker_pixels: Camera name -> (row, col) of the marker in the stored images.
        stored_size: (width, height) of the stored images.
    """

    root: Path
    capture: str
    cameras: tuple[str, ...]
    ticks: tuple[str, ...]
    marker: np.ndarray
    marker_pixels: dict[str, tuple[int, int]]
    stored_size: tuple[int, int]


def _look_at(eye: np.ndarray, target: np.ndarray, up: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    z = (target - eye) / np.linalg.norm(target - eye)
    x = np.cross(z, up)
    x /= np.linalg.norm(x)
    y = np.cross(z, x)
    R = np.stack([x, y, z])
    return R, -R @ eye


def make_mvhumannet_fixture(
    base: str | Path,
    *,
    capture: str = "100001",
    cameras: int = 8,
    frames: int = 3,
    downscale: int = 16,
    seed: int = 4,
    world_up: str = "-z",
) -> MVHumanNetFixture:
    """Write one capture folder with ``cameras`` cameras and ``frames`` fitted frames.

    Stored images are ``FULL_SIZE / downscale`` (the real release stores ``/ 2``; a smaller
    factor keeps fixtures fast, and the loader infers the factor from the stored size). An extra
    tick without a fit is written too (it must be skipped).

    Returns:
        A :class:`MVHumanNetFixture`.
    """
    base = Path(base)
    folder = base / capture
    person = fixture_person(seed, frames=frames, hand_pca=6, zero_root=True)
    params = person.params
    yaw = float(np.random.default_rng(seed).uniform(0, 2 * np.pi))
    if world_up not in WORLD_UP:
        raise ValueError(f"world_up must be one of {sorted(WORLD_UP)}")
    body_to_world = WORLD_UP[world_up]
    rh = matrix_to_axis_angle(body_to_world @ axis_angle_to_matrix(np.array([0.0, yaw, 0.0])))
    th = np.array([0.2, -0.1, 1.3])
    rotation = axis_angle_to_matrix(rh)
    world_joints = person.model_joints @ rotation.T + th
    # Rebuild the meshes in the capture's world (fixture_person made them in model space).
    from hvg_data.synthetic_person import person_mesh, random_outfit

    outfit = random_outfit(np.random.default_rng(seed + 7))
    meshes = [person_mesh(world_joints[f], outfit, seed=seed, lon=12, lat=8) for f in range(frames)]
    pelvis = world_joints[0, 0]
    marker = pelvis + body_to_world @ MARKER_OFFSET

    full_w, full_h = FULL_SIZE
    width, height = full_w // downscale, full_h // downscale
    s = width / full_w
    K_full = np.array([[1400.0, 0, (full_w - 1) / 2], [0, 1400.0, (full_h - 1) / 2], [0, 0, 1]])
    names = tuple(f"CC32871A{4 + 5 * i:03d}" for i in range(cameras))
    extrinsics, Ks, Rs, ts = {}, [], [], []
    for i, name in enumerate(names):
        angle = 2 * np.pi * i / cameras + 0.3
        ring = np.array([3.0 * np.cos(angle), 0.1 * (i % 2), 3.0 * np.sin(angle)])
        eye = pelvis + body_to_world @ ring  # a ring around the body's up axis
        R, t = _look_at(eye, pelvis, body_to_world @ np.array([0.0, 1.0, 0.0]))
        translation_mm = t * 1000.0 / CAMERA_SCALE
        extrinsics[f"1_{name}.png"] = {
            "focal_length": [K_full[0, 0], K_full[1, 1]],
            "image_center": [K_full[0, 2], K_full[1, 2]],
            "translation": translation_mm.tolist(),
            "camera_pos": eye.tolist(),
            "quaternion": [1.0, 0.0, 0.0, 0.0],
            "rotation": R.tolist(),
        }
        Ks.append(np.diag([s, s, 1.0]) @ (K_full + np.array([[0, 0, 0.5], [0, 0, 0.5], [0, 0, 0]])))
        Rs.append(R)
        ts.append(t)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "camera_extrinsics.json").write_text(json.dumps(extrinsics, indent=1))
    (folder / "camera_intrinsics.json").write_text(
        json.dumps({"intrinsics": K_full.tolist(), "dist": []})
    )
    write_pickle(folder / "camera_scale.pkl", CAMERA_SCALE)

    marker_pixels = {}
    for name, R, t in zip(names, Rs, ts):
        # The official convention, independent of the loader under test.
        camera = R @ marker + t
        u_full, v_full = (K_full @ camera)[:2] / camera[2]
        marker_pixels[name] = (int(np.floor((v_full + 0.5) * s)), int(np.floor((u_full + 0.5) * s)))

    from PIL import Image

    renderer = EmbreeScanRenderer(background=(40, 40, 40))
    ticks = tuple(f"{5 * (f + 1):04d}" for f in range(frames))
    for f, tick in enumerate((*ticks, f"{5 * (frames + 1):04d}")):
        mesh = meshes[min(f, frames - 1)]
        result = renderer.render(mesh, np.stack(Ks), np.stack(Rs), np.stack(ts), width, height)
        for c, name in enumerate(names):
            image = result.rgb[c].copy()
            row, col = marker_pixels[name]
            if 0 <= row < height and 0 <= col < width:
                image[row, col] = MARKER_COLOR
            for sub, array in (("images_lr", image), ("fmask_lr", result.mask[c])):
                out = folder / sub / name
                out.mkdir(parents=True, exist_ok=True)
                if sub == "images_lr":
                    Image.fromarray(array).save(out / f"{tick}_img.jpg", quality=98, subsampling=0)
                else:
                    Image.fromarray(array.astype(np.uint8) * 255).save(
                        out / f"{tick}_img_fmask.png"
                    )
    smpl_dir = folder / "smplx" / "smpl"
    smpl_dir.mkdir(parents=True, exist_ok=True)
    for f in range(frames):
        poses = np.concatenate(
            [
                np.zeros(3),
                params.body_pose[f],
                params.left_hand_pose[f],
                params.right_hand_pose[f],
                params.jaw_pose[f],
                params.leye_pose[f],
                params.reye_pose[f],
            ]
        )
        person_json = [
            {
                "id": 0,
                "Rh": [rh.tolist()],
                "Th": [th.tolist()],
                "poses": [poses.tolist()],
                "shapes": [params.betas[f].tolist()],
                "expression": [params.expression[f].tolist()],
            }
        ]
        (smpl_dir / f"{f:06d}.json").write_text(json.dumps(person_json))
    return MVHumanNetFixture(base, capture, names, ticks, marker, marker_pixels, (width, height))
