"""2K2K: 2,050 vertex-coloured PLY scans (KETI / Polygom re-release), SMPL-X fits optional.

Layout (``research/datasets.md`` §3)::

    <root>/<split>/<id>/<id>.ply                  # split = train | test, id = 5 digits
    <root>/<split>/{1M,50K}/<id>/<id>.ply         # resolution sub-folders of some releases
    <root>/<split>/<id>/*.json                    # optional SMPL-X fit (KETI JSON)

``<root>`` may also be the parent of the unpacked release folder (``2K2K/``, ``Polygom2K2K/`` or
any sub-folder holding ``train/`` or ``test/``).

Subject ids are ``"<split>/<id>"`` (with the resolution folder when present:
``"train/1M/00003"``). When ``<id>.ply`` is absent the first ``*.ply`` of the folder is used (the
Polygom release renamed files). Scans are not guaranteed metric or Y-up: the up axis is the
longest bounding-box extent (Z-up scans are rotated to Y-up) and centimetre/millimetre scans are
scaled to metres; the same transform is applied to the fit.

Fit convention (KETI JSON): unbatched lists ``global_orient``, ``transl``, ``body_pose``,
``betas``, ``jaw_pose``, ``left_hand_pose``/``right_hand_pose`` (45-D axis-angle,
``use_pca=False``), ``expression``; neutral model. Fits are low-trust; a scan without one loads
with ``smplx=None`` and the render pipeline records it as failed (bone maps need a fit).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np
from hvg_core.errors import InputError

from hvg_data.adapter import DatasetAdapter, Sample
from hvg_data.datasets._layout import numbered_subdirs
from hvg_data.meshes import load_ply
from hvg_data.rotations import axis_angle_to_matrix, matrix_to_axis_angle
from hvg_data.smplx_params import SMPLXParams, params_from_mapping

SPLITS = ("train", "test")
RESOLUTIONS = ("1M", "50K")
#: Folders the releases unpack to, tried when ``--root`` is their parent (any sub-folder holding
#: ``train/`` or ``test/`` is found too).
RELEASE_DIR_NAMES = ("2K2K", "2k2k", "Polygom2K2K", "polygom-2K2K")
FIT_NAMES = ("smplx_param.json", "smplx.json", "smplx_params.json")


def normalising_transform(vertices: np.ndarray) -> tuple[np.ndarray, float, str]:
    """Rotation to Y-up and scale to metres for a scan of unknown axes and units.

    Returns:
        ``(rotation (3, 3), scale, up_axis)`` with ``x_metric = scale * rotation @ x``.
    """
    extent = vertices.max(0) - vertices.min(0)
    up = int(np.argmax(extent))
    if up == 2:  # Z up -> Y up: rotate -90 degrees about X (y <- z, z <- -y)
        rotation = np.array([[1.0, 0, 0], [0, 0, 1], [0, -1, 0]])
    elif up == 0:  # X up (rare) -> Y up: rotate +90 degrees about Z
        rotation = np.array([[0.0, 1, 0], [-1, 0, 0], [0, 0, 1]])
    else:
        rotation = np.eye(3)
    height = float(extent[up])
    scale = 1.0 if height < 5 else 0.01 if height < 500 else 0.001
    return rotation, scale, "xyz"[up]


def compose_world_transform(params: SMPLXParams, rotation: np.ndarray, scale: float) -> SMPLXParams:
    """Apply ``x -> scale * rotation @ x`` after the fit's own world transform."""
    current = axis_angle_to_matrix(params.world_rotation)
    new_rotation = matrix_to_axis_angle(rotation @ current).astype(np.float32)
    return dataclasses.replace(
        params,
        scale=(params.scale * scale).astype(np.float32),
        world_rotation=new_rotation,
        world_translation=(scale * params.world_translation @ rotation.T).astype(np.float32),
    )


