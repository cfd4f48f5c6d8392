"""MVHumanNet: multi-view videos (~48 calibrated cameras) with EasyMocap SMPL-X fits.

Layout of one capture (``research/datasets.md`` §5), ``<root>/<outfit id>/``::

    images_lr/<cam>/<tick>_img.jpg          # half resolution; "images/" in the README tree
    fmask_lr/<cam>/<tick>_img_fmask.png     # 8-bit masks; or "fmask/"
    camera_intrinsics.json                  # {"intrinsics": 3x3 full-res, "dist": []}
    camera_extrinsics.json                  # {"1_<cam>.png": {"rotation", "translation" (mm)}}
    camera_scale.pkl                        # pickled float: 120/65 (4096x3000) or 100/65
    smplx/smpl/<tick/5 - 1 :06d>.json       # EasyMocap: [{"Rh", "Th", "poses" (87), ...}]

``<root>`` may also be a single capture folder. Ticks are 4-digit frame counters ``0005, 0010,
...``; tick ``k`` pairs with fit ``k/5 - 1``; frames without a fit are skipped.

Cameras (the official ``read_camera_mvhumannet``): OpenCV world-to-camera, ``R = rotation``,
``t = translation / 1000 * camera_scale``. The shared intrinsics are in full-resolution pixels with
pixel centres at integers (``cx = (W - 1) / 2``); here they are moved to HVG's convention (centres
at integer + 0.5) and scaled to the stored images: ``K = diag(s, s, 1) @ (K_full + 0.5 shift)``
with ``s = stored width / full width`` (0.5 for the released ``*_lr`` images).

Fits (EasyMocap, neutral model, PCA-6 hands, ``flat_hand_mean=True``): ``poses`` (87) = root (3,
zero) + body (63) + left/right hand PCA (6 + 6) + jaw, leye, reye (9); the global transform is
``x = Rodrigues(Rh) @ x_model + Th`` about the origin, kept as the world transform.

Options:
    max_frames: Keep at most this many frames (after ``frame_stride``); default all.
    frame_stride: Keep every n-th frame.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from hvg_core.errors import InputError

from hvg_data.adapter import CaptureViews, DatasetAdapter, Sample
from hvg_data.datasets._layout import first_existing_dir
from hvg_data.safe_pickle import load_pickle
from hvg_data.smplx_params import SMPLXParams, as_param_array, stack_frames

FULL_RESOLUTION = {120 / 65: (4096, 3000), 100 / 65: (2448, 2048)}


def _read_json(path: Path) -> Any:
    if not path.is_file():
        raise InputError("file not found", path=path)
    try:
        return json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise InputError(f"invalid JSON ({error})", path=path) from error


def full_resolution(camera_scale: float, path: Path) -> tuple[int, int]:
    """Full-resolution (width, height) of a rig, from its ``camera_scale``."""
    for scale, size in FULL_RESOLUTION.items():
        if abs(camera_scale - scale) < 1e-4:
            return size
    raise InputError(
        f"unknown camera_scale {camera_scale!r} (expected 120/65 or 100/65)", path=path
    )


def load_easymocap_fit(path: Path) -> SMPLXParams:
    """Read one EasyMocap SMPL-X JSON frame as :class:`SMPLXParams` (1 frame)."""
    data = _read_json(path)
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list) or not data or not isinstance(data[0], dict):
        raise InputError("expected a list holding one EasyMocap person dict", path=path)
    person = data[0]
    for key in ("poses", "Rh", "Th", "shapes"):
        if key not in person:
            raise InputError("required EasyMocap field is missing", path=path, field=key)
    poses = as_param_array(person["poses"], field="poses", path=path, width=87, frames=1)
    shapes = as_param_array(person["shapes"], field="shapes", path=path, frames=1)
    expression = (
        as_param_array(person["expression"], field="expression", path=path, frames=1)
        if "expression" in person
        else np.zeros((1, 10), np.float32)
    )
    rh = as_param_array(person["Rh"], field="Rh", path=path, width=3, frames=1)
    th = as_param_array(person["Th"], field="Th", path=path, width=3, frames=1)
    return SMPLXParams(
        betas=shapes,
        global_orient=poses[:, 0:3],
        body_pose=poses[:, 3:66],
        left_hand_pose=poses[:, 66:72],
        right_hand_pose=poses[:, 72:78],
        jaw_pose=poses[:, 78:81],
        leye_pose=poses[:, 81:84],
        reye_pose=poses[:, 84:87],
        expression=expression,
        transl=np.zeros((1, 3), np.float32),
        scale=np.ones(1, np.float32),
        world_rotation=rh,
        world_translation=th,
        gender="neutral",
        hand_pca_components=6,
        flat_hand_mean=True,
    )


class MVHumanNetAdapter(DatasetAdapter):
    """MVHumanNet captures: calibrated half-resolution images, masks and SMPL-X per frame."""

    name = "mvhumannet"
    description = "MVHumanNet: multi-view videos (~48 cameras) with EasyMocap SMPL-X fits."
    kind = "capture"
    download_hint = (
        "Request MVHumanNet from https://github.com/GAP-LAB-CUHK-SZ/MVHumanNet, download it with "
        "download_tool_mvhuman.py and pass the folder holding the 6-digit capture folders "
        "(each with images_lr/, fmask_lr/, camera_*.json, camera_scale.pkl, smplx/) as --root."
    )

    def __init__(
        self,
        root: Any = None,
        *,
        max_frames: int | None = None,
        frame_stride: int = 1,
        **options: Any,
    ) -> None:
        super().__init__(root, max_frames=max_frames, frame_stride=frame_stride, **options)
        if frame_stride < 1:
            raise InputError("frame_stride must be >= 1", field="frame_stride")
        if max_frames is not None and max_frames < 1:
            raise InputError("max_frames must be >= 1", field="max_frames")
        self.max_frames, self.frame_stride = max_frames, frame_stride

    expected_layout = (
        "<6-digit capture>/camera_extrinsics.json + camera_intrinsics.json + camera_scale.pkl",
        "<capture>/images_lr/<camera>/<tick>_img.jpg, fmask_lr/, smplx/smpl/<index>.json",
    )

    def found_folders(self) -> dict[str, Path]:
        """The capture folders found (at most 3 listed)."""
        return {f"capture {name}": path for name, path in list(self._capture_dirs().items())[:3]}

    def _capture_dirs(self) -> dict[str, Path]:
        assert self.root is not None
        if (self.root / "camera_extrinsics.json").is_file():
            return {self.root.name: self.root}
        return {
            entry.name: entry
            for entry in sorted(self.root.iterdir())
            if entry.is_dir() and (entry / "camera_extrinsics.json").is_file()
        }

    def subjects(self) -> list[str]:
        """Capture (outfit) ids such as ``"100001"``."""
        return sorted(self._capture_dirs())

    def load_cameras(
        self, folder: Path, names: list[str], stored_size: tuple[int, int]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """K (V, 3, 3) in stored-image pixels, R (V, 3, 3), t (V, 3) metres, for ``names``."""
        scale_path = folder / "camera_scale.pkl"
        camera_scale = load_pickle(scale_path)
        try:
            camera_scale = float(np.asarray(camera_scale).reshape(()))
        except (TypeError, ValueError) as error:
            raise InputError("camera_scale must be a single number", path=scale_path) from error
        full_w, full_h = full_resolution(camera_scale, scale_path)
        width, height = stored_size
        if abs(width / full_w - height / full_h) > 1e-3:
            raise InputError(
                f"stored images are {width}x{height}, not a uniform scaling of the "
                f"rig's {full_w}x{full_h}",
                path=folder / "images_lr",
            )
        s = width / full_w
        intr_path = folder / "camera_intrinsics.json"
        intrinsics = _read_json(intr_path)
        extr_path = folder / "camera_extrinsics.json"
        extrinsics = _read_json(extr_path)
        if not isinstance(extrinsics, dict):
            raise InputError("expected an object keyed by '1_<camera>.png'", path=extr_path)
        by_camera = {
            key.rsplit("_", 1)[-1].rsplit(".", 1)[0]: value for key, value in extrinsics.items()
        }
        Ks, Rs, ts = [], [], []
        for name in names:
            if name not in by_camera:
                raise InputError(
                    f"camera {name!r} has images but no extrinsics",
                    path=extr_path,
                    field=f"1_{name}.png",
                )
            entry = by_camera[name]
            if isinstance(intrinsics, dict) and "intrinsics" in intrinsics:
                raw_k = intrinsics["intrinsics"]
                k_field = "intrinsics"
            elif isinstance(intrinsics, dict) and name in intrinsics:
                raw_k = (
                    intrinsics[name]["intrinsics"]
                    if isinstance(intrinsics[name], dict)
                    else intrinsics[name]
                )
                k_field = f"{name}.intrinsics"
            else:
                raise InputError("no 'intrinsics' matrix", path=intr_path, field="intrinsics")
            K = self._matrix(raw_k, (3, 3), intr_path, k_field)
            R = self._matrix(entry.get("rotation"), (3, 3), extr_path, f"1_{name}.png.rotation")
            t_mm = self._matrix(
                entry.get("translation"), (3,), extr_path, f"1_{name}.png.translation"
            )
            if abs(np.linalg.det(R) - 1) > 1e-3:
                raise InputError(
                    "rotation is not a rotation matrix (det != 1)",
                    path=extr_path,
                    field=f"1_{name}.png.rotation",
                )
            K = K.copy()
            K[:2, 2] += 0.5  # integer pixel centres -> integer + 0.5
            K = np.diag([s, s, 1.0]) @ K
            Ks.append(K)
            Rs.append(R)
            ts.append(t_mm / 1000.0 * camera_scale)
        return np.stack(Ks), np.stack(Rs), np.stack(ts)

    @staticmethod
    def _matrix(value: Any, shape: tuple[int, ...], path: Path, field: str) -> np.ndarray:
        try:
            array = np.asarray(value, np.float64).reshape(shape)
        except (TypeError, ValueError) as error:
            raise InputError(f"expected a {shape} array", path=path, field=field) from error
        if not np.all(np.isfinite(array)):
            raise InputError("contains NaN or infinite values", path=path, field=field)
        return array

    def load(self, subject: str) -> Sample:
        """Load cameras, image/mask paths of all frames with a fit, and the fits."""
        from PIL import Image

        folder = self._capture_dirs().get(subject)
        if folder is None:
            raise self._unknown_subject(subject)
        image_dir = first_existing_dir([folder / "images_lr", folder / "images"])
        if image_dir is None:
            raise InputError("no images_lr/ (or images/) folder", path=folder)
        mask_dir = first_existing_dir([folder / "fmask_lr", folder / "fmask"])
        cameras = sorted(entry.name for entry in image_dir.iterdir() if entry.is_dir())
        if not cameras:
            raise InputError("no camera folders", path=image_dir)
        ticks_per_camera = [
            {p.name[: -len("_img.jpg")] for p in (image_dir / cam).glob("*_img.jpg")}
            for cam in cameras
        ]
        ticks = sorted(set.intersection(*ticks_per_camera), key=int)
        fit_dir = folder / "smplx" / "smpl"
        frames, fits = [], []
        for tick in ticks:
            index = int(tick) // 5 - 1
            fit = fit_dir / f"{index:06d}.json"
            if int(tick) % 5 == 0 and index >= 0 and fit.is_file():
                frames.append(tick)
                fits.append(fit)
        frames, fits = frames[:: self.frame_stride], fits[:: self.frame_stride]
        if self.max_frames is not None:
            frames, fits = frames[: self.max_frames], fits[: self.max_frames]
        if not frames:
            raise InputError(
                "no frame has both images from every camera and an SMPL-X fit "
                "(smplx/smpl/<tick/5-1:06d>.json)",
                path=folder,
            )
        first = image_dir / cameras[0] / f"{frames[0]}_img.jpg"
        with Image.open(first) as image:
            width, height = image.size
        K, R, t = self.load_cameras(folder, cameras, (width, height))
        image_paths = tuple(
            tuple(image_dir / cam / f"{tick}_img.jpg" for tick in frames) for cam in cameras
        )
        mask_paths = None
        if mask_dir is not None:
            mask_paths = tuple(
                tuple(mask_dir / cam / f"{tick}_img_fmask.png" for tick in frames)
                for cam in cameras
            )
        capture = CaptureViews(
            tuple(cameras), tuple(frames), image_paths, mask_paths, K, R, t, width, height
        )
        params = stack_frames([load_easymocap_fit(fit) for fit in fits])
        sources = (
            folder / "camera_intrinsics.json",
            folder / "camera_extrinsics.json",
            folder / "camera_scale.pkl",
            *fits,
        )
        return Sample(
            dataset=self.name, subject=subject, smplx=params, capture=capture, source_files=sources
        )
