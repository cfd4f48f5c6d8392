"""Previews of shards: per sample a PNG grid (rows = views; RGB | depth | normal) and an MP4."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hvg_data.shards import iter_manifest_samples, read_sample_arrays


def depth_to_gray(depth: np.ndarray) -> np.ndarray:
    """(..., H, W) metres -> (..., H, W, 3) uint8, near = bright, background black."""
    valid = depth > 0
    if not valid.any():
        return np.zeros((*depth.shape, 3), np.uint8)
    near, far = float(depth[valid].min()), float(depth[valid].max())
    scaled = 1.0 - (depth - near) / max(far - near, 1e-6)
    gray = np.where(valid, 55 + 200 * scaled, 0).astype(np.uint8)
    return np.repeat(gray[..., None], 3, -1)


def sample_grid(rgb: np.ndarray, depth: np.ndarray, normal: np.ndarray, frame: int) -> np.ndarray:
    """(V*H, 3*W, 3) uint8: one row per view."""
    rows = [
        np.concatenate(
            [rgb[v, frame], depth_to_gray(depth[v, frame].astype(np.float32)), normal[v, frame]], 1
        )
        for v in range(rgb.shape[0])
    ]
    return np.concatenate(rows, 0)


def write_previews(
    directory: Path | str, out: Path, *, samples: int = 4, fps: int = 8
) -> list[Path]:
    """Write ``<subject>.png`` and ``<subject>.mp4`` for the first ``samples`` samples.

    Returns:
        The written files.
    """
    import av
    import h5py
    from PIL import Image

    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for count, (path, group_name) in enumerate(iter_manifest_samples(directory)):
        if count >= samples:
            break
        with h5py.File(path, "r") as handle:
            data = read_sample_arrays(handle["samples"][group_name])
        stem = f"{data['dataset']}-{data['subject']}".replace("/", "_")
        grid0 = sample_grid(data["rgb"], data["depth"], data["normal"], 0)
        png = out / f"{stem}.png"
        Image.fromarray(grid0).save(png)
        written.append(png)
        frames = data["rgb"].shape[1]
        mp4 = out / f"{stem}.mp4"
        height, width = grid0.shape[:2]
        with av.open(str(mp4), "w") as container:
            stream = container.add_stream("libx264", rate=fps)
            stream.width, stream.height = width + width % 2, height + height % 2
            stream.pix_fmt = "yuv420p"
            for frame in range(frames):
                grid = sample_grid(data["rgb"], data["depth"], data["normal"], frame)
                grid = np.pad(grid, ((0, height % 2), (0, width % 2), (0, 0)))
                for packet in stream.encode(av.VideoFrame.from_ndarray(grid, format="rgb24")):
                    container.mux(packet)
            for packet in stream.encode():
                container.mux(packet)
        written.append(mp4)
    return written
