"""Image files and folders of frames."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from hvg_core.errors import InputError
from PIL import Image, UnidentifiedImageError

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff"})


def read_image(path: Path) -> np.ndarray:
    """One image as uint8 ``(H, W, 3)`` RGB (grey and RGBA are converted; 16-bit refused).

    Raises:
        InputError: Unreadable or 16-bit image (file named).
    """
    try:
        with Image.open(path) as image:
            if image.mode in {"I;16", "I;16B", "I;16L", "I", "F"}:
                raise InputError(
                    f"{image.mode} images are not 8-bit; convert them to 8-bit RGB first",
                    path=path,
                )
            return np.asarray(image.convert("RGB"), dtype=np.uint8)
    except (UnidentifiedImageError, OSError) as error:
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