class TwoK2KAdapter(DatasetAdapter):
    """2K2K vertex-coloured PLY scans; SMPL-X fits optional.

    Args:
        root: Folder holding ``train/`` and/or ``test/``.
        resolution: Prefer ``"1M"`` or ``"50K"`` when both resolution folders exist.
    """

    name = "2k2k"
    description = "2K2K: 2,050 vertex-coloured PLY scans (train/test), optional SMPL-X JSON fits."
    kind = "scan"
    download_hint = (
        "Request 2K2K from https://github.com/ketiVision/2K2K (or the Polygom re-release on "
        "Hugging Face), unpack it so that <root>/train/<id>/<id>.ply exists, and pass --root."
    )

    expected_layout = (
        "train|test/<id>/<id>.ply (id: digits; vertex-coloured PLY) [+ <id>.json fit]",
        "train|test/1M|50K/<id>/<id>.ply",
    )

    def found_folders(self) -> dict[str, Path]:
        """The split folders found."""
        return {
            split: self.data_dir / split for split in SPLITS if (self.data_dir / split).is_dir()
        }

    def __init__(self, root: Any = None, *, resolution: str = "1M", **options: Any) -> None:
        super().__init__(root, resolution=resolution, **options)
        if resolution not in RESOLUTIONS:
            raise InputError(f"resolution must be one of {RESOLUTIONS}", field="resolution")
        self.resolution = resolution
        assert self.root is not None
        self.data_dir = self._release_dir(self.root)

    @staticmethod
    def _release_dir(root: Path) -> Path:
        """``root`` if it holds ``train/``/``test/``, else the unpacked release folder in it."""
        if any((root / split).is_dir() for split in SPLITS):
            return root
        named = [root / name for name in RELEASE_DIR_NAMES]
        others = sorted(entry for entry in root.iterdir() if entry.is_dir())
        for candidate in (*named, *others):
            if candidate.is_dir() and any((candidate / split).is_dir() for split in SPLITS):
                return candidate
        return root

    def _subject_dirs(self) -> dict[str, Path]:
        found: dict[str, Path] = {}
        for split in SPLITS:
            base = self.data_dir / split
            for resolution in (self.resolution, *[r for r in RESOLUTIONS if r != self.resolution]):
                for sid in numbered_subdirs(base / resolution):
                    found.setdefault(f"{split}/{sid}", base / resolution / sid)
            for sid in numbered_subdirs(base):
                found.setdefault(f"{split}/{sid}", base / sid)
        return found

    def subjects(self) -> list[str]:
        """Ids ``"<split>/<id>"`` of every scan folder."""
        return sorted(self._subject_dirs())

    def _folder(self, subject: str) -> Path:
        folder = self._subject_dirs().get(subject)
        if folder is None:
            raise self._unknown_subject(subject)
        return folder

    def load(self, subject: str) -> Sample:
        """Load the PLY (normalised to metres, Y up) and the fit when present."""
        folder = self._folder(subject)
        sid = folder.name
        ply = folder / f"{sid}.ply"
        if not ply.is_file():
            plys = sorted(folder.glob("*.ply"))
            if not plys:
                raise InputError("no PLY scan in the subject folder", path=folder)
            ply = plys[0]
        mesh = load_ply(ply)
        rotation, scale, up = normalising_transform(mesh.vertices)
        mesh = mesh.transformed(rotation, np.zeros(3), scale)
        fit_path = self._fit_path(folder, sid)
        params = None
        if fit_path is not None:
            params = compose_world_transform(self.load_fit(fit_path), rotation, scale)
        sources = (ply,) if fit_path is None else (ply, fit_path)
        return Sample(
            dataset=self.name,
            subject=subject,
            smplx=params,
            meshes=(mesh,),
            source_files=sources,
            metadata={"up_axis": up, "unit_scale": scale},
        )

    def _fit_path(self, folder: Path, sid: str) -> Path | None:
        for name in (f"{sid}.json", *FIT_NAMES):
            if (folder / name).is_file():
                return folder / name
        shared = self.data_dir / "smplx" / f"{sid}.json"
        return shared if shared.is_file() else None

    @staticmethod
    def load_fit(path: Path) -> SMPLXParams:
        """Read a KETI-style SMPL-X JSON fit (neutral, axis-angle hands)."""
        try:
            data = json.loads(path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise InputError(f"invalid JSON ({error})", path=path) from error
        if isinstance(data, list) and len(data) == 1:
            data = data[0]
        return params_from_mapping(
            data, path=path, gender="neutral", flat_hand_mean=False, hands_are_pca=False
        )
