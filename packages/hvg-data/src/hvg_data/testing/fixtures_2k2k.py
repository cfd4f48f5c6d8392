"""2K2K fixture tree: binary vertex-coloured PLYs, resolution folders, an optional JSON fit."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from hvg_data.meshes import TexturedMesh, save_ply
from hvg_data.testing._people import fixture_person, vertex_colored

#: Rotation taking Y-up to Z-up (the inverse of what the adapter detects and undoes).
Y_UP_TO_Z_UP = np.array([[1.0, 0, 0], [0, 0, -1], [0, 1, 0]])


def make_2k2k_fixture(base: str | Path, *, seed: int = 2) -> Path:
    """Write three subjects covering the known variants.

    * ``train/00003/00003.ply``: Y-up, metres, with a KETI JSON fit ``00003.json`` (neutral,
      45-D axis-angle hands, unbatched lists, ``transl``).
    * ``train/1M/00007/00007.ply``: a resolution sub-folder; Z-up and centimetres; no fit.
    * ``test/00011/scan_renamed.ply``: a renamed file (Polygom release); no fit.

    Returns:
        ``base`` (holding ``train/`` and ``test/``), the adapter's ``root``.
    """
    base = Path(base)
    person = fixture_person(seed, hand_pca=None)
    folder = base / "train" / "00003"
    folder.mkdir(parents=True, exist_ok=True)
    save_ply(vertex_colored(person.meshes[0]), folder / "00003.ply")
    fit = {
        key: getattr(person.params, key)[0].tolist()
        for key in (
            "global_orient",
            "transl",
            "body_pose",
            "betas",
            "jaw_pose",
            "left_hand_pose",
            "right_hand_pose",
            "expression",
        )
    }
    (folder / "00003.json").write_text(json.dumps(fit))

    other = vertex_colored(fixture_person(seed + 1, hand_pca=None).meshes[0])
    z_up_cm = TexturedMesh(
        (100.0 * other.vertices @ Y_UP_TO_Z_UP.T).astype(np.float32),
        other.faces,
        vertex_colors=other.vertex_colors,
    )
    folder = base / "train" / "1M" / "00007"
    folder.mkdir(parents=True, exist_ok=True)
    save_ply(z_up_cm, folder / "00007.ply")

    folder = base / "test" / "00011"
    folder.mkdir(parents=True, exist_ok=True)
    save_ply(
        vertex_colored(fixture_person(seed + 2, hand_pca=None).meshes[0]),
        folder / "scan_renamed.ply",
    )
    return base
