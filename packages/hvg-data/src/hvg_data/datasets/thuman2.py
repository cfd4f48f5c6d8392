"""THuman2.0: 526 textured scans (``0000``-``0525``) with separately released SMPL-X fits.

Layout (see ``research/datasets.md`` §1)::

    <root>/<sid>/<sid>.obj, material0.mtl, material0.jpeg        # THuman2.0_Release
    <fits>/<sid>/smplx_param.pkl [, mesh_smplx.obj]              # "SMPL-X Paras" download

The fits archive ``THUman2.0 SMPL-X Paras.zip`` unpacks to ``THUman2.0 SMPL-X Paras/``, found
without options beside the release (or inside it). Its pickles are protocol 3 dicts of
``trimesh.caching.TrackedArray`` arrays (read as plain arrays by the restricted unpickler);
``scale`` is 0-d and ``translation`` ``(3,)``.

``<root>`` may also be a parent holding ``THuman2.0_Release/`` (or ``scans/``). The fits folder is
the ``fits_root`` option, or the first of :attr:`Thuman2Adapter.fit_dir_names` found in ``<root>``
or beside it; a ``smplx_param.pkl`` inside the scan folder is used as well.

Conventions: male SMPL-X, PCA-12 hands with ``flat_hand_mean=False``, and the fit is mapped onto
the scan after the model: ``x_scan = scale * x_smplx + translation`` (``scale``/``translation`` keys
of the pickle, ranks ``(1,)``/``(1, 1)`` and ``(3,)``/``(1, 3)`` accepted). Pickles are read with the
restricted unpickler. Scans are Y-up but not metric (subjects differ in size; THuman2.0 issue #8),
so the loader maps the scan into the fit's metric frame, ``x = (x_scan - translation) / scale``,
and returns the fit with an identity world transform: bone-map radii (metres) then match the
scan. The original ``scale``/``translation`` are kept in ``Sample.metadata``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from hvg_core.errors import InputError

from hvg_data.adapter import DatasetAdapter, Sample
from hvg_data.datasets._layout import first_existing_dir, numbered_subdirs
from hvg_data.meshes import load_obj
from hvg_data.safe_pickle import load_pickle
from hvg_data.smplx_params import SMPLXParams, params_from_mapping


class Thuman2Adapter(DatasetAdapter):
    """THuman2.0 scans with SMPL-X fits.

    Args:
        root: The release folder (or its parent).
        fits_root: Folder of per-subject fit folders (default: found by name).
    """

    name = "thuman2"
    description = "THuman2.0: 526 textured OBJ scans with SMPL-X fits (male, PCA-12 hands)."
    kind = "scan"
    download_hint = (
        "Request THuman2.0 from https://github.com/ytrock/THuman2.0-Dataset, unpack "
        "THuman2.0_Release (folders 0000..0525 with <sid>.obj, material0.mtl, material0.jpeg) and "
        "the SMPL-X fits archive (it unpacks to 'THUman2.0 SMPL-X Paras/<sid>/smplx_param.pkl') "
        "beside it, then pass --root THuman2.0_Release."
    )
    expected_layout = (
        "[THuman2.0_Release/]<sid>/<sid>.obj + material0.mtl + material0.jpeg (sid: 4 digits)",
        "THUman2.0 SMPL-X Paras/<sid>/smplx_param.pkl beside it (or smplx/, fits/, ...)",
    )
    #: Folders of scans users have under ``root`` (``""`` = root itself).
    scan_dir_names: ClassVar[tuple[str, ...]] = ("", "THuman2.0_Release", "scans", "model")
    #: Folder names of the fits download, searched in ``root`` and its parent.
    fit_dir_names: ClassVar[tuple[str, ...]] = (
        "THUman2.0 SMPL-X Paras",  # what the released "THUman2.0 SMPL-X Paras.zip" unpacks to
        "THuman2.0 SMPL-X Paras",
        "smplx",
        "fits",
        "THuman2.0_Smpl-X",
        "THUman20_Smpl-X",
        "THuman2.0_smplx",
        "smplx_fits",
        "SMPL-X",
    )
    #: Keys every fit must hold besides ``betas``/``body_pose``.
    required_fit_keys: ClassVar[tuple[str, ...]] = ("scale", "translation", "global_orient")
    #: Digits of subject ids.
    id_digits: ClassVar[int] = 4
    #: Whether a 45-value hand pose is PCA-45 (THuman2.1 recipe) instead of axis-angle.
    hand_pca_45: ClassVar[bool] = False

    def __init__(self, root: Any = None, *, fits_root: Any = None, **options: Any) -> None:
        super().__init__(root, **({"fits_root": str(fits_root)} if fits_root else {}), **options)
        assert self.root is not None
        scans = first_existing_dir(
            folder
            for name in self.scan_dir_names
            if (folder := self.root / name if name else self.root).is_dir()
            and numbered_subdirs(folder, self.id_digits)
        )
        if scans is None:
            raise InputError(
                f"no {self.id_digits}-digit subject folders found (tried "
                f"{', '.join(repr(n or '.') for n in self.scan_dir_names)})",
                path=self.root,
            )
        self.scan_dir = scans
        if fits_root is not None:
            self.fit_dir: Path | None = Path(fits_root)
            if not self.fit_dir.is_dir():
                raise InputError(
                    "SMPL-X fits folder not found", path=self.fit_dir, field="fits_root"
                )
        else:
            self.fit_dir = first_existing_dir(
                base / name
                for base in (self.root, self.root.parent, scans.parent)
                for name in self.fit_dir_names
            )

    def found_folders(self) -> dict[str, Path]:
        """``scans`` and (when found) ``fits`` folders."""
        found = {"scans": self.scan_dir}
        if self.fit_dir is not None:
            found["fits"] = self.fit_dir
        return found

    def layout_problem(self) -> str | None:
        """Names the fit folders looked for when none was found."""
        if self.fit_dir is not None:
            return None
        names = ", ".join(repr(name) for name in self.fit_dir_names)
        return (
            f"no SMPL-X fits folder beside the scans (looked for {names} in {self.root} and its "
            "parent; or pass --option fits_root=DIR)"
        )

    def subjects(self) -> list[str]:
        """Subject ids ``"0000"``... that have a scan folder."""
        return numbered_subdirs(self.scan_dir, self.id_digits)

    def fit_path(self, subject: str) -> Path:
        """The subject's ``smplx_param.pkl`` (checked in the fits folder, then the scan folder)."""
        candidates = [self.scan_dir / subject / "smplx_param.pkl"]
        if self.fit_dir is not None:
            candidates.insert(0, self.fit_dir / subject / "smplx_param.pkl")
        for candidate in candidates:
            if candidate.is_file():
                return candidate
        raise InputError(
            "SMPL-X fit not found; expected " + " or ".join(str(c) for c in candidates),
            path=candidates[0],
        )

    def load_fit(self, path: Path) -> SMPLXParams:
        """Read a THuman ``smplx_param.pkl`` with the dataset's conventions."""
        data = load_pickle(path)
        if isinstance(data, dict):
            for key in self.required_fit_keys:
                if key not in data:
                    raise InputError(
                        "required key of a THuman smplx_param.pkl is missing (the fit maps onto "
                        "the scan by scale * x + translation)",
                        path=path,
                        field=key,
                    )
        return params_from_mapping(
            data,
            path=path,
            gender="male",
            flat_hand_mean=False,
            hand_pca_45=self.hand_pca_45,
            scale_key="scale",
            translation_key="translation",
        )

    def load(self, subject: str) -> Sample:
        """Load the scan and its SMPL-X fit."""
        folder = self.scan_dir / subject
        if not folder.is_dir():
            raise self._unknown_subject(subject)
        obj = folder / f"{subject}.obj"
        if not obj.is_file():
            objs = sorted(p for p in folder.glob("*.obj") if p.name != "mesh_smplx.obj")
            if not objs:
                raise InputError("no scan OBJ in the subject folder", path=folder)
            obj = objs[0]
        mesh = load_obj(obj)
        fit = self.fit_path(subject)
        params = self.load_fit(fit)
        scale = float(params.scale[0])
        translation = params.world_translation[0].astype(np.float64)
        mesh = mesh.transformed(np.eye(3), -translation / scale, 1.0 / scale)
        params = dataclasses.replace(
            params,
            scale=np.ones_like(params.scale),
            world_translation=np.zeros_like(params.world_translation),
        )
        sources = [obj, fit]
        if mesh.texture is not None:
            sources.append(obj.parent / "material0.jpeg")
        return Sample(
            dataset=self.name,
            subject=subject,
            smplx=params,
            meshes=(mesh,),
            source_files=tuple(p for p in sources if p.is_file()),
            metadata={"scan_scale": scale, "scan_translation": translation.tolist()},
        )
