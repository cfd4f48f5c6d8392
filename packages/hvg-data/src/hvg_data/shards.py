"""HDF5 shards of rendered samples (DESIGN §5), their manifest and verification.

File layout (schema version 1)::

    manifest.json         the shards, the render config and ``pose_spec`` (hvg_bonemap.PoseSpec
                          of the stored bone maps: bones, radii, view alignment)
    /                     attrs: schema_version, config_hash, dataset, shard_index, num_samples,
                                 subjects (JSON, planned), failures (JSON)
    /samples/<000000>/    attrs: dataset, subject, kind, source_hashes (JSON), smplx_settings
                                 (JSON), camera_names (JSON), frame_ids (JSON)
        rgb     (V, T, H, W, 3) uint8       the subject (scan render or cropped capture image)
        mask    (V, T, H, W)    bool        the subject's silhouette
        depth   (V, T, H, W)    float16     bone-map depth: distance to the camera centre, metres,
                                            0 = background
        normal  (V, T, H, W, 3) uint8       bone-map normal, camera space, round((n + 1) * 127.5),
                                            0 = background
        K (V, 3, 3), R (V, 3, 3), t (V, 3)  float32 OpenCV cameras of the stored (cropped) images
        crop_boxes (V, 4)       float32     pelvis-centred crop (x0, y0, x1, y1) in the pixels of
                                            the uncropped camera
        joints  (T, 55, 3)      float32     posed SMPL-X joints, world metres
        smplx/<field> (T, D)    float32     SMPL-X parameters (see ``SMPLXParams``)

Writes are deterministic (no timestamps, fixed creation order) and atomic: a shard is written to
``.<name>.tmp-<pid>`` and renamed when complete, so a killed run never leaves a partial file under
a final name, and re-runs produce byte-identical files.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np
from hvg_core.errors import HVGError, InputError

SCHEMA_VERSION = 1
MANIFEST_NAME = "manifest.json"
FAILURES_NAME = "failures.jsonl"
SHARD_PATTERN = "shard-{index:05d}.h5"
IMAGE_FIELDS = ("rgb", "mask", "depth", "normal")
CAMERA_FIELDS = ("K", "R", "t", "crop_boxes")


@dataclass(frozen=True)
class RenderedSample:
    """One subject rendered for training (what a shard stores per sample).

    Attributes:
        dataset: Dataset registry name.
        subject: Subject id.
        kind: ``"scan"`` or ``"capture"``.
        rgb: (V, T, H, W, 3) uint8.
        mask: (V, T, H, W) bool subject silhouette.
        depth: (V, T, H, W) float16 bone-map depth, metres (0 = background).
        normal: (V, T, H, W, 3) uint8 bone-map normal, ``round((n + 1) * 127.5)``.
        K: (V, 3, 3) float32 intrinsics of the stored images.
        R: (V, 3, 3) float32 world-to-camera rotations.
        t: (V, 3) float32 world-to-camera translations, metres.
        crop_boxes: (V, 4) float32 crop (x0, y0, x1, y1) in uncropped-camera pixels.
        joints: (T, 55, 3) float32 posed joints, world metres.
        smplx: SMPL-X arrays, each (T, D) float32 (``scale`` is (T,)).
        smplx_settings: SMPL-X model settings (gender, hand PCA, hand mean, pelvis_to_origin).
        camera_names: (V,) camera ids.
        frame_ids: (T,) frame ids.
        source_hashes: Source file name -> SHA-256.
    """

    dataset: str
    subject: str
    kind: str
    rgb: np.ndarray
    mask: np.ndarray
    depth: np.ndarray
    normal: np.ndarray
    K: np.ndarray
    R: np.ndarray
    t: np.ndarray
    crop_boxes: np.ndarray
    joints: np.ndarray
    smplx: dict[str, np.ndarray]
    smplx_settings: dict[str, Any]
    camera_names: tuple[str, ...]
    frame_ids: tuple[str, ...]
    source_hashes: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        views, frames, height, width = self.mask.shape
        expected = {
            "rgb": ((views, frames, height, width, 3), np.uint8),
            "mask": ((views, frames, height, width), np.bool_),
            "depth": ((views, frames, height, width), np.float16),
            "normal": ((views, frames, height, width, 3), np.uint8),
            "K": ((views, 3, 3), np.float32),
            "R": ((views, 3, 3), np.float32),
            "t": ((views, 3), np.float32),
            "crop_boxes": ((views, 4), np.float32),
            "joints": ((frames, 55, 3), np.float32),
        }
        for name, (shape, dtype) in expected.items():
            array = getattr(self, name)
            if array.shape != shape or array.dtype != dtype:
                raise InputError(
                    f"expected {np.dtype(dtype).name} {shape}, got {array.dtype} {array.shape}",
                    field=name,
                )
        if len(self.camera_names) != views or len(self.frame_ids) != frames:
            raise InputError("camera_names/frame_ids do not match (V, T)", field="camera_names")


@dataclass(frozen=True)
class CompressedImage:
    """An image field as a shard stores it: one zlib stream per ``(view, frame)`` chunk.

    HDF5's gzip filter is zlib's ``compress2`` at the same level, so writing these streams as
    the chunks (``write_direct_chunk``) gives the bytes that :func:`write_shard` writes from the
    array; compressing in the workers leaves the shard's assembly only the copying.

    Attributes:
        shape: ``(V, T, H, W)`` or ``(V, T, H, W, 3)`` of the array.
        dtype: Its numpy dtype name (``uint8``, ``bool``, ``float16``).
        level: gzip level (1-9).
        chunks: ``V * T`` compressed images, view-major.
    """

    shape: tuple[int, ...]
    dtype: str
    level: int
    chunks: tuple[bytes, ...]

    @classmethod
    def compress(cls, array: np.ndarray, level: int) -> CompressedImage:
        """Compress ``array`` (V, T, ...) chunk by chunk at gzip ``level``."""
        views, frames = array.shape[:2]
        chunks = tuple(
            zlib.compress(np.ascontiguousarray(array[view, frame]).tobytes(), level)
            for view in range(views)
            for frame in range(frames)
        )
        return cls(tuple(array.shape), array.dtype.name, level, chunks)

    def decompress(self) -> np.ndarray:
        """The array, (V, T, ...) of ``dtype``."""
        flat = b"".join(zlib.decompress(chunk) for chunk in self.chunks)
        return np.frombuffer(flat, np.dtype(self.dtype)).reshape(self.shape).copy()


@dataclass(frozen=True)
class PackedSample:
    """A :class:`RenderedSample` whose image fields are compressed (:func:`pack_sample`).

    Attributes: those of :class:`RenderedSample`, ``rgb``/``mask``/``depth``/``normal`` as
    :class:`CompressedImage`.
    """

    dataset: str
    subject: str
    kind: str
    rgb: CompressedImage
    mask: CompressedImage
    depth: CompressedImage
    normal: CompressedImage
    K: np.ndarray
    R: np.ndarray
    t: np.ndarray
    crop_boxes: np.ndarray
    joints: np.ndarray
    smplx: dict[str, np.ndarray]
    smplx_settings: dict[str, Any]
    camera_names: tuple[str, ...]
    frame_ids: tuple[str, ...]
    source_hashes: dict[str, str] = field(default_factory=dict)


def pack_sample(sample: RenderedSample, level: int) -> PackedSample:
    """``sample`` with its image fields compressed at gzip ``level`` (>= 1)."""
    fields = {f.name: getattr(sample, f.name) for f in dataclasses.fields(RenderedSample)}
    for name in IMAGE_FIELDS:
        fields[name] = CompressedImage.compress(fields[name], level)
    return PackedSample(**fields)


def unpack_sample(sample: PackedSample) -> RenderedSample:
    """The :class:`RenderedSample` of a packed one (checked as any other)."""
    fields = {f.name: getattr(sample, f.name) for f in dataclasses.fields(PackedSample)}
    for name in IMAGE_FIELDS:
        fields[name] = fields[name].decompress()
    return RenderedSample(**fields)


def sha256_of(path: str | PathLike[str], chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file, streamed."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary name and ``os.replace``."""
    temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(temporary, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def write_shard(
    path: str | PathLike[str],
    samples: Sequence[RenderedSample | PackedSample],
    *,
    config_hash: str,
    dataset: str,
    shard_index: int,
    compression: int = 1,
    planned_subjects: Sequence[str] | None = None,
    failures: Sequence[dict[str, str]] = (),
    before_replace: Callable[[str, int], None] | None = None,
) -> str:
    """Write samples to one HDF5 shard atomically and deterministically.

    Args:
        path: Final shard path.
        samples: The samples, stored as ``/samples/000000``... in this order. Only one is
            touched at a time, so a lazy sequence (e.g. of part files) keeps memory flat.
            Packed samples' images are written as they are (same bytes; their level must be
            ``compression``).
        config_hash: Render-config hash recorded in the file.
        dataset: Dataset name recorded in the file.
        shard_index: Index of this shard.
        compression: gzip level for image arrays (0 = none).
        planned_subjects: Subjects assigned to this shard (default: the samples' subjects).
        failures: Subjects of the shard that failed, with reasons.
        before_replace: Called with the file's SHA-256 and size after it is complete and before
            it takes its final name (the pipeline records it in the manifest there, so a file
            under a final name is never one the manifest does not describe).

    Returns:
        The SHA-256 of the written file.
    """
    import h5py

    final = Path(path)
    temporary = final.with_name(f".{final.name}.tmp-{os.getpid()}")
    image_options: dict[str, Any] = {"track_times": False}
    if compression:
        image_options.update(compression="gzip", compression_opts=compression)
    try:
        with h5py.File(temporary, "w", libver=("earliest", "v110")) as handle:
            handle.attrs["schema_version"] = SCHEMA_VERSION
            handle.attrs["config_hash"] = config_hash
            handle.attrs["dataset"] = dataset
            handle.attrs["shard_index"] = shard_index
            handle.attrs["num_samples"] = len(samples)
            subjects = (
                [s.subject for s in samples] if planned_subjects is None else list(planned_subjects)
            )
            handle.attrs["subjects"] = json.dumps(subjects)
            handle.attrs["failures"] = json.dumps(list(failures), sort_keys=True)
            root = handle.create_group("samples")
            for number, sample in enumerate(samples):
                group = root.create_group(f"{number:06d}")
                group.attrs["dataset"] = sample.dataset
                group.attrs["subject"] = sample.subject
                group.attrs["kind"] = sample.kind
                group.attrs["source_hashes"] = json.dumps(sample.source_hashes, sort_keys=True)
                group.attrs["smplx_settings"] = json.dumps(sample.smplx_settings, sort_keys=True)
                group.attrs["camera_names"] = json.dumps(list(sample.camera_names))
                group.attrs["frame_ids"] = json.dumps(list(sample.frame_ids))
                for name in IMAGE_FIELDS:
                    _write_image(group, name, getattr(sample, name), compression, image_options)
                for name in (*CAMERA_FIELDS, "joints"):
                    group.create_dataset(name, data=getattr(sample, name), track_times=False)
                smplx = group.create_group("smplx")
                for key in sorted(sample.smplx):
                    smplx.create_dataset(
                        key, data=np.asarray(sample.smplx[key], np.float32), track_times=False
                    )
        with open(temporary, "rb+") as raw:
            os.fsync(raw.fileno())
        digest = sha256_of(temporary)
        if before_replace is not None:
            before_replace(digest, temporary.stat().st_size)
        os.replace(temporary, final)
    finally:
        if temporary.exists():
            temporary.unlink()
    return digest


def _write_image(
    group: Any,
    name: str,
    value: np.ndarray | CompressedImage,
    compression: int,
    options: dict[str, Any],
) -> None:
    # One chunk per (view, frame) image: readers fetch view/frame subsets only.
    chunks = (1, 1, *value.shape[2:])
    if not isinstance(value, CompressedImage):
        group.create_dataset(name, data=value, chunks=chunks, **options)
        return
    if value.level != compression:
        raise ValueError(f"{name}: compressed at level {value.level}, the shard uses {compression}")
    dataset = group.create_dataset(
        name, shape=value.shape, dtype=np.dtype(value.dtype), chunks=chunks, **options
    )
    frames = value.shape[1]
    rest = (0,) * (len(value.shape) - 2)
    for number, chunk in enumerate(value.chunks):
        dataset.id.write_direct_chunk((*divmod(number, frames), *rest), chunk)


def remove_stale_temporaries(folder: Path) -> list[Path]:
    """Delete ``.*.tmp-*`` files left by killed runs; return what was removed."""
    removed = []
    for stale in sorted(folder.glob(".*.tmp-*")):
        stale.unlink()
        removed.append(stale)
    return removed


PARTS_DIR = ".parts"


def save_part(path: Path, sample: RenderedSample | PackedSample) -> None:
    """Write one rendered sample to a pickle-free ``.npz`` part (no zip compression), atomically.

    Ray workers render one subject each into a part, packed (:func:`pack_sample`) when the shard
    is compressed; :func:`write_shard` assembles the parts of a shard into the same bytes as the
    in-process executor.
    """
    arrays: dict[str, np.ndarray] = {
        name: getattr(sample, name) for name in (*CAMERA_FIELDS, "joints")
    }
    packed: dict[str, dict[str, Any]] = {}
    for name in IMAGE_FIELDS:
        value = getattr(sample, name)
        if isinstance(value, CompressedImage):
            packed[name] = {"shape": list(value.shape), "dtype": value.dtype, "level": value.level}
            arrays[f"{name}.chunks"] = np.frombuffer(b"".join(value.chunks), np.uint8)
            arrays[f"{name}.sizes"] = np.array([len(chunk) for chunk in value.chunks], np.int64)
        else:
            arrays[name] = value
    for key, value in sample.smplx.items():
        arrays[f"smplx.{key}"] = np.asarray(value, np.float32)
    meta = {
        "dataset": sample.dataset,
        "subject": sample.subject,
        "kind": sample.kind,
        "smplx_settings": sample.smplx_settings,
        "camera_names": list(sample.camera_names),
        "frame_ids": list(sample.frame_ids),
        "source_hashes": sample.source_hashes,
        "packed": packed,
    }
    arrays["meta"] = np.array(json.dumps(meta, sort_keys=True))
    temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with open(temporary, "wb") as handle:
            np.savez(handle, **arrays)
        os.replace(temporary, path)
    finally:
        if temporary.exists():
            temporary.unlink()


def read_part(path: str | PathLike[str]) -> RenderedSample | PackedSample:
    """Read a part written by :func:`save_part` as it was saved (``allow_pickle=False``).

    Raises:
        InputError: The file is not a complete part.
    """
    try:
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
            packed = meta.get("packed", {})
            images: dict[str, Any] = {}
            for name in IMAGE_FIELDS:
                if name not in packed:
                    images[name] = data[name]
                    continue
                blob, sizes = data[f"{name}.chunks"].tobytes(), data[f"{name}.sizes"]
                ends = np.cumsum(sizes).tolist()
                chunks = tuple(blob[end - size : end] for end, size in zip(ends, sizes.tolist()))
                info = packed[name]
                images[name] = CompressedImage(
                    tuple(info["shape"]), info["dtype"], info["level"], chunks
                )
            arrays = {name: data[name] for name in (*CAMERA_FIELDS, "joints")}
            smplx = {
                key.removeprefix("smplx."): data[key]
                for key in data.files
                if key.startswith("smplx.")
            }
    except (OSError, KeyError, ValueError) as error:
        raise InputError(f"unreadable render part ({error})", path=path) from error
    fields = {
        "dataset": meta["dataset"],
        "subject": meta["subject"],
        "kind": meta["kind"],
        "smplx": smplx,
        "smplx_settings": meta["smplx_settings"],
        "camera_names": tuple(meta["camera_names"]),
        "frame_ids": tuple(meta["frame_ids"]),
        "source_hashes": meta["source_hashes"],
        **arrays,
        **images,
    }
    if packed and len(packed) != len(IMAGE_FIELDS):
        raise InputError("part with only some image fields packed", path=path)
    return PackedSample(**fields) if packed else RenderedSample(**fields)


def load_part(path: str | PathLike[str]) -> RenderedSample:
    """Read a part written by :func:`save_part` as a :class:`RenderedSample` (unpacked).

    Raises:
        InputError: The file is not a complete part.
    """
    sample = read_part(path)
    return unpack_sample(sample) if isinstance(sample, PackedSample) else sample


@dataclass
class ShardRecord:
    """One manifest entry."""

    file: str
    samples: int
    subjects: list[str]
    sha256: str
    bytes: int
    config_hash: str
    failures: list[dict[str, str]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """JSON form (keys in a fixed order)."""
        return {
            "file": self.file,
            "samples": self.samples,
            "subjects": self.subjects,
            "sha256": self.sha256,
            "bytes": self.bytes,
            "config_hash": self.config_hash,
            "failures": self.failures,
        }


@dataclass
class Manifest:
    """``manifest.json``: the shards of an output folder and what produced them.

    Attributes:
        dataset: Dataset name.
        config: The render configuration (JSON).
        config_hash: Hash of ``config``.
        shards: Records by file name.
        pose_spec: The ``hvg_bonemap.PoseSpec`` of the stored bone maps as a dict (default:
            the render configuration's); manifests written before specs were recorded read as
            the default spec (:func:`manifest_pose_spec`).
    """

    dataset: str
    config: dict[str, Any]
    config_hash: str
    shards: dict[str, ShardRecord] = field(default_factory=dict)
    pose_spec: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        if self.pose_spec is None and "radii" in self.config:
            from hvg_data.config import RenderConfig

            self.pose_spec = RenderConfig.from_json(self.config).pose_spec.to_dict()

    @property
    def num_samples(self) -> int:
        """Total samples over all shards."""
        return sum(record.samples for record in self.shards.values())

    def to_json(self) -> dict[str, Any]:
        """JSON form, deterministic (sorted shards, no timestamps)."""
        return {
            "schema_version": SCHEMA_VERSION,
            "dataset": self.dataset,
            "config_hash": self.config_hash,
            "config": self.config,
            **({} if self.pose_spec is None else {"pose_spec": self.pose_spec}),
            "num_samples": self.num_samples,
            "failures_file": FAILURES_NAME,
            "shards": [self.shards[name].to_json() for name in sorted(self.shards)],
        }

    def save(self, folder: Path) -> None:
        """Write ``manifest.json`` atomically."""
        text = json.dumps(self.to_json(), indent=2, sort_keys=False) + "\n"
        atomic_write_bytes(folder / MANIFEST_NAME, text.encode())

    @classmethod
    def load(cls, folder: str | PathLike[str]) -> Manifest:
        """Read ``manifest.json`` from ``folder``.

        Raises:
            InputError: Missing or malformed manifest.
        """
        path = Path(folder) / MANIFEST_NAME
        if not path.is_file():
            raise InputError(
                "no manifest.json: not an hvg-data output folder (run `hvg-data render` first)",
                path=path,
            )
        try:
            data = json.loads(path.read_text())
            shards = {
                entry["file"]: ShardRecord(
                    entry["file"],
                    int(entry["samples"]),
                    list(entry["subjects"]),
                    entry["sha256"],
                    int(entry["bytes"]),
                    entry["config_hash"],
                    list(entry.get("failures", [])),
                )
                for entry in data["shards"]
            }
            pose_spec = data.get("pose_spec")
            if pose_spec is not None and not isinstance(pose_spec, dict):
                raise TypeError(f"pose_spec: expected an object, got {type(pose_spec).__name__}")
            return cls(data["dataset"], data["config"], data["config_hash"], shards, pose_spec)
        except InputError:
            raise
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as error:
            raise InputError(
                f"malformed manifest ({type(error).__name__}: {error})", path=path
            ) from error


#: Manifest folders already warned about a missing pose spec (one warning per folder).
_WARNED_NO_SPEC: set[str] = set()


def manifest_pose_spec(manifest: Manifest, folder: str | PathLike[str] | None = None) -> Any:
    """The ``hvg_bonemap.PoseSpec`` of a manifest's stored bone maps.

    A manifest written before pose specs were recorded gets the default spec (the bone map of
    the paper, with the manifest's ``bones`` and ``crop_extent``), said once per folder in a
    warning: its shards stay readable.

    Raises:
        InputError: A recorded spec that does not parse (``field`` is the spec's field).
    """
    import warnings

    from hvg_bonemap.pose_spec import DEFAULT_POSE_SPEC, PoseSpec, PoseSpecError

    path = Path(folder) / MANIFEST_NAME if folder is not None else None
    if manifest.pose_spec is None:
        key = str(path)
        if key not in _WARNED_NO_SPEC:
            _WARNED_NO_SPEC.add(key)
            warnings.warn(
                f"{path or 'manifest'}: no pose_spec recorded (written by an older hvg-data); "
                "reading its bone maps with the default pose spec",
                UserWarning,
                stacklevel=2,
            )
        config = manifest.config
        return DEFAULT_POSE_SPEC.replace(
            bones=config.get("bones", DEFAULT_POSE_SPEC.bones),
            crop_extent=float(config.get("crop_extent", DEFAULT_POSE_SPEC.crop_extent)),
        )
    try:
        return PoseSpec.from_dict(manifest.pose_spec)
    except PoseSpecError as error:
        raise InputError(str(error), path=path, field=f"pose_spec.{error.field}") from error


def read_sample_arrays(
    group: Any, views: Sequence[int] | None = None, frames: Sequence[int] | slice | None = None
) -> dict[str, Any]:
    """Read one sample group, only the requested views and frames.

    Args:
        group: An open ``h5py.Group`` of one sample.
        views: View indices (sorted or not), default all.
        frames: Frame indices or a slice, default all.

    Returns:
        A dict with the shard's fields (numpy arrays) plus ``subject``, ``dataset``,
        ``camera_names``, ``frame_ids``, ``smplx`` (dict) and ``smplx_settings``.
    """
    all_views = group["mask"].shape[0]
    view_index = np.arange(all_views) if views is None else np.asarray(views, np.int64)
    frame_sel: Any = slice(None) if frames is None else frames
    if not isinstance(frame_sel, slice):
        frame_sel = np.asarray(frame_sel, np.int64)
    out: dict[str, Any] = {}
    for name in IMAGE_FIELDS:
        dataset = group[name]
        # h5py fancy indexing needs increasing indices: read sorted, then reorder.
        order = np.argsort(view_index, kind="stable")
        sorted_views = view_index[order]
        unique, inverse = np.unique(sorted_views, return_inverse=True)
        frames_read = frame_sel if isinstance(frame_sel, slice) else np.unique(frame_sel)
        index = frames_read if isinstance(frames_read, slice) else frames_read.tolist()
        block = np.stack([dataset[int(v), index] for v in unique])
        if not isinstance(frame_sel, slice):
            positions = np.searchsorted(frames_read, frame_sel)
            block = block[:, positions]
        restored = np.empty_like(block[inverse])
        restored[order] = block[inverse]
        out[name] = restored
    for name in CAMERA_FIELDS:
        out[name] = group[name][()][view_index]
    joints = group["joints"][()]
    out["joints"] = joints[frame_sel]
    out["smplx"] = {key: group["smplx"][key][()][frame_sel] for key in group["smplx"]}
    out["subject"] = str(group.attrs["subject"])
    out["dataset"] = str(group.attrs["dataset"])
    out["camera_names"] = [json.loads(group.attrs["camera_names"])[int(v)] for v in view_index]
    frame_ids = json.loads(group.attrs["frame_ids"])
    out["frame_ids"] = list(np.asarray(frame_ids, dtype=object)[frame_sel])
    out["smplx_settings"] = json.loads(group.attrs["smplx_settings"])
    return out


def decode_normal(encoded: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Inverse of the uint8 normal encoding; zero where ``valid`` is False.

    Args:
        encoded: (..., 3) uint8 (channels last, the shard layout).
        valid: (...) bool foreground.

    Returns:
        (..., 3) float32 in [-1, 1] (``hvg_bonemap.pose_codec.load_normal``).
    """
    import torch
    from hvg_bonemap.pose_codec import load_normal

    pixels = torch.from_numpy(np.ascontiguousarray(encoded).reshape(-1, 3, 1, 1))
    normal = load_normal(pixels, torch.from_numpy(np.asarray(valid, bool).reshape(-1, 1, 1)))
    return normal.reshape(*np.shape(encoded)).numpy()


def encode_normal(normal: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """``round((n + 1) * 127.5)`` as uint8 (n in [-1, 1]); 0 where ``valid`` is False.

    Args:
        normal: (..., 3) unit normals (channels last, the shard layout).
        valid: (...) bool foreground.

    Returns:
        (..., 3) uint8 (``hvg_bonemap.pose_codec.store_normal``).
    """
    import torch
    from hvg_bonemap.pose_codec import store_normal

    pixels = torch.from_numpy(np.asarray(normal, np.float32).reshape(-1, 3, 1, 1))
    stored = store_normal(pixels, torch.from_numpy(np.asarray(valid, bool).reshape(-1, 1, 1)))
    return stored.reshape(*np.shape(normal)).numpy()


@dataclass
class VerifyReport:
    """Result of :func:`verify_folder`."""

    shards: int = 0
    samples: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No problem found."""
        return not self.problems


def shard_path(root: str | PathLike[str], record: ShardRecord) -> Path:
    """The file a manifest entry names, refused when it is not a plain file of the folder.

    Raises:
        InputError: ``file`` is absolute, has ``..`` or a folder part, or resolves (through a
            link) outside ``root``; the message names the entry.
    """
    folder = Path(root)
    name = record.file
    entry = Path(name)
    manifest = folder / MANIFEST_NAME
    if entry.is_absolute() or len(entry.parts) != 1 or name in {"", ".", ".."}:
        raise InputError(
            f"shard entry {name!r} is not a file name inside the shard folder; the trainer reads "
            "only files next to manifest.json",
            path=manifest,
            field="shards.file",
        )
    path = folder / name
    if not path.resolve().is_relative_to(folder.resolve()):
        raise InputError(
            f"shard entry {name!r} links outside the shard folder ({path.resolve()})",
            path=manifest,
            field="shards.file",
        )
    return path


def verify_folder(folder: str | PathLike[str], *, deep: bool = True) -> VerifyReport:
    """Check every shard against the manifest (existence, size, SHA-256, sample schema).

    Args:
        folder: An ``hvg-data render`` output folder.
        deep: Also open each shard and check every sample's arrays for shape consistency.

    Returns:
        A report; ``report.ok`` is True when nothing is wrong.
    """
    import h5py

    root = Path(folder)
    manifest = Manifest.load(root)
    report = VerifyReport()
    for _name, record in sorted(manifest.shards.items()):
        report.shards += 1
        try:
            path = shard_path(root, record)
        except InputError as error:
            report.problems.append(str(error))
            continue
        if not path.is_file():
            report.problems.append(f"{path}: missing")
            continue
        if path.stat().st_size != record.bytes:
            report.problems.append(f"{path}: size {path.stat().st_size} != manifest {record.bytes}")
            continue
        digest = sha256_of(path)
        if digest != record.sha256:
            report.problems.append(
                f"{path}: SHA-256 {digest[:12]}... != manifest {record.sha256[:12]}..."
            )
            continue
        if not deep:
            report.samples += record.samples
            continue
        try:
            with h5py.File(path, "r") as handle:
                problems = _check_shard(handle, record)
                report.samples += int(handle.attrs["num_samples"])
        except OSError as error:
            problems = [f"cannot open as HDF5 ({error})"]
        report.problems.extend(f"{path}: {problem}" for problem in problems)
    stray = sorted(p.name for p in root.glob("shard-*.h5") if p.name not in manifest.shards)
    report.problems.extend(f"{root / name}: not listed in the manifest" for name in stray)
    return report


def _check_shard(handle: Any, record: ShardRecord) -> list[str]:
    problems = []
    if int(handle.attrs.get("schema_version", -1)) != SCHEMA_VERSION:
        problems.append(f"schema_version {handle.attrs.get('schema_version')} != {SCHEMA_VERSION}")
    if handle.attrs.get("config_hash") != record.config_hash:
        problems.append("config_hash differs from the manifest")
    groups = sorted(handle["samples"]) if "samples" in handle else []
    if len(groups) != record.samples or int(handle.attrs.get("num_samples", -1)) != len(groups):
        problems.append(f"{len(groups)} samples, manifest says {record.samples}")
    for name in groups:
        group = handle["samples"][name]
        missing = [
            key for key in (*IMAGE_FIELDS, *CAMERA_FIELDS, "joints", "smplx") if key not in group
        ]
        if missing:
            problems.append(f"sample {name}: missing {missing}")
            continue
        views, frames = group["mask"].shape[:2]
        if (
            group["rgb"].shape[:4] != group["mask"].shape
            or group["K"].shape[0] != views
            or group["joints"].shape[0] != frames
        ):
            problems.append(f"sample {name}: inconsistent shapes")
    return problems


def iter_manifest_samples(folder: str | PathLike[str]) -> Iterable[tuple[Path, str]]:
    """(shard path, sample group name) of every sample listed by the manifest, in order."""
    import h5py

    root = Path(folder)
    manifest = Manifest.load(root)
    for name in sorted(manifest.shards):
        path = root / name
        if not path.is_file():
            raise HVGError(f"{path}: listed in the manifest but missing (run hvg-data verify)")
        with h5py.File(path, "r") as handle:
            for group in sorted(handle["samples"]):
                yield path, group
