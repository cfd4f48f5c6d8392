"""Turn one adapter :class:`~hvg_data.adapter.Sample` into a shard's :class:`RenderedSample`.

Scans: orbit cameras around the frame-0 pelvis, folded with the pelvis-centred crop into ``K``,
then the scan renderer (RGB + silhouette) and the bone maps from exactly those cameras.
Captures: ``views`` cameras picked evenly around the subject, images and masks resampled through
the same crop, bone maps from the cropped cameras.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from hvg_core.errors import InputError

from hvg_data._bonemap import bone_maps, orbit
from hvg_data.adapter import Sample
from hvg_data.body import posed_joints
from hvg_data.config import RenderConfig
from hvg_data.crop import crop_intrinsics, pelvis_crop_boxes, pick_cameras_around
from hvg_data.rotations import axis_angle_to_matrix, matrix_to_axis_angle
from hvg_data.shards import RenderedSample, encode_normal, sha256_of


def load_scan_renderer(name: str, background: tuple[int, int, int]) -> Any:
    """Instantiate a registered scan renderer."""
    from hvg_core.registry import get_registry

    return get_registry().load("scan_renderers", name)(background=tuple(background))


def render_sample(
    sample: Sample,
    config: RenderConfig,
    *,
    smplx_model_dir: str | None = None,
    renderer: Any = None,
) -> RenderedSample:
    """Render (scans) or crop (captures) one sample with its bone maps.

    Args:
        sample: What the adapter loaded.
        config: Render settings.
        smplx_model_dir: SMPL-X model files for ``config.body_model == "smplx"``.
        renderer: A scan renderer instance (default: ``config.scan_renderer`` from the registry).

    Raises:
        InputError: The sample has no SMPL-X fit, or its files are bad.
    """
    if sample.smplx is None:
        raise InputError("no SMPL-X fit: bone maps cannot be drawn for this subject", field="smplx")
    params = sample.smplx
    if config.frames is not None and params.frames > config.frames:
        params = params.frame(slice(0, config.frames))
    joints = posed_joints(params, body_model=config.body_model, model_dir=smplx_model_dir)
    frames = params.frames
    size = config.size
    if sample.kind == "scan":
        K0, R, t = orbit(
            config.views,
            elevation_deg=config.elevation_deg,
            distance=config.distance,
            fov_deg=config.fov_deg,
            size=size,
            target=joints[0, 0],
        )
        boxes = pelvis_crop_boxes(K0, R, t, joints[:, 0], config.crop_extent)
        K = crop_intrinsics(K0, boxes, size)
        rgb, mask = _render_scan(sample, frames, K, R, t, size, config, renderer)
        camera_names = tuple(f"orbit{index:03d}" for index in range(config.views))
        frame_ids = tuple(str(index) for index in range(frames))
    else:
        capture = sample.capture
        assert capture is not None
        check_rotations(capture.R, capture.camera_names)
        frame_index = np.arange(frames)
        body_rotation = matrix_to_axis_angle(
            axis_angle_to_matrix(params.world_rotation[0])
            @ axis_angle_to_matrix(params.global_orient[0])
        )
        chosen = pick_cameras_around(
            capture.R, capture.t, joints[0, 0], body_rotation, config.views
        )
        R, t = capture.R[chosen], capture.t[chosen]
        boxes = pelvis_crop_boxes(capture.K[chosen], R, t, joints[:, 0], config.crop_extent)
        K = crop_intrinsics(capture.K[chosen], boxes, size)
        rgb, mask = _crop_capture(capture, chosen, frame_index, boxes, size, config.background)
        camera_names = tuple(capture.camera_names[c] for c in chosen)
        frame_ids = tuple(capture.frame_ids[f] for f in frame_index)
    depth, normal, bone_mask = bone_maps(joints, K, R, t, size, spec=config.pose_spec)
    return RenderedSample(
        dataset=sample.dataset,
        subject=sample.subject,
        kind=sample.kind,
        rgb=rgb,
        mask=mask,
        depth=depth.astype(np.float16),
        normal=encode_normal(normal, bone_mask),
        K=K.astype(np.float32),
        R=np.asarray(R, np.float32),
        t=np.asarray(t, np.float32),
        crop_boxes=boxes.astype(np.float32),
        joints=joints.astype(np.float32),
        smplx=params.arrays(),
        smplx_settings=params.settings(),
        camera_names=camera_names,
        frame_ids=frame_ids,
        source_hashes=source_hashes(sample.source_files),
    )


ROTATION_TOLERANCE = 1e-3


def check_rotations(R: np.ndarray, names: tuple[str, ...] | list[str]) -> None:
    """Refuse camera matrices that are not rotations (orthonormal, determinant +1).

    Args:
        R: (V, 3, 3) world-to-camera matrices.
        names: (V,) camera ids for the message.

    Raises:
        InputError: ``field='R'``, naming the first bad camera and how far off it is.
    """
    R = np.asarray(R, np.float64)
    finite = np.isfinite(R).all(axis=(1, 2))
    off = np.abs(R @ np.swapaxes(R, 1, 2) - np.eye(3)).max(axis=(1, 2), initial=0.0)
    det = np.linalg.det(np.where(finite[:, None, None], R, 0.0))
    bad = ~finite | (off > ROTATION_TOLERANCE) | (np.abs(det - 1) > ROTATION_TOLERANCE)
    if bad.any():
        index = int(np.argmax(bad))
        raise InputError(
            f"camera {names[index]!r}: R is not a rotation (max |R Rᵀ - I| = {off[index]:.3g}, "
            f"det = {det[index]:.3g}); expected an orthonormal world-to-camera rotation",
            field="R",
        )


def source_hashes(files: tuple[Path, ...]) -> dict[str, str]:
    """SHA-256 of each source file, keyed by its last two path components."""
    return {f"{file.parent.name}/{file.name}": sha256_of(file) for file in files}


def _render_scan(
    sample: Sample,
    frames: int,
    K: np.ndarray,
    R: np.ndarray,
    t: np.ndarray,
    size: int,
    config: RenderConfig,
    renderer: Any,
) -> tuple[np.ndarray, np.ndarray]:
    if renderer is None:
        renderer = load_scan_renderer(config.scan_renderer, config.background)
    views = len(K)
    rgb = np.empty((views, frames, size, size, 3), np.uint8)
    mask = np.empty((views, frames, size, size), bool)
    static = len(sample.meshes) == 1
    result = None
    for frame in range(frames):
        if result is None or not static:
            result = renderer.render(sample.meshes[0 if static else frame], K, R, t, size, size)
        rgb[:, frame] = result.rgb
        mask[:, frame] = result.mask
    return rgb, mask


def _crop_capture(
    capture: Any,
    views: np.ndarray,
    frames: np.ndarray,
    boxes: np.ndarray,
    size: int,
    background: tuple[int, int, int],
) -> tuple[np.ndarray, np.ndarray]:
    from PIL import Image

    rgb = np.empty((len(views), len(frames), size, size, 3), np.uint8)
    mask = np.empty((len(views), len(frames), size, size), bool)
    fill = np.asarray(background, np.uint8)
    for i, view in enumerate(views):
        box = tuple(float(v) for v in boxes[i])
        for j, frame in enumerate(frames):
            image = Image.fromarray(capture.read_image(int(view), int(frame)))
            cropped = np.asarray(
                image.transform(
                    (size, size),
                    Image.Transform.EXTENT,
                    box,
                    resample=Image.Resampling.BILINEAR,
                    fillcolor=tuple(int(c) for c in fill),
                )
            )
            silhouette = Image.fromarray(
                capture.read_mask(int(view), int(frame)).astype(np.uint8) * 255
            )
            cropped_mask = (
                np.asarray(
                    silhouette.transform(
                        (size, size),
                        Image.Transform.EXTENT,
                        box,
                        resample=Image.Resampling.NEAREST,
                        fillcolor=0,
                    )
                )
                > 127
            )
            rgb[i, j] = np.where(cropped_mask[..., None], cropped, fill)
            mask[i, j] = cropped_mask
    return rgb, mask
