"""The work behind ``hvg-bonemap render`` (kept out of ``cli.py`` so the CLI imports no torch)."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from hvg_bonemap._validation import BoneMapInputError
from hvg_bonemap.alignment import crop_cameras, pelvis_crop_boxes
from hvg_bonemap.bodies import body_model
from hvg_bonemap.cameras import orbit_cameras
from hvg_bonemap.ellipsoids import Ellipsoids, ellipsoids_from_joints
from hvg_bonemap.motions import MOTIONS, load_motion
from hvg_bonemap.renderers.output import BoneMap
from hvg_bonemap.rendering import render
from hvg_bonemap.skeleton import JOINT_INDEX

FRAMES_PER_STEP = 4


@dataclass(frozen=True)
class RenderJob:
    """Options of one ``hvg-bonemap render`` run (see the command's ``--help``)."""

    out_dir: Path
    motion: str = "walk"
    frames: int | None = None
    fps: float = 24.0
    views: int = 8
    size: int = 256
    elevation: float = 10.0
    distance: float = 3.0
    fov: float = 40.0
    bones: str = "paper"
    radii: str = "thin"
    body: str = "anthropometric"
    backend: str = "analytic"
    model_path: Path | None = None
    gender: str = "neutral"
    align: bool = True
    grid_frames: int = 6
    device: str = "cpu"


def _motion(job: RenderJob) -> dict[str, torch.Tensor]:
    if job.motion in MOTIONS:
        return MOTIONS[job.motion](job.frames or 24)
    path = Path(job.motion)
    if not path.exists():
        raise BoneMapInputError(
            f"--motion: {job.motion!r} is neither a built-in motion {sorted(MOTIONS)} nor a file"
        )
    params = load_motion(path)
    if job.frames is not None:
        params = {k: v[: job.frames] if v.ndim >= 2 else v for k, v in params.items()}
    return params


def _body(job: RenderJob) -> torch.nn.Module:
    if job.body == "smplx" and job.model_path is None:
        raise BoneMapInputError(
            "--model-path: required with --body smplx (SMPLX_<GENDER>.npz or its folder)"
        )
    # The registry's body model: built-ins and plug-ins alike take what they need of these.
    return body_model(job.body, model_path=job.model_path, gender=job.gender)


def run_render_job(job: RenderJob, progress: Callable[[int, str], Any] | None = None) -> list[Path]:
    """Renders the job's motion from orbit views and writes the PNG grid, MP4 and NPZ.

    Returns:
        The written paths ``[grid.png, video.mp4, maps.npz]``.
    """
    from hvg_bonemap.media import _atomic_target, depth_rgb, tile, write_mp4, write_png

    device = torch.device(job.device)
    joints = _body(job)(_motion(job)).to(device=device, dtype=torch.float32)  # (T, 55, 3)
    if joints.ndim != 3:
        raise BoneMapInputError(
            f"--motion: expected parameters with one frame axis, got joints {tuple(joints.shape)}"
        )
    t = joints.shape[0]
    pelvis = joints[:, JOINT_INDEX["pelvis"]]
    cams = orbit_cameras(
        job.views, elevation_deg=job.elevation, distance=job.distance, fov_deg=job.fov, width=job.size,
        height=job.size, target=pelvis.mean(0).cpu(), device=device,
    )  # fmt: skip
    if job.align:
        # View alignment: each view's first-frame pelvis lands at the image centre.
        cams = crop_cameras(cams, pelvis_crop_boxes(pelvis[0], cams), (job.size, job.size))
    ell = ellipsoids_from_joints(joints, job.bones, job.radii)
    depth = np.zeros((job.views, t, job.size, job.size), np.float32)
    normal = np.zeros((job.views, t, 3, job.size, job.size), np.uint8)
    mask = np.zeros((job.views, t, job.size, job.size), bool)
    bar = progress(t, "rendering") if progress else None
    if bar is not None:
        bar.__enter__()
    try:
        for start in range(0, t, FRAMES_PER_STEP):
            sl = slice(start, min(t, start + FRAMES_PER_STEP))
            chunk = Ellipsoids(ell.centers[None, sl], ell.rotations[None, sl], ell.radii[None, sl])
            maps = render(chunk, cams[:, None], backend=job.backend)  # (V, Tc)
            depth[:, sl] = maps.depth.cpu().numpy()
            normal[:, sl] = maps.normal_uint8().cpu().numpy()
            mask[:, sl] = maps.mask.cpu().numpy()
            if bar is not None:
                bar.update(sl.stop - sl.start)
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    maps = BoneMap(
        torch.from_numpy(depth),
        torch.from_numpy(normal).float() / 127.5 - 1.0,
        torch.from_numpy(mask),
        torch.from_numpy(mask).int() - 1,
    )
    out = Path(job.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    normal_img = torch.from_numpy(normal).movedim(-3, -1)  # (V, T, H, W, 3) uint8, already encoded
    depth_img = depth_rgb(maps)
    picks = np.unique(np.linspace(0, t - 1, min(job.grid_frames, t)).round().astype(int))
    cells = torch.cat([normal_img[:, picks], depth_img[:, picks]], dim=-2)  # (V, G, H, 2W, 3)
    grid = write_png(out / "bonemap_grid.png", tile(cells).numpy())
    # One video frame = 2 rows (normals, depth) x V views.
    video_frames = (
        tile(torch.stack([normal_img[:, i], depth_img[:, i]])).numpy() for i in range(t)
    )
    video = write_mp4(out / "bonemap.mp4", video_frames, fps=job.fps)
    arrays = {
        "depth": depth, "normal": normal, "mask": mask, "K": cams.K.cpu().numpy(), "R": cams.R.cpu().numpy(),
        "t": cams.t.cpu().numpy(), "joints": joints.cpu().numpy(), "fps": np.float32(job.fps),
    }  # fmt: skip
    npz = out / "bonemap.npz"
    fd, tmp = _atomic_target(npz)
    os.close(fd)
    try:
        np.savez_compressed(tmp, **arrays)
        os.replace(tmp, npz)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return [grid, video, npz]
