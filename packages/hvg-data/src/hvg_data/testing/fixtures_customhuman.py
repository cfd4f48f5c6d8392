"""CustomHumans fixture tree: ``mesh/<folder>/mesh-f<frame>.{obj,mtl,png}`` + ``smplx/<folder>/``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from hvg_data.meshes import TexturedMesh, save_obj
from hvg_data.testing._people import fixture_person

FOLDERS = ("0003_00012_01_00101", "0383_00070_02_00061")


def make_customhuman_fixture(base: str | Path, *, seed: int = 3) -> Path:
    """Write two scans in the canonical frame (identity root, pelvis at the origin).

    The first has its fit in ``smplx/<folder>/mesh-f<frame>.json``; the second is a merged copy
    with the JSON beside the OBJ. Both JSONs also carry a non-zero ``global_orient`` and
    ``transl`` (as written by the authors' THuman converter), which the canonical frame ignores.

    Returns:
        ``base`` (holding ``mesh/`` and ``smplx/``), the adapter's ``root``.
    """
    base = Path(base)
    for number, folder_name in enumerate(FOLDERS):
        person = fixture_person(seed * 100 + number, zero_root=True)
        pelvis = person.model_joints[0, 0]
        mesh = person.meshes[0]
        mesh = TexturedMesh(
            (mesh.vertices - pelvis).astype(np.float32),
            mesh.faces,
            mesh.uv,
            mesh.face_uv,
            mesh.texture,
        )
        frame = folder_name.rsplit("_", 1)[1]
        stem = f"mesh-f{frame}"
        mesh_dir = base / "mesh" / folder_name
        mesh_dir.mkdir(parents=True, exist_ok=True)
        save_obj(mesh, mesh_dir / f"{stem}.obj", material=stem, texture_name=f"{stem}.png")
        fit = {
            key: getattr(person.params, key)[0].tolist()
            for key in (
                "betas",
                "body_pose",
                "left_hand_pose",
                "right_hand_pose",
                "expression",
                "jaw_pose",
                "leye_pose",
                "reye_pose",
            )
        }
        fit["global_orient"] = [0.3, 1.2, -0.2]
        fit["transl"] = [0.5, 0.1, -0.4]
        fit_dir = base / "smplx" / folder_name if number == 0 else mesh_dir
        fit_dir.mkdir(parents=True, exist_ok=True)
        (fit_dir / f"{stem}.json").write_text(json.dumps(fit))
    return base
