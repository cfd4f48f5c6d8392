"""Writing generated multi-view videos: an MP4 per sample with the views tiled, and PNG frames.

Encoding goes through ``hvg_bonemap.media`` (PyAV H.264, MPEG-4 Part 2 fallback; atomic writes).
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import torch


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """``(..., 3, H, W)`` float in [0, 1] → ``(..., H, W, 3)`` uint8."""
    return (images.clamp(0, 1) * 255.0).round().to(torch.uint8).movedim(-3, -1)


def view_grid(frames: torch.Tensor, columns: int | None = None) -> torch.Tensor:
    """Tile the views of each frame: ``(V, T, 3, H, W)`` → ``(T, R·H, C·W, 3)`` uint8.

    Args:
        frames: One sample's frames in [0, 1].
        columns: Views per row (default: ``ceil(sqrt(V))``); missing cells stay black.
    """
    from hvg_bonemap.media import tile

    if frames.ndim != 5 or frames.shape[2] != 3:
        raise ValueError(f"frames must have shape (V, T, 3, H, W), got {tuple(frames.shape)}")
    views, count = frames.shape[:2]
    columns = columns or math.ceil(math.sqrt(views))
    rows = math.ceil(views / columns)
    images = to_uint8(frames)  # (V, T, H, W, 3)
    pad = rows * columns - views
    if pad:
        images = torch.cat([images, images.new_zeros(pad, *images.shape[1:])])
    cells = images.view(rows, columns, count, *images.shape[2:]).permute(2, 0, 1, 3, 4, 5)
    return torch.stack([tile(cell) for cell in cells])


def write_video(
    frames: torch.Tensor, path: str | os.PathLike[str], *, fps: float = 7.0, sample: int = 0
) -> Path:
    """Write one generated sample as an MP4 with its views tiled (H.264, atomic write).

    Args:
        frames: ``(B, V, T, 3, H, W)`` (a pipeline's ``output.frames``; sample ``sample`` is
            written) or ``(V, T, 3, H, W)``, float in [0, 1].
        path: The ``.mp4`` file.
        fps: Frame rate.
        sample: Which batch row of a ``(B, V, T, 3, H, W)`` tensor to write.

    Returns:
        The written path.
    """
    from hvg_bonemap.media import write_mp4

    if frames.ndim == 6:
        frames = frames[sample]
    grid = view_grid(frames.detach().cpu())
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    return write_mp4(target, (frame.numpy() for frame in grid), fps=fps)


def write_video_outputs(
    frames: torch.Tensor,
    out_dir: str | os.PathLike[str],
    *,
    fps: float = 7.0,
    prefix: str = "video",
    write_pngs: bool = True,
) -> list[Path]:
    """Write ``(B, V, T, 3, H, W)`` frames: ``{prefix}_b{b}.mp4`` (views tiled) and PNGs.

    PNGs go to ``frames/b{b}/v{v:02d}_t{t:03d}.png``; a contact sheet of all views (rows) ×
    frames (columns) to ``{prefix}_b{b}_sheet.png``.

    Returns:
        The written paths.
    """
    from hvg_bonemap.media import tile, write_mp4, write_png

    if frames.ndim != 6 or frames.shape[3] != 3:
        raise ValueError(f"frames must have shape (B, V, T, 3, H, W), got {tuple(frames.shape)}")
    root = Path(out_dir)
    root.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for b, sample in enumerate(frames.detach().cpu()):
        grid = view_grid(sample)
        written.append(
            write_mp4(root / f"{prefix}_b{b}.mp4", (frame.numpy() for frame in grid), fps=fps)
        )
        images = to_uint8(sample)  # (V, T, H, W, 3)
        written.append(write_png(root / f"{prefix}_b{b}_sheet.png", tile(images).numpy()))
        if write_pngs:
            for v, view in enumerate(images):
                for t, image in enumerate(view):
                    written.append(
                        write_png(
                            root / "frames" / f"b{b}" / f"v{v:02d}_t{t:03d}.png", image.numpy()
                        )
                    )
    return written
