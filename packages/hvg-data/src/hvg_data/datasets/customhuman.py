"""CustomHumans: 646 textured scans in a pelvis-centred canonical frame with SMPL-X fits.

Layout (``research/datasets.md`` §4)::

    <root>/mesh/<scan>_<subject>_<outfit>_<frame>/mesh-f<frame>.obj, .mtl, .png
    <root>/smplx/<same folder>/mesh-f<frame>.json [, mesh-f<frame>_smpl.obj]

e.g. ``mesh/0383_00070_02_00061/mesh-f00061.obj``. ``<root>`` may also be the parent of the
unpacked ``CustomHumans/`` folder. The fit may also sit in the mesh folder
(merged copies). Subject ids are the folder names.

Conventions (``editable-humans`` ``tools/load_json_to_smplx.py``): male SMPL-X, PCA-12 hands with
``flat_hand_mean=True``, unbatched JSON lists; the scan is in a canonical frame: identity root
orientation and the posed pelvis at the origin (the mesh was translated by ``-J_0``). So any
``global_orient``/``transl`` present in the JSON (written by their THuman converter) is ignored
and the fit is placed with ``pelvis_to_origin``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from hvg_core.errors import InputError

from hvg_data.adapter import DatasetAdapter, Sample
from hvg_data.meshes import load_obj
from hvg_data.smplx_params import SMPLXParams, params_from_mapping

FOLDER_PATTERN = re.compile(r"^\d{4}_")
#: Folders the download unpacks to, tried when ``--root`` is their parent.
RELEASE_DIR_NAMES = ("CustomHumans", "CustomHuman", "customhumans")


class CustomHumanAdapter(DatasetAdapter):
    """CustomHumans textured scans with canonical-frame SMPL-X fits."""

    name = "customhuman"
    description = "CustomHumans: 646 textured OBJ scans (pelvis-centred) with SMPL-X JSON fits."
    kind = "scan"
    download_hint = (
        "Request CustomHumans from https://custom-humans.github.io, unpack it so that "
        "<root>/mesh/<folder>/mesh-f<frame>.obj and <root>/smplx/<folder>/mesh-f<frame>.json "
        "exist, and pass --root."
    )

    expected_layout = (
        "mesh/<scan>_<subject>_<outfit>_<frame>/mesh-f<frame>.obj + .mtl + .png",
        "smplx/<same folder>/mesh-f<frame>.json",
    )

    def found_folders(self) -> dict[str, Path]:
        """``mesh`` and (when present) ``smplx`` folders."""
        found = {"mesh": self.mesh_dir}
        if self.fit_dir.is_dir():
            found["smplx"] = self.fit_dir
        return found

    def __init__(self, root: Any = None, **options: Any) -> None:
        super().__init__(root, **options)
        assert self.root is not None
        release = next(
            (
                folder
                for folder in (self.root, *(self.root / name for name in RELEASE_DIR_NAMES))
                if (folder / "mesh").is_dir()
            ),
            self.root,
        )
        self.mesh_dir = release / "mesh"
        if not self.mesh_dir.is_dir():
            raise InputError(
                "expected a mesh/ folder (and smplx/) in the CustomHumans root",
                path=self.root,
                field="mesh",
            )
        self.fit_dir = release / "smplx"

    def subjects(self) -> list[str]:
        """Folder names such as ``"0383_00070_02_00061"``."""
        return sorted(
            entry.name
            for entry in self.mesh_dir.iterdir()
            if entry.is_dir() and FOLDER_PATTERN.match(entry.name)
        )

    def load(self, subject: str) -> Sample:
        """Load the textured scan and its canonical-frame fit."""
        folder = self.mesh_dir / subject
        if not folder.is_dir():
            raise self._unknown_subject(subject)
        objs = sorted(p for p in folder.glob("*.obj") if not p.stem.endswith("_smpl"))
        if not objs:
            raise InputError("no scan OBJ in the subject folder", path=folder)
        obj = objs[0]
        fit = None
        for base in (self.fit_dir / subject, folder):
            if (base / f"{obj.stem}.json").is_file():
                fit = base / f"{obj.stem}.json"
                break
            jsons = sorted(base.glob("*.json")) if base.is_dir() else []
            if jsons:
                fit = jsons[0]
                break
        if fit is None:
            raise InputError(
                f"SMPL-X fit {obj.stem}.json not found in smplx/{subject}/ or the mesh folder",
                path=self.fit_dir / subject,
            )
        mesh = load_obj(obj)
        return Sample(
            dataset=self.name,
            subject=subject,
            smplx=self.load_fit(fit),
            meshes=(mesh,),
            source_files=(obj, fit),
        )

    @staticmethod
    def load_fit(path: Path) -> SMPLXParams:
        """Read a CustomHumans JSON fit (male, PCA-12, flat hand mean, canonical frame)."""
        try:
            data = json.loads(path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise InputError(f"invalid JSON ({error})", path=path) from error
        if not isinstance(data, dict):
            raise InputError("expected a JSON object of SMPL-X parameters", path=path)
        canonical = {k: v for k, v in data.items() if k not in ("global_orient", "transl")}
        return params_from_mapping(
            canonical, path=path, gender="male", flat_hand_mean=True, pelvis_to_origin=True
        )
