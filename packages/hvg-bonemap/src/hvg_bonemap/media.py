"""Visualisation and media writers for bone maps (PNG via pillow, MP4 via PyAV; extra ``[media]``).

Writers are atomic: they write to a temporary name in the target folder and ``os.replace`` it.
"""

from __future__ import annotations

import os
import tempfile
import warnings
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import torch

from hvg_bonemap.renderers.output import BoneMap


def normal_rgb(bonemap: BoneMap) -> torch.Tensor:
    """``(..., H, W, 3)`` uint8 normal visualisation ``round((n + 1) * 127.5)``, black background."""
    return bonemap.normal_uint8().movedim(-3, -1)


def depth_rgb(bonemap: BoneMap) -> torch.Tensor:
    """``(..., H, W, 3)`` uint8 depth visualisation: per image, near = bright, background black."""
    depth, mask = bonemap.depth, bonemap.mask
    big = torch.finfo(depth.dtype).max
    near = torch.where(mask, depth, torch.full_like(depth, big)).amin(dim=(-2, -1), keepdim=True)
    far = torch.where(mask, depth, torch.zeros_like(depth)).amax(dim=(-2, -1), keepdim=True)
    scale = (far - near).clamp_min(1e-6)
    value = torch.where(mask, 1.0 - 0.8 * (depth - near) / scale, torch.zeros_like(depth))
    gray = (value * 255.0).round().clamp(0, 255).to(torch.uint8)
    return gray[..., None].expand(*gray.shape, 3)


def tile(images: torch.Tensor) -> torch.Tensor:
    """Tiles ``(R, C, H, W, 3)`` images into one ``(R H, C W, 3)`` image."""
    r, c, h, w, ch = images.shape
    return images.permute(0, 2, 1, 3, 4).reshape(r * h, c * w, ch)


def _atomic_target(path: Path) -> tuple[int, str]:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix, dir=path.parent)
    # mkstemp creates 0600 files; published outputs get the usual umask-based mode.
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    return fd, tmp


def write_png(path: str | os.PathLike[str], image: torch.Tensor | np.ndarray) -> Path:
    """Writes an ``(H, W, 3)`` uint8 image as PNG, atomically."""
    from PIL import Image

    target = Path(path)
    fd, tmp = _atomic_target(target)
    os.close(fd)
    try:
        Image.fromarray(np.ascontiguousarray(np.asarray(image, dtype=np.uint8))).save(
            tmp, format="PNG"
        )
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target


def write_mp4(
    path: str | os.PathLike[str], frames: Iterable[torch.Tensor | np.ndarray], fps: float = 24.0
) -> Path:
    """Encodes ``(H, W, 3)`` uint8 frames as H.264 MP4 (MPEG-4 Part 2 if no H.264 encoder), atomically.

    Odd sizes are padded by one black row/column (yuv420p needs even sizes). Falling back to
    MPEG-4 Part 2, which browsers cannot play, issues a :class:`BrowserIncompatibleVideoWarning`.
    """
    import av

    target = Path(path)
    fd, tmp = _atomic_target(target)
    os.close(fd)
    try:
        with av.open(tmp, mode="w", format="mp4") as container:
            stream = None
            for frame in frames:
                array = np.asarray(frame, dtype=np.uint8)
                h, w = array.shape[:2]
                array = np.pad(array, ((0, h % 2), (0, w % 2), (0, 0)))
                if stream is None:
                    stream = _video_stream(container, array.shape[1], array.shape[0], fps, target)
                for packet in stream.encode(
                    av.VideoFrame.from_ndarray(np.ascontiguousarray(array), format="rgb24")
                ):
                    container.mux(packet)
            if stream is not None:
                for packet in stream.encode():
                    container.mux(packet)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target


class BrowserIncompatibleVideoWarning(UserWarning):
    """An MP4 was encoded with a codec web browsers do not play (no H.264 encoder available)."""


def _video_stream(
    container: object, width: int, height: int, fps: float, target: Path | None = None
) -> object:
    from fractions import Fraction

    import av

    rate = Fraction(fps).limit_denominator(1000)
    # Encoder availability differs between FFmpeg builds: take the first one this build has.
    for codec in ("libx264", "mpeg4"):
        if codec not in av.codecs_available:
            continue
        stream = container.add_stream(codec, rate=rate)  # type: ignore[attr-defined]
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        if codec == "mpeg4":
            stream.bit_rate = 4_000_000
            warnings.warn(
                f"{target or 'video'}: this PyAV/FFmpeg build has no H.264 encoder (libx264), so "
                "the MP4 is MPEG-4 Part 2, which web browsers do not play (VLC and ffmpeg do); "
                "the PyAV wheels on PyPI include libx264",
                BrowserIncompatibleVideoWarning,
                stacklevel=3,
            )
        return stream
    raise RuntimeError("no MP4 video encoder (libx264 or mpeg4) in this PyAV build")
