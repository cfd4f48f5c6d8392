"""MP4 (and other containers) through PyAV, GIF through Pillow, with exact frame counts.

Every stored frame is decoded once: no frame-rate resampling, which is what duplicated GIF
frames in DisCo's ffmpeg path (DisCo issue #36).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from hvg_core.errors import InputError
from PIL import Image, ImageSequence, UnidentifiedImageError

VIDEO_SUFFIXES = frozenset({".mp4", ".mov", ".avi", ".mkv", ".webm", ".gif"})


def read_gif(path: Path) -> np.ndarray:
    """Every frame of a GIF as uint8 ``(T, H, W, 3)``."""
    from hvg_eval.inputs.frames import check_image_header

    try:
        with Image.open(path) as image:
            check_image_header(image, path)
            frames = [np.asarray(frame.convert("RGB")) for frame in ImageSequence.Iterator(image)]
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as error:
        raise InputError(f"cannot read GIF: {error}", path=path) from error
    return np.stack(frames)


def read_video(path: Path) -> np.ndarray:
    """Every decoded frame of the first video stream as uint8 ``(T, H, W, 3)`` RGB.

    Raises:
        InputError: Unreadable file or no video stream (file named).
    """
    if path.suffix.lower() == ".gif":
        return read_gif(path)
    import av

    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise InputError("no video stream", path=path)
            frames = [
                frame.to_ndarray(format="rgb24")
                for frame in container.decode(container.streams.video[0])
            ]
    except av.FFmpegError as error:
        raise InputError(f"cannot decode video: {error}", path=path) from error
    if not frames:
        raise InputError("the video has no frames", path=path)
    return np.stack(frames)


def write_video(path: Path, frames: np.ndarray, *, fps: int = 8, lossless: bool = True) -> None:
    """Write uint8 ``(T, H, W, 3)`` frames (MP4 via PyAV, or GIF); atomic.

    ``lossless`` uses libx264 with ``qp=0`` in yuv444p so decoded frames equal the input.
    """
    import os

    temporary = path.with_name(f".{path.name}.tmp{os.getpid()}{path.suffix}")
    if path.suffix.lower() == ".gif":
        images = [Image.fromarray(frame) for frame in frames]
        images[0].save(temporary, save_all=True, append_images=images[1:], duration=100, loop=0)
    else:
        import av

        with av.open(str(temporary), mode="w") as container:
            stream = container.add_stream("libx264", rate=fps)
            stream.height, stream.width = frames.shape[1:3]
            if lossless:
                stream.pix_fmt = "yuv444p"
                stream.options = {"qp": "0"}
            else:
                stream.pix_fmt = "yuv420p"
            for frame in frames:
                for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                    container.mux(packet)
            for packet in stream.encode():
                container.mux(packet)
    os.replace(temporary, path)
