"""Image files and folders of frames."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from hvg_core.errors import InputError
from PIL import Image, UnidentifiedImageError

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff"})

#: Largest frame read (width × height), checked from the header before any pixel is decoded:
#: 64 megapixels (8192 × 8192, 192 MiB as RGB), far above any evaluated video and below
#: Pillow's own decompression-bomb limits (``Image.MAX_IMAGE_PIXELS``, an error at twice that).
MAX_FRAME_PIXELS = 8192 * 8192

_WIDE_MODES = frozenset({"I;16", "I;16B", "I;16L", "I;16N", "I", "F"})


def _raw_mode(args: object) -> str:
    """The raw (stored) mode of a Pillow tile: its ``args`` string, or their first item."""
    if isinstance(args, tuple) and args:
        args = args[0]
    return args if isinstance(args, str) else ""


def check_image_header(image: Image.Image, path: Path) -> None:
    """Refuse, before decoding, images too large to read or with more than 8 bits per channel.

    Pillow reads 16-bit RGB(A) PNG and TIFF files as 8-bit ``RGB`` by dropping the low byte;
    the metrics compare 8-bit frames, so such files are refused rather than silently reduced.

    Raises:
        InputError: Too many pixels, or 16/32-bit samples (file named).
    """
    width, height = image.size
    if width * height > MAX_FRAME_PIXELS:
        raise InputError(
            f"image of {width}×{height} pixels is larger than the {MAX_FRAME_PIXELS} pixels a "
            "frame may have (hvg_eval.inputs.frames.MAX_FRAME_PIXELS); a decompression bomb or "
            "not a video frame",
            path=path,
        )
    raw_modes = [_raw_mode(tile.args) for tile in getattr(image, "tile", None) or []]
    wide = image.mode in _WIDE_MODES or any(";16" in raw or ";32" in raw for raw in raw_modes)
    if wide:
        raise InputError(
            f"{image.format or ''} image has more than 8 bits per channel ({image.mode}, stored "
            f"{', '.join(raw for raw in raw_modes if raw) or image.mode}); reading it as 8-bit would "
            "drop precision silently: convert the frames to 8-bit RGB first",
            path=path,
        )


def read_image(path: Path) -> np.ndarray:
    """One image as uint8 ``(H, W, 3)`` RGB (grey and RGBA are converted).

    Raises:
        InputError: Unreadable, too large (:data:`MAX_FRAME_PIXELS`) or 16-bit image (file
            named).
    """
    try:
        with Image.open(path) as image:
            check_image_header(image, path)
            return np.asarray(image.convert("RGB"), dtype=np.uint8)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as error:
        raise InputError(f"cannot read image: {error}", path=path) from error


def read_frames(paths: Sequence[Path]) -> np.ndarray:
    """Frames in the given order as uint8 ``(T, H, W, 3)``.

    Raises:
        InputError: Frames of different sizes (both files named).
    """
    frames = [read_image(path) for path in paths]
    first = frames[0].shape
    for path, frame in zip(paths, frames):
        if frame.shape != first:
            raise InputError(
                f"frame size {frame.shape[1]}×{frame.shape[0]} differs from "
                f"{first[1]}×{first[0]} of {paths[0].name} in the same video",
                path=path,
            )
    return np.stack(frames)
