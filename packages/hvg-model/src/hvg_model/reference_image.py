"""Reference images as the pipeline takes them: PIL images, file paths, arrays or tensors.

Like a diffusers pipeline, :class:`~hvg_model.pipeline.HVGPipeline` accepts the reference as a
``PIL.Image.Image``, a path to an image file, a ``(H, W, 3)`` uint8 array or a
``(B, 3, H, W)`` float tensor in [0, 1]. Everything but a tensor is centre-cropped to the output's
aspect ratio and resized to the output size (the pose maps' size), so a photo of any size works.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import torch

if TYPE_CHECKING:
    from PIL import Image


def load_reference_image(image: Any, size: int | tuple[int, int] | None = None) -> torch.Tensor:
    """Turn a reference image into the pipeline's ``(B, 3, H, W)`` float32 tensor in [0, 1].

    Args:
        image: A ``PIL.Image.Image``, an image file path, an ``(H, W, 3)`` uint8 array or a
            tensor (``(3, H, W)`` or ``(B, 3, H, W)`` in [0, 1], returned batched, unresized).
        size: Output ``(H, W)`` (an int: square). ``None`` keeps the image's own size.

    Returns:
        ``(B, 3, H, W)`` float32 in [0, 1] (B = 1 except for batched tensors).

    Raises:
        InputError: An unreadable file or an array that is not ``(H, W, 3)``.
    """
    import numpy as np
    from hvg_core.errors import InputError
    from PIL import Image, UnidentifiedImageError

    if isinstance(image, torch.Tensor):
        return image[None] if image.ndim == 3 else image
    if isinstance(image, str | os.PathLike):
        try:
            with Image.open(image) as opened:
                picture = opened.convert("RGB")
        except (OSError, UnidentifiedImageError) as error:
            raise InputError(f"cannot read the reference image: {error}", path=image) from error
    elif isinstance(image, np.ndarray):
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise InputError(
                f"expected an (H, W, 3) uint8 array, got {image.shape} {image.dtype}",
                field="reference_image",
            )
        picture = Image.fromarray(image)
    elif isinstance(image, Image.Image):
        picture = image.convert("RGB")
    else:
        raise InputError(
            "expected a PIL image, a file path, an (H, W, 3) uint8 array or a tensor, got "
            f"{type(image).__name__}",
            field="reference_image",
        )
    if size is not None:
        height, width = (size, size) if isinstance(size, int) else size
        picture = _crop_to_aspect(picture, width / height).resize(
            (width, height), Image.Resampling.BICUBIC
        )
    array = np.asarray(picture, dtype=np.float32) / 255.0
    return torch.from_numpy(array).permute(2, 0, 1)[None].contiguous()


def _crop_to_aspect(picture: Image.Image, aspect: float) -> Image.Image:
    """Centre crop to ``width / height == aspect``."""
    width, height = picture.size
    if width / height > aspect:
        new_width = round(height * aspect)
        left = (width - new_width) // 2
        return picture.crop((left, 0, left + new_width, height))
    new_height = round(width / aspect)
    top = (height - new_height) // 2
    return picture.crop((0, top, width, top + new_height))
