"""The dataset-adapter contract every dataset (built-in or plugin) implements.

An adapter turns one dataset's on-disk layout into :class:`Sample` objects: the subject's scan
(mesh per frame) or its calibrated multi-view capture (image files plus cameras), and its SMPL-X
fit as :class:`~hvg_data.smplx_params.SMPLXParams`. Everything downstream (scan renderer, bone
maps, shards, training datasets) only sees samples, so a new dataset is one adapter file::

    from hvg_data import DatasetAdapter, Sample

    class MyScans(DatasetAdapter):
        name = "myscans"
        description = "My scans (OBJ + SMPL-X JSON)."

        def subjects(self):
            return sorted(p.name for p in self.root.iterdir() if p.is_dir())

        def load(self, subject):
            ...
            return Sample(dataset=self.name, subject=subject, smplx=params,
                          meshes=(mesh,), source_files=(obj_path, fit_path))

and one registration in the plugin's ``hvg_register_datasets`` hook::

    register("my_package.myscans:MyScans")  # name, description, kind: read from the class

``hvg_data.testing.check_adapter_contract(MyScans(root))`` runs the same checks the built-ins
pass.

Contract:
    * ``__init__(root, **options)``: fail fast with
      :class:`hvg_core.errors.MissingResourceError` if the root is absent, saying what to download
      and where to put it.
    * ``subjects()``: sorted, unique subject ids (strings), cheap (no mesh loading).
    * ``load(subject)``: a :class:`Sample`; bad files raise :class:`hvg_core.errors.InputError`
      naming the file and field (the pipeline records them and goes on).
    * Geometry is in metres, Y up; the SMPL-X world transform maps the fit onto the scan.
    * Capture cameras are OpenCV world-to-camera in the pixels of the stored images.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from hvg_core.errors import HVGError, InputError, MissingResourceError

from hvg_data.meshes import TexturedMesh
from hvg_data.smplx_params import SMPLXParams


@dataclass(frozen=True)
class CaptureViews:
    """A calibrated multi-view capture of ``T`` frames, read image by image on demand.

    Attributes:
        camera_names: (V,) camera ids as the dataset names them.
        frame_ids: (T,) frame ids as the dataset names them (e.g. MVHumanNet ticks).
        image_paths: V lists of T image files (RGB).
        mask_paths: V lists of T mask files (8-bit, foreground > 127), or ``None``.
        K: (V, 3, 3) float64 intrinsics in the pixels of the stored images (pixel centres at
            integer + 0.5).
        R: (V, 3, 3) float64 world-to-camera rotations (OpenCV).
        t: (V, 3) float64 world-to-camera translations, metres (OpenCV).
        width: Stored image width in pixels.
        height: Stored image height in pixels.
    """

    camera_names: tuple[str, ...]
    frame_ids: tuple[str, ...]
    image_paths: tuple[tuple[Path, ...], ...]
    mask_paths: tuple[tuple[Path, ...], ...] | None
    K: np.ndarray
    R: np.ndarray
    t: np.ndarray
    width: int
    height: int

    def __post_init__(self) -> None:
        views, frames = len(self.camera_names), len(self.frame_ids)
        if len(self.image_paths) != views or any(len(row) != frames for row in self.image_paths):
            raise InputError(
                f"image_paths must be {views} views x {frames} frames", field="image_paths"
            )
        if self.mask_paths is not None and (
            len(self.mask_paths) != views or any(len(row) != frames for row in self.mask_paths)
        ):
            raise InputError(
                f"mask_paths must be {views} views x {frames} frames", field="mask_paths"
            )
        for name, shape in (("K", (views, 3, 3)), ("R", (views, 3, 3)), ("t", (views, 3))):
            if getattr(self, name).shape != shape:
                raise InputError(
                    f"expected shape {shape}, got {getattr(self, name).shape}", field=name
                )

    @property
    def views(self) -> int:
        """Number of cameras ``V``."""
        return len(self.camera_names)

    @property
    def frames(self) -> int:
        """Number of frames ``T``."""
        return len(self.frame_ids)

    def read_image(self, view: int, frame: int) -> np.ndarray:
        """(H, W, 3) uint8 image of one view and frame."""
        return read_rgb(self.image_paths[view][frame], self.width, self.height)

    def read_mask(self, view: int, frame: int) -> np.ndarray:
        """(H, W) bool foreground mask of one view and frame (all True without masks)."""
        if self.mask_paths is None:
            return np.ones((self.height, self.width), bool)
        return read_mask(self.mask_paths[view][frame], self.width, self.height)


def _read_image(path: Path, mode: str, what: str, width: int, height: int) -> np.ndarray:
    """Decode ``path`` in Pillow ``mode`` after checking its header size against the cameras.

    The size is checked from the header before decoding: a few bytes of header can claim
    gigapixels (a decompression bomb). ``what`` names the image in messages ("image", "mask").
    """
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            if image.size != (width, height):
                raise InputError(
                    f"{what} is {image.size[0]}x{image.size[1]}, the cameras expect "
                    f"{width}x{height}",
                    path=path,
                )
            return np.asarray(image.convert(mode))
    except FileNotFoundError as error:
        raise InputError(f"{what} not found", path=path) from error
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as error:
        raise InputError(f"unreadable {what} ({error})", path=path) from error


def read_rgb(path: Path, width: int, height: int) -> np.ndarray:
    """Read an RGB image and check its size (``InputError`` naming the file otherwise)."""
    return _read_image(path, "RGB", "image", width, height)


def read_mask(path: Path, width: int, height: int) -> np.ndarray:
    """Read an 8-bit mask (foreground > 127) as (H, W) bool."""
    return _read_image(path, "L", "mask", width, height) > 127


@dataclass(frozen=True)
class Sample:
    """One subject of a dataset: geometry or images, SMPL-X fit, provenance.

    Exactly one of ``meshes`` (scan datasets) and ``capture`` (multi-view captures) is set.

    Attributes:
        dataset: Registry name of the dataset.
        subject: Subject id, unique within the dataset.
        smplx: The SMPL-X fit of the ``T`` frames, or ``None`` when the dataset has none (the
            pipeline then records the subject as failed: bone maps need a fit).
        meshes: 1 mesh (static scan, any ``T``) or ``T`` meshes (one per frame).
        capture: The calibrated images of a multi-view capture.
        source_files: Files the sample was read from (hashed into the shards).
        metadata: Free-form JSON-serialisable facts (e.g. the detected up axis).
    """

    dataset: str
    subject: str
    smplx: SMPLXParams | None
    meshes: tuple[TexturedMesh, ...] = ()
    capture: CaptureViews | None = None
    source_files: tuple[Path, ...] = ()
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if bool(self.meshes) == (self.capture is not None):
            raise InputError(
                "a sample needs either meshes or a capture, not both or neither", field="meshes"
            )
        if self.smplx is not None:
            frames = self.smplx.frames
            if self.meshes and len(self.meshes) not in (1, frames):
                raise InputError(
                    f"{len(self.meshes)} meshes for {frames} SMPL-X frames", field="meshes"
                )
            if self.capture is not None and self.capture.frames != frames:
                raise InputError(
                    f"{self.capture.frames} captured frames for {frames} SMPL-X frames",
                    field="smplx",
                )

    @property
    def kind(self) -> str:
        """``"scan"`` (meshes to render) or ``"capture"`` (images to crop)."""
        return "scan" if self.meshes else "capture"

    @property
    def frames(self) -> int:
        """Number of frames ``T``."""
        if self.smplx is not None:
            return self.smplx.frames
        return len(self.meshes) if self.meshes else self.capture.frames  # type: ignore[union-attr]


@dataclass(frozen=True)
class LayoutReport:
    """What an adapter found under a folder (``hvg-data list --root``).

    Attributes:
        dataset: Registry name of the dataset.
        subjects: Number of subjects found (0 when the layout was not recognised).
        found: Role -> folder found (e.g. ``{"scans": ..., "fits": ...}``).
        expected: The layout the adapter looks for, one line per alternative.
        problem: Why nothing (or not everything) was found, or ``None``.
    """

    dataset: str
    subjects: int
    found: Mapping[str, Path]
    expected: tuple[str, ...]
    problem: str | None = None


class DatasetAdapter(abc.ABC):
    """Base class of dataset adapters; see the module docstring for the contract.

    Args:
        root: Dataset root folder (``None`` only for adapters with ``needs_root = False``).
        **options: Adapter-specific options (documented by each adapter).

    Raises:
        MissingResourceError: ``root`` is missing or not a folder.
    """

    #: Registry name.
    name: ClassVar[str] = ""
    #: One line for ``hvg-data list``.
    description: ClassVar[str] = ""
    #: ``"scan"`` or ``"capture"``.
    kind: ClassVar[str] = "scan"
    #: False for generated datasets (``synthetic``).
    needs_root: ClassVar[bool] = True
    #: What to download and where to put it, for the missing-root message.
    download_hint: ClassVar[str] = ""
    #: The on-disk layouts the adapter recognises under ``root``, one line each (shown by
    #: ``hvg-data list --root`` when it finds none).
    expected_layout: ClassVar[tuple[str, ...]] = ()
    #: Whether exact joints need the real SMPL-X model (False when the fits were made with the
    #: built-in body, as in ``synthetic``); ``hvg-data render --body-model auto`` reads it.
    fits_need_smplx_model: ClassVar[bool] = True

    def __init__(self, root: str | PathLike[str] | None = None, **options: Any) -> None:
        self.options = dict(options)
        if root is None:
            if self.needs_root:
                raise MissingResourceError(
                    f"the {self.name} dataset needs --root DIR. {self.download_hint}".strip()
                )
            self.root = None
        else:
            self.root = Path(root).expanduser()
            if self.needs_root and not self.root.is_dir():
                raise MissingResourceError(
                    f"dataset folder not found for {self.name}. {self.download_hint}".strip(),
                    path=self.root,
                )

    @abc.abstractmethod
    def subjects(self) -> list[str]:
        """Sorted, unique subject ids (cheap: no mesh or image loading)."""

    @abc.abstractmethod
    def load(self, subject: str) -> Sample:
        """Load one subject.

        Raises:
            InputError: A file of the subject is missing or malformed (file and field named).
        """

    def found_folders(self) -> dict[str, Path]:
        """The folders this adapter reads, by role (``hvg-data list --root`` prints them)."""
        return {} if self.root is None else {"root": self.root}

    def layout_problem(self) -> str | None:
        """Something the layout lacks although subjects were found (e.g. no fits folder)."""
        return None

    @classmethod
    def probe(cls, root: str | PathLike[str]) -> LayoutReport:
        """Check whether ``root`` holds this dataset, without loading any subject.

        Returns:
            A :class:`LayoutReport`; ``subjects == 0`` and ``problem`` set when not found.
        """
        try:
            adapter = cls(root)
            subjects = adapter.subjects()
        except HVGError as error:
            return LayoutReport(cls.name, 0, {}, cls.expected_layout, str(error))
        if not subjects:
            return LayoutReport(
                cls.name, 0, adapter.found_folders(), cls.expected_layout, "no subjects found"
            )
        return LayoutReport(
            cls.name,
            len(subjects),
            adapter.found_folders(),
            cls.expected_layout,
            adapter.layout_problem(),
        )

    def config(self) -> dict[str, Any]:
        """JSON-serialisable description of this adapter's settings (hashed into shards)."""
        return {
            "dataset": self.name,
            "root": None if self.root is None else str(self.root),
            "options": {k: self.options[k] for k in sorted(self.options)},
        }

    def _unknown_subject(self, subject: str) -> InputError:
        return InputError(
            f"unknown subject {subject!r} in {self.name}", path=self.root, field="subject"
        )
