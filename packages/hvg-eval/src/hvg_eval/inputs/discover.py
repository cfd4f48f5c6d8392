"""Find the videos under a path and pair real with fake ones by name.

A path may be:

- a flat folder of images: one video whose frames are the images in name order (DisCo's
  ``gen``/``gt`` folders; frames are paired by file name);
- a folder tree: every folder that directly holds images is one video, every MP4/GIF file is one
  video, every HDF5 shard contributes one video per sample and view — named by their path
  relative to the root (``subject_01/view_03``); this covers the generator's outputs
  (``<sample>/view_XX.mp4`` or ``<sample>/view_XX/*.png``);
- a single video, image or HDF5 file;
- a folder written by ``hvg-model generate`` (it holds ``hvg-views.json``): its V per-view
  videos only, ``<folder>/view_VV`` (the frame folders when written, else the MP4s), so FVD and
  FID-VID see one video per view as in the paper (200 per-view videos for Table 2); the tiled
  preview, contact sheet and pose video beside them are not read.

The view index used for per-view breakdowns is the number after ``view``/``cam`` in the name
(``view_03`` → 3), the HDF5 view index, or 0.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from hvg_core.errors import InputError

from hvg_eval.inputs.frames import IMAGE_SUFFIXES, read_frames
from hvg_eval.inputs.hdf5 import HDF5_SUFFIXES, list_samples, read_view
from hvg_eval.inputs.video import VIDEO_SUFFIXES, read_video

_VIEW_PATTERN = re.compile(r"(?:view|cam|camera)[_\-]?(\d+)", re.IGNORECASE)

#: The manifest ``hvg-model generate`` writes next to its per-view videos.
VIEWS_MANIFEST = "hvg-views.json"


@dataclass(frozen=True)
class VideoItem:
    """One video to evaluate, read lazily.

    Attributes:
        name: Pairing key (relative path without suffix, or ``sample/view_NN`` for HDF5).
        view: View index for per-view breakdowns.
        source: File or folder it comes from.
        kind: ``frames``, ``video`` or ``hdf5``.
        frame_names: Frame file names (``frames`` kind only), for pairing frames by name.
    """

    name: str
    view: int
    source: Path
    kind: str
    frame_names: tuple[str, ...] = ()
    _reader: Callable[[], np.ndarray] | None = field(default=None, compare=False, repr=False)

    def read(self) -> np.ndarray:
        """Frames as uint8 ``(T, H, W, 3)``."""
        assert self._reader is not None
        return self._reader()


def _view_of(name: str) -> int:
    matches = _VIEW_PATTERN.findall(name)
    return int(matches[-1]) if matches else 0


def _frames_item(folder: Path, root: Path, images: list[Path]) -> VideoItem:
    name = folder.relative_to(root).as_posix() if folder != root else "."
    ordered = sorted(images, key=lambda p: p.name)
    return VideoItem(
        name=name,
        view=_view_of(name),
        source=folder,
        kind="frames",
        frame_names=tuple(p.name for p in ordered),
        _reader=lambda: read_frames(ordered),
    )


def _hdf5_items(path: Path, root: Path) -> list[VideoItem]:
    prefix = path.relative_to(root).with_suffix("").as_posix() if path != root else ""
    items = []
    for sample, views, _shape in list_samples(path):
        for view in range(views):
            base = f"{prefix}/{sample}" if prefix else sample
            items.append(
                VideoItem(
                    name=f"{base}/view_{view:02d}",
                    view=view,
                    source=path,
                    kind="hdf5",
                    _reader=lambda s=sample, v=view: read_view(path, s, v),
                )
            )
    return items


def _manifest_items(folder: Path, root: Path) -> list[VideoItem]:
    """The per-view videos a ``generate`` manifest lists (frame folders preferred).

    Raises:
        InputError: Unreadable manifest, or a listed file that is missing or outside the folder.
    """
    manifest = folder / VIEWS_MANIFEST
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
        entries = data["videos"]
        if not isinstance(entries, list):
            raise TypeError("'videos' is not a list")
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise InputError(f"cannot read the view manifest: {error}", path=manifest) from error
    prefix = folder.relative_to(root).as_posix() if folder != root else ""
    items = []
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise InputError("every video needs a 'name'", path=manifest, field="videos")
        name = f"{prefix}/{entry['name']}" if prefix else entry["name"]
        view = int(entry.get("view", _view_of(entry["name"])))
        frames_dir = _inside(folder, entry.get("frames"), manifest)
        video = _inside(folder, entry.get("video"), manifest)
        if frames_dir is not None and frames_dir.is_dir():
            images = [
                p
                for p in frames_dir.iterdir()
                if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
            ]
            if images:
                item = _frames_item(frames_dir, root, images)
                items.append(
                    VideoItem(
                        name, view, frames_dir, "frames", item.frame_names, _reader=item._reader
                    )
                )
                continue
        if video is None or not video.is_file():
            raise InputError(
                f"view video {entry['name']!r} has neither frames nor a video file",
                path=manifest,
                field="videos",
            )
        items.append(VideoItem(name, view, video, "video", _reader=lambda f=video: read_video(f)))
    return items


def _inside(folder: Path, relative: object, manifest: Path) -> Path | None:
    if relative is None:
        return None
    resolved, base = (folder / str(relative)).resolve(), folder.resolve()
    if not resolved.is_relative_to(base):
        raise InputError(f"{relative!r} points outside the output folder", path=manifest)
    # In the caller's form (relative stays relative), so names relative to the root still work.
    return folder / resolved.relative_to(base)


def discover_videos(path: str | Path) -> list[VideoItem]:
    """Every video under ``path``, sorted by name.

    Raises:
        InputError: Missing path, nothing recognisable inside, or a duplicated name.
    """
    root = Path(path)
    if not root.exists():
        raise InputError("no such file or folder", path=root)
    items: list[VideoItem] = []
    if root.is_file():
        suffix = root.suffix.lower()
        if suffix in VIDEO_SUFFIXES:
            items.append(
                VideoItem(
                    root.stem, _view_of(root.stem), root, "video", _reader=lambda: read_video(root)
                )
            )
        elif suffix in HDF5_SUFFIXES:
            items.extend(_hdf5_items(root, root))
        elif suffix in IMAGE_SUFFIXES:
            items.append(_frames_item(root.parent, root.parent, [root]))
        else:
            raise InputError(
                "not a video (.mp4 .gif ...), image or HDF5 shard (.h5 .hdf5)", path=root
            )
        return items
    generated: list[Path] = []  # folders written by `hvg-model generate`
    for folder in sorted([root, *(p for p in root.rglob("*") if p.is_dir())]):
        if any(folder.is_relative_to(done) for done in generated):
            continue
        if (folder / VIEWS_MANIFEST).is_file():
            generated.append(folder)
            items.extend(_manifest_items(folder, root))
            continue
        files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
        images = [p for p in files if p.suffix.lower() in IMAGE_SUFFIXES]
        if images:
            items.append(_frames_item(folder, root, images))
        for file in files:
            suffix = file.suffix.lower()
            name = file.relative_to(root).with_suffix("").as_posix()
            if suffix in VIDEO_SUFFIXES:
                items.append(
                    VideoItem(
                        name, _view_of(name), file, "video", _reader=lambda f=file: read_video(f)
                    )
                )
            elif suffix in HDF5_SUFFIXES:
                items.extend(_hdf5_items(file, root))
    if not items:
        raise InputError(
            "found no images, videos (.mp4 .gif ...) or HDF5 shards (.h5 .hdf5)", path=root
        )
    names = [item.name for item in items]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise InputError(
            f"two inputs share the name {duplicates[0]!r} (e.g. a frame folder and a video of "
            "the same name); keep one",
            path=root,
        )
    return sorted(items, key=lambda item: item.name)


def pair_videos(real: list[VideoItem], fake: list[VideoItem]) -> list[tuple[VideoItem, VideoItem]]:
    """Match real and fake videos by name (and frame folders' frames by file name).

    Raises:
        InputError: Names present on one side only, or frame names that differ.
    """
    real_by_name = {item.name: item for item in real}
    fake_by_name = {item.name: item for item in fake}
    only_real = sorted(set(real_by_name) - set(fake_by_name))
    only_fake = sorted(set(fake_by_name) - set(real_by_name))
    if only_real or only_fake:
        parts = []
        if only_real:
            parts.append(f"{len(only_real)} only in --real (e.g. {', '.join(only_real[:3])})")
        if only_fake:
            parts.append(f"{len(only_fake)} only in --fake (e.g. {', '.join(only_fake[:3])})")
        raise InputError(
            "real and fake videos must pair up by name: " + "; ".join(parts), field="fake"
        )
    pairs = []
    for name in sorted(real_by_name):
        real_item, fake_item = real_by_name[name], fake_by_name[name]
        if (
            real_item.frame_names
            and fake_item.frame_names
            and real_item.frame_names != fake_item.frame_names
        ):
            missing = sorted(set(real_item.frame_names) ^ set(fake_item.frame_names))
            raise InputError(
                f"frame files differ between real and fake video {name!r}: "
                f"{len(real_item.frame_names)} vs {len(fake_item.frame_names)} frames"
                + (f", e.g. {missing[0]!r} on one side only" if missing else ""),
                path=fake_item.source,
            )
        pairs.append((real_item, fake_item))
    return pairs


def check_same_frames(name: str, real: np.ndarray, fake: np.ndarray, fake_source: Path) -> None:
    """Paired videos need equal frame counts and sizes.

    Raises:
        InputError: Naming the video, the counts or sizes, and the fake file.
    """
    if real.shape[0] != fake.shape[0]:
        raise InputError(
            f"video {name!r}: {real.shape[0]} real frames but {fake.shape[0]} fake frames",
            path=fake_source,
        )
    if real.shape[1:] != fake.shape[1:]:
        raise InputError(
            f"video {name!r}: real frames are {real.shape[2]}×{real.shape[1]} but fake frames "
            f"are {fake.shape[2]}×{fake.shape[1]}; resize the generated frames to the "
            "ground-truth size first (the paper evaluates at 576×576)",
            path=fake_source,
        )
