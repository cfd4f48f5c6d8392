"""Torch datasets over rendered shards for the two training stages.

* Stage 1 (multi-view): ``MultiViewDataset(shard_dir, views=4, frames=1)`` - a subset of views of
  one subject (scans rendered on an orbit).
* Stage 2 (multi-view, multi-frame): ``MultiViewDataset(shard_dir, views=4, frames=8)`` - the same
  views over a window of consecutive frames (MVHumanNet captures, synthetic walks).

Each item is a dict of tensors (``V`` = ``views``, ``T`` = ``frames``, ``H = W = size``):

=====================  ==========================  =============================================
key                    shape, dtype                meaning
=====================  ==========================  =============================================
``images``             (V, T, 3, H, W) float32     RGB in [0, 1]
``masks``              (V, T, 1, H, W) float32     subject silhouette in {0, 1}
``depth``              (V, T, 1, H, W) float32     bone-map depth, metres, 0 = background
``normal``             (V, T, 3, H, W) float32     bone-map normal in [-1, 1], camera space,
                                                   0 = background
``bone_mask``          (V, T, 1, H, W) float32     bone-map coverage in {0, 1}
``pose``               (V, T, C, H, W) float32     the network's pose input in [0, 1] under the
                                                   dataset's ``pose_spec`` (only when one is
                                                   given; ``hvg_bonemap.pose_codec``)
``K``                  (V, 3, 3) float32           intrinsics of the (resized) images
``R``                  (V, 3, 3) float32           world-to-camera rotations (OpenCV)
``t``                  (V, 3) float32              world-to-camera translations, metres
``joints``             (T, 55, 3) float32          posed SMPL-X joints, world metres
``smplx``              dict of (T, D) float32      SMPL-X parameters (``SMPLXParams`` fields)
``reference_image``    (3, H, W) float32           the first selected view at the first frame
``view_indices``       (V,) int64                  views of the stored sample used
``frame_indices``      (T,) int64                  frames of the stored sample used
``index``              () int64                    dataset index
=====================  ==========================  =============================================

Determinism: the views and the window of item ``i`` are drawn from
``numpy.random.default_rng([seed, epoch, i])``, so they do not depend on the worker that loads
the item, the number of workers or the order; call :meth:`MultiViewDataset.set_epoch` each epoch.
Shards are opened lazily once per worker process and only the chosen views and frames are read
(one HDF5 chunk per view and frame), never whole files.

Integrity: before any sample is read, every shard the manifest lists is checked against the
manifest's ``bytes`` and ``sha256`` (:func:`verify_shard`), and a ``file`` entry that leaves the
shard folder (an absolute path, ``..``, a symbolic link out) is refused. A shard's digest is
computed once per process: the result is cached under the manifest's digest and the file's
size, modification time and inode, so a dataset rebuilt for another layout, or a new epoch, does
not read the files again.
"""

from __future__ import annotations

import os
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np
from hvg_core.errors import InputError

from hvg_data.shards import (
    Manifest,
    ShardRecord,
    decode_normal,
    manifest_pose_spec,
    read_sample_arrays,
    sha256_of,
    shard_path,
)

VIEW_SAMPLING = ("random", "contiguous", "evenly")

#: Shards whose digest matched, by (resolved path, manifest SHA-256) -> (size, mtime_ns, inode).
_VERIFIED: dict[tuple[str, str], tuple[int, int, int]] = {}


def verify_shard(root: str | PathLike[str], record: ShardRecord) -> Path:
    """Check one shard's size and SHA-256 against its manifest entry; return its path.

    The digest is computed at most once per process for an unchanged file (see the module
    docstring).

    Raises:
        InputError: Entry outside the folder, file missing, or size/digest not the manifest's.
    """
    path = shard_path(root, record)
    try:
        stat = path.stat()
    except OSError as error:
        raise InputError(
            f"shard listed in manifest.json is unreadable: {error}", path=path, field="file"
        ) from error
    how = "re-render it with `hvg-data render` (check a folder with `hvg-data verify DIR`)"
    if stat.st_size != record.bytes:
        raise InputError(
            f"shard has {stat.st_size} bytes, manifest.json says {record.bytes}: it is truncated "
            f"or was changed after rendering; {how}",
            path=path,
            field="bytes",
        )
    key = (str(path.resolve()), record.sha256)
    signature = (stat.st_size, stat.st_mtime_ns, stat.st_ino)
    if _VERIFIED.get(key) == signature:
        return path
    digest = sha256_of(path)
    if digest != record.sha256:
        raise InputError(
            f"shard SHA-256 {digest[:12]}... does not match manifest.json's "
            f"{record.sha256[:12]}...: the file is corrupt or was changed after rendering; {how}",
            path=path,
            field="sha256",
        )
    _VERIFIED[key] = signature
    return path


class MultiViewDataset:
    """Multi-view (stage 1) or multi-view multi-frame (stage 2) samples from shards.

    Args:
        shard_dir: An ``hvg-data render`` output folder (with ``manifest.json``).
        views: Views per item ``V``; samples with fewer views are skipped.
        frames: Frames per item ``T``; samples with fewer frames are skipped.
        size: Output side ``H = W``; default: the stored size. Images and masks are resized with
            area/bilinear filtering, bone maps with nearest neighbour; ``K`` follows.
        view_sampling: ``"random"`` (any ``V`` distinct views in orbit order), ``"contiguous"``
            (``V`` neighbouring views of the orbit, cyclic) or ``"evenly"`` (evenly spaced,
            random start).
        frame_stride: Step between the frames of a window.
        seed: Base seed of the view/frame choice.
        dataset_filter: Keep only samples of these dataset names.
        pose_spec: The ``hvg_bonemap.PoseSpec`` of the network being trained: items then carry
            ``pose``, its pose input made by ``hvg_bonemap.pose_codec`` (bone-map signals are
            decoded from the stored maps, others drawn from the stored joints and cameras).
        signal_class: The registered class of ``pose_spec``'s signal, for signals that are
            not hvg-bonemap built-ins.
        smplx_model: Folder (or ``.npz``) of the SMPL-X model files, for signals drawn from the
            body mesh (``body_normal``): the mesh of each item is built from its stored SMPL-X
            parameters and settings (:func:`posed_smplx_mesh`). The shards must have been
            rendered with ``--body-model smplx`` so that the mesh matches the stored joints.

    Attributes:
        stored_spec: The ``PoseSpec`` the shards were rendered with (the manifest's; old
            manifests without one get the default, with a warning).

    Raises:
        InputError: No manifest, a shard that fails :func:`verify_shard`, no sample has
            enough views/frames, or ``pose_spec`` draws other bones or windows than the shards
            (``field="pose_spec.<field>"``); for a mesh signal: no ``smplx_model``
            (``field="smplx_model"``) or shards whose joints were not made by the SMPL-X body
            (``field="config.body_model"`` of ``manifest.json``).
    """

    def __init__(
        self,
        shard_dir: str | PathLike[str],
        *,
        views: int = 4,
        frames: int = 1,
        size: int | None = None,
        view_sampling: str = "random",
        frame_stride: int = 1,
        seed: int = 0,
        dataset_filter: tuple[str, ...] | None = None,
        pose_spec: Any = None,
        signal_class: Any = None,
        smplx_model: str | PathLike[str] | None = None,
    ) -> None:
        import h5py

        if view_sampling not in VIEW_SAMPLING:
            raise InputError(f"view_sampling must be one of {VIEW_SAMPLING}", field="view_sampling")
        if views < 1 or frames < 1 or frame_stride < 1:
            raise InputError("views, frames and frame_stride must be >= 1", field="views")
        self.root = Path(shard_dir)
        self.manifest = Manifest.load(self.root)
        self.stored_spec = manifest_pose_spec(self.manifest, self.root)
        if pose_spec is not None:
            differences = pose_spec.geometry_differences(self.stored_spec)
            if differences:
                name = differences[0]
                raise InputError(
                    f"the network's pose spec has {name}={getattr(pose_spec, name)!r}, the "
                    f"shards were rendered with {getattr(self.stored_spec, name)!r}; re-render "
                    "them or train with the shards' setting",
                    path=self.root / "manifest.json",
                    field=f"pose_spec.{name}",
                )
        self.pose_spec, self.signal_class = pose_spec, signal_class
        self.smplx_model = None
        if pose_spec is not None and not pose_spec.from_bone_maps:
            from hvg_bonemap.pose_codec import draws_mesh

            if draws_mesh(pose_spec, signal_class):
                self.smplx_model = check_mesh_source(self.root, self.manifest, smplx_model)
        self.paths = {
            name: verify_shard(self.root, record) for name, record in self.manifest.shards.items()
        }
        self.views, self.frames, self.size = views, frames, size
        self.view_sampling, self.frame_stride, self.seed = view_sampling, frame_stride, seed
        self.epoch = 0
        needed_frames = (frames - 1) * frame_stride + 1
        self.items: list[tuple[str, str, int, int]] = []  # shard, group, V, T
        for name in sorted(self.manifest.shards):
            with h5py.File(self.paths[name], "r") as handle:
                for group_name in sorted(handle["samples"]):
                    group = handle["samples"][group_name]
                    if dataset_filter and group.attrs["dataset"] not in dataset_filter:
                        continue
                    stored_views, stored_frames = group["mask"].shape[:2]
                    if stored_views >= views and stored_frames >= needed_frames:
                        self.items.append((name, group_name, stored_views, stored_frames))
        if not self.items:
            raise InputError(
                f"no sample has >= {views} views and >= {needed_frames} frames", path=self.root
            )
        self._handles: dict[str, Any] = {}
        self._pid = os.getpid()
        if self.smplx_model is not None:
            self._check_model_files()

    def __len__(self) -> int:
        return len(self.items)

    def _check_model_files(self) -> None:
        """Refuse a mesh signal whose SMPL-X folder lacks a gender the fits were made with."""
        import json

        from hvg_bonemap.bodies.smplx_body import MissingModelFileError, _model_file

        genders = set()
        for shard, group_name, _, _ in self.items:
            settings = json.loads(self._file(shard)["samples"][group_name].attrs["smplx_settings"])
            genders.add(str(settings.get("gender", "neutral")))
        for gender in sorted(genders):
            try:
                _model_file(self.smplx_model, gender)
            except MissingModelFileError as error:
                raise InputError(
                    f"{error} (the shards' fits were made with the {gender} model)",
                    path=self.smplx_model,
                    field="smplx_model",
                ) from error
            finally:
                self.close()

    def set_epoch(self, epoch: int) -> None:
        """Change the per-epoch view/frame draws."""
        self.epoch = int(epoch)

    def _file(self, name: str) -> Any:
        import h5py

        if os.getpid() != self._pid:  # forked into a DataLoader worker: reopen there
            self._handles, self._pid = {}, os.getpid()
        if name not in self._handles:
            self._handles[name] = h5py.File(self.paths[name], "r")
        return self._handles[name]

    def choose(
        self, index: int, stored_views: int, stored_frames: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """The view indices (V,) and frame indices (T,) of item ``index`` this epoch."""
        rng = np.random.default_rng([self.seed, self.epoch, index])
        if self.view_sampling == "random":
            views = np.sort(rng.choice(stored_views, self.views, replace=False))
            views = np.roll(views, -int(rng.integers(self.views)))
        elif self.view_sampling == "contiguous":
            views = (int(rng.integers(stored_views)) + np.arange(self.views)) % stored_views
        else:
            step = stored_views / self.views
            views = (
                int(rng.integers(stored_views))
                + np.floor(np.arange(self.views) * step).astype(np.int64)
            ) % stored_views
        span = (self.frames - 1) * self.frame_stride + 1
        start = int(rng.integers(stored_frames - span + 1))
        frames = start + np.arange(self.frames) * self.frame_stride
        return views.astype(np.int64), frames.astype(np.int64)

    def __getitem__(self, index: int) -> dict[str, Any]:
        import torch

        if not 0 <= index < len(self.items):
            raise IndexError(index)
        shard, group_name, stored_views, stored_frames = self.items[index]
        view_index, frame_index = self.choose(index, stored_views, stored_frames)
        group = self._file(shard)["samples"][group_name]
        data = read_sample_arrays(group, view_index, frame_index)
        bone_valid = data["depth"] > 0
        images = torch.from_numpy(data["rgb"]).permute(0, 1, 4, 2, 3).float() / 255.0
        masks = torch.from_numpy(data["mask"]).float()[:, :, None]
        depth = torch.from_numpy(data["depth"].astype(np.float32))[:, :, None]
        normal = torch.from_numpy(decode_normal(data["normal"], bone_valid)).permute(0, 1, 4, 2, 3)
        bone_mask = torch.from_numpy(bone_valid).float()[:, :, None]
        K = torch.from_numpy(data["K"]).float()
        stored = images.shape[-1]
        if self.size is not None and self.size != stored:
            images, masks, depth, normal, bone_mask, K = _resize(
                images, masks, depth, normal, bone_mask, K, self.size
            )
        R = torch.from_numpy(data["R"]).float()
        t = torch.from_numpy(data["t"]).float()
        joints = torch.from_numpy(data["joints"]).float()
        extra = {}
        if self.pose_spec is not None:
            mesh = None
            if self.smplx_model is not None:
                mesh = posed_smplx_mesh(data["smplx"], data["smplx_settings"], self.smplx_model)
            extra["pose"] = self._pose(depth, normal, joints, K, R, t, mesh)
        return {
            "images": images,
            "masks": masks,
            "depth": depth,
            "normal": normal,
            "bone_mask": bone_mask,
            **extra,
            "K": K,
            "R": R,
            "t": t,
            "joints": joints,
            "smplx": {
                k: torch.from_numpy(np.asarray(v, np.float32)) for k, v in data["smplx"].items()
            },
            "reference_image": images[0, 0].clone(),
            "view_indices": torch.from_numpy(view_index),
            "frame_indices": torch.from_numpy(frame_index),
            "index": torch.tensor(index),
        }

    def _pose(
        self, depth: Any, normal: Any, joints: Any, K: Any, R: Any, t: Any, mesh: Any = None
    ) -> Any:
        """Pose input ``(V, T, C, H, W)`` of one item through ``hvg_bonemap.pose_codec``."""
        from hvg_bonemap.cameras import Cameras
        from hvg_bonemap.pose_codec import pose_input_from_stored

        size = depth.shape[-1]
        cameras = Cameras(K, R, t, int(size), int(depth.shape[-2]))
        return pose_input_from_stored(
            self.pose_spec, depth, normal, joints, cameras, self.signal_class, mesh=mesh
        )

    def close(self) -> None:
        """Close open shard files."""
        for handle in self._handles.values():
            handle.close()
        self._handles = {}

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_handles"] = {}  # h5py handles do not pickle; workers reopen lazily
        return state


#: What a mesh signal needs, said wherever the SMPL-X model folder is missing.
SMPLX_MODEL_HELP = (
    "the body_normal pose signal is drawn from the SMPL-X body mesh, which shards do not store: "
    "the mesh of each sample is rebuilt from its stored SMPL-X parameters, which needs the "
    "SMPL-X model files. Download them from https://smpl-x.is.tue.mpg.de (licence required), "
    "put SMPLX_NEUTRAL.npz (and SMPLX_MALE.npz, SMPLX_FEMALE.npz for fits made with those) in "
    "a folder, e.g. models/smplx/, and pass it with --smplx-model DIR (config data.smplx_model)"
)


def check_mesh_source(
    root: Path, manifest: Manifest, smplx_model: str | PathLike[str] | None
) -> Path:
    """Check that the samples of ``root`` can be given a body mesh; return the model path.

    Raises:
        InputError: ``smplx_model`` missing or not there (``field="smplx_model"``), or the
            manifest's render config used another body model than ``smplx`` (its joints would
            not match the mesh; ``field="config.body_model"``).
    """
    if smplx_model is None:
        raise InputError(SMPLX_MODEL_HELP, field="smplx_model")
    model = Path(smplx_model)
    if not model.exists():
        raise InputError(
            f"no SMPL-X model folder or file here; {SMPLX_MODEL_HELP}",
            path=model,
            field="smplx_model",
        )
    body_model = manifest.config.get("body_model", "builtin")
    if body_model != "smplx":
        raise InputError(
            f"these shards were rendered with body model {body_model!r}: their joints and bone "
            "maps would not match the SMPL-X mesh the body_normal signal is drawn from; "
            "re-render them with `hvg-data render --body-model smplx --smplx-model-dir DIR`",
            path=root / "manifest.json",
            field="config.body_model",
        )
    return model


def posed_smplx_mesh(
    smplx: dict[str, np.ndarray], settings: dict[str, Any], model: str | PathLike[str]
) -> tuple[Any, Any]:
    """World-space SMPL-X mesh of stored parameters, posed like the shards' joints.

    The body is built with the fit's settings (gender, hand PCA, hand mean) and the dataset's
    world transform is applied exactly as to the joints (``hvg_data.body``).

    Args:
        smplx: ``(T, D)`` arrays of the ``SMPLXParams`` fields (``scale`` ``(T,)``).
        settings: The ``SMPLXParams`` settings (``smplx_settings`` of a shard sample).
        model: SMPL-X model folder or ``.npz``.

    Returns:
        ``vertices (T, N, 3)`` float32 world metres and ``faces (F, 3)`` int64 tensors.

    Raises:
        InputError: The model file of the fit's gender is missing (``field="smplx_model"``),
            or parameters the body refuses.
    """
    import torch
    from hvg_bonemap._validation import BoneMapInputError

    from hvg_data.body import _smplx_body, apply_world_transform
    from hvg_data.smplx_params import SMPLXParams

    params = SMPLXParams(**{k: np.asarray(v) for k, v in smplx.items()}, **settings)
    try:
        body = _smplx_body(
            str(model),
            params.gender,
            params.hand_pca_components,
            params.flat_hand_mean,
            params.betas.shape[1],
            params.expression.shape[1],
        )
    except InputError as error:
        raise type(error)(error.message, path=model, field="smplx_model") from error
    keys = ("betas", "global_orient", "body_pose", "left_hand_pose", "right_hand_pose")
    keys += ("jaw_pose", "leye_pose", "reye_pose", "expression", "transl")
    try:
        joints, vertices = body.run({key: torch.from_numpy(getattr(params, key)) for key in keys})
    except BoneMapInputError as error:
        raise InputError(str(error), field="smplx") from error
    # The pelvis (joint 0) goes first so that pelvis_to_origin subtracts it from the vertices.
    posed = np.concatenate([joints[:, :1].double().numpy(), vertices.double().numpy()], axis=1)
    world = apply_world_transform(params, posed)[:, 1:]
    return torch.from_numpy(world), body.faces


def _resize(
    images: Any, masks: Any, depth: Any, normal: Any, bone_mask: Any, K: Any, size: int
) -> tuple[Any, ...]:
    import torch.nn.functional as F

    v, t, _, h, w = images.shape

    def smooth(x: Any) -> Any:
        flat = x.reshape(v * t, x.shape[2], h, w)
        mode = "area" if size < h else "bilinear"
        kwargs = {} if mode == "area" else {"align_corners": False}
        return F.interpolate(flat, size=(size, size), mode=mode, **kwargs).reshape(
            v, t, x.shape[2], size, size
        )

    def nearest(x: Any) -> Any:
        flat = x.reshape(v * t, x.shape[2], h, w)
        return F.interpolate(flat, size=(size, size), mode="nearest-exact").reshape(
            v, t, x.shape[2], size, size
        )

    scale_k = K.clone()
    scale_k[:, 0, :] *= size / w
    scale_k[:, 1, :] *= size / h
    return (
        smooth(images),
        (smooth(masks) > 0.5).float(),
        nearest(depth),
        nearest(normal),
        nearest(bone_mask),
        scale_k,
    )


def worker_init_fn(worker_id: int) -> None:
    """``DataLoader(worker_init_fn=...)``: distinct torch/numpy seeds per worker.

    The dataset's own draws are already worker-independent; this seeds any augmentation a
    caller adds on top.
    """
    import torch

    seed = torch.initial_seed() % 2**32
    np.random.seed(seed)
