"""View alignment (pelvis-centred crops, §3.2) and temporal alignment (reference to first frame, §3.3).

:func:`view_alignment_boxes` is the view-alignment rule of the network's pose input (training
data and inference); :func:`pelvis_crop_boxes` is a plain pixel shift used by ``hvg-bonemap
render``'s previews.

A crop box is ``(..., 4)`` = ``(x0, y0, x1, y1)`` in continuous source-pixel coordinates (pixel
``(col, row)`` covers ``[col, col + 1) x [row, row + 1)``); applying it resamples that window to
an output size. The same box applies consistently to images (bilinear), masks, depth and normal
maps (nearest, so values never blend across silhouettes), and to cameras
(:func:`crop_cameras`): rendering a bone map with cropped cameras equals cropping the render,
exactly and without resampling.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from hvg_bonemap._validation import (
    BoneMapInputError,
    as_float_tensor,
    broadcast_batch,
    check_trailing_shape,
)
from hvg_bonemap.cameras import Cameras
from hvg_bonemap.skeleton import JOINT_INDEX


def pelvis_crop_boxes(
    pelvis: torch.Tensor,
    cameras: Cameras,
    *,
    crop_size: tuple[int, int] | None = None,
    anchor: tuple[float, float] = (0.5, 0.5),
) -> torch.Tensor:
    """Crop boxes that put the projected pelvis at the same place in every view (view alignment).

    Args:
        pelvis: ``(..., 3)`` pelvis positions in world coordinates, or joints ``(..., 55, 3)``
            (the pelvis, joint 0, is taken). To keep a view's crop fixed over a video, pass the
            first frame's pelvis. ``...`` broadcasts with the camera batch.
        cameras: Cameras with batch shape broadcasting with ``...``.
        crop_size: ``(height, width)`` of the box in source pixels (default: the image size,
            i.e. a pure shift).
        anchor: Where the pelvis lands in the box, as fractions ``(x, y)`` of its width/height.

    Returns:
        ``(..., 4)`` boxes ``(x0, y0, x1, y1)``.
    """
    pelvis = as_float_tensor(pelvis, "pelvis", dtype=cameras.K.dtype, device=cameras.K.device)
    if pelvis.ndim >= 2 and tuple(pelvis.shape[-2:]) == (55, 3):
        pelvis = pelvis[..., JOINT_INDEX["pelvis"], :]
    check_trailing_shape(pelvis, "pelvis", (3,), "(..., 3) or joints (..., 55, 3)")
    uv, z = cameras.project(pelvis[..., None, :])
    if bool((z <= 0).any()):
        raise BoneMapInputError("pelvis: behind a camera (z <= 0); cannot centre a crop on it")
    uv = uv[..., 0, :]
    height, width = crop_size if crop_size is not None else (cameras.height, cameras.width)
    if height <= 0 or width <= 0:
        raise BoneMapInputError(f"crop_size: expected positive (height, width), got {crop_size}")
    x0 = uv[..., 0] - anchor[0] * width
    y0 = uv[..., 1] - anchor[1] * height
    return torch.stack([x0, y0, x0 + width, y0 + height], dim=-1)


def view_alignment_boxes(pelvis: torch.Tensor, cameras: Cameras, extent: float) -> torch.Tensor:
    """The view-alignment window of every camera: the one rule of training data and inference.

    A square window centred on the pelvis projected into the camera and averaged over the
    frames, ``extent`` metres wide at the mean pelvis depth (a fixed window per view over a
    video, as a static camera sees it). ``hvg-data`` crops its training renders with it and
    inference crops its cameras with it (through :func:`align_cameras`), so the network sees
    the body at the same place and scale in both (paper §3.2, ``PoseSpec.alignment`` =
    ``"pelvis_window"``).

    Args:
        pelvis: ``(T, 3)`` world pelvis positions of the frames (or joints ``(T, 55, 3)``).
        cameras: Cameras with batch ``(V,)`` (or any batch ``...``).
        extent: Metric side of the window at the mean pelvis depth.

    Returns:
        ``(..., 4)`` boxes ``(x0, y0, x1, y1)`` in the cameras' pixels.

    Raises:
        BoneMapInputError: A pelvis behind a camera, or ``extent <= 0``.
    """
    if not extent > 0:
        raise BoneMapInputError(f"extent: expected > 0 metres, got {extent}")
    pelvis = as_float_tensor(pelvis, "pelvis", dtype=cameras.K.dtype, device=cameras.K.device)
    if pelvis.ndim == 3 and tuple(pelvis.shape[-2:]) == (55, 3):
        pelvis = pelvis[:, JOINT_INDEX["pelvis"]]
    check_trailing_shape(pelvis, "pelvis", (3,), "(T, 3) or joints (T, 55, 3)")
    pelvis = pelvis.reshape(-1, 3)
    uv, z = cameras.project(pelvis.expand(*cameras.batch_shape, *pelvis.shape))
    if bool((z <= 0).any()):
        raise BoneMapInputError("pelvis: behind a camera (z <= 0); cannot centre a window on it")
    centre = uv.mean(dim=-2)
    focal = 0.5 * (cameras.K[..., 0, 0] + cameras.K[..., 1, 1])
    half = 0.5 * focal * extent / z.mean(dim=-1).clamp_min(1e-6)
    return torch.stack(
        [
            centre[..., 0] - half,
            centre[..., 1] - half,
            centre[..., 0] + half,
            centre[..., 1] + half,
        ],
        dim=-1,
    )


def align_cameras(cameras: Cameras, pelvis: torch.Tensor, extent: float, size: int) -> Cameras:
    """Cameras of the view-alignment windows (:func:`view_alignment_boxes`) at ``size`` pixels.

    Args:
        cameras: Uncropped cameras, batch ``(V,)``.
        pelvis: ``(T, 3)`` world pelvis positions (or joints ``(T, 55, 3)``).
        extent: Metric side of the window.
        size: Square output side.

    Returns:
        Cameras with batch ``(V,)`` and image size ``size`` x ``size``.
    """
    boxes = view_alignment_boxes(pelvis, cameras, extent)
    return crop_cameras(cameras, boxes, (size, size))


def crop_cameras(cameras: Cameras, boxes: torch.Tensor, out_size: tuple[int, int]) -> Cameras:
    """Cameras whose images are the boxes of ``cameras``' images resized to ``out_size``.

    Args:
        cameras: Source cameras, batch ``...c``.
        boxes: ``(..., 4)`` crop boxes broadcasting with ``...c``.
        out_size: ``(height, width)`` of the output images.

    Returns:
        Cameras with the broadcast batch shape and image size ``out_size``.
    """
    boxes = _check_boxes(boxes, cameras.K.dtype, cameras.K.device)
    out_h, out_w = out_size
    sx = out_w / (boxes[..., 2] - boxes[..., 0])
    sy = out_h / (boxes[..., 3] - boxes[..., 1])
    batch = broadcast_batch([cameras.batch_shape, boxes.shape[:-1]], ["cameras", "boxes"])
    K = cameras.K.expand(*batch, 3, 3).clone()
    sx, sy = sx.expand(batch), sy.expand(batch)
    x0, y0 = boxes[..., 0].expand(batch), boxes[..., 1].expand(batch)
    K[..., 0, :] = (K[..., 0, :] - x0[..., None] * K[..., 2, :]) * sx[..., None]
    K[..., 1, :] = (K[..., 1, :] - y0[..., None] * K[..., 2, :]) * sy[..., None]
    return Cameras(
        K, cameras.R.expand(*batch, 3, 3), cameras.t.expand(*batch, 3), int(out_w), int(out_h)
    )


def crop_images(
    images: torch.Tensor,
    boxes: torch.Tensor,
    out_size: tuple[int, int],
    *,
    mode: str = "bilinear",
    fill: float = 0.0,
) -> torch.Tensor:
    """Resamples box windows of images to ``out_size`` (areas outside the image get ``fill``).

    Args:
        images: ``(..., C, H, W)`` images, masks (bool or float, use ``mode="nearest"``), depth
            or normal maps.
        boxes: ``(..., 4)`` boxes broadcasting with the image batch ``...``.
        out_size: ``(height, width)``.
        mode: ``"bilinear"`` for images, ``"nearest"`` for masks and bone maps.
        fill: Value outside the source image.

    Returns:
        ``(..., C, out_h, out_w)`` with the input dtype (bool masks stay bool).
    """
    if mode not in ("bilinear", "nearest"):
        raise BoneMapInputError(f"mode: expected 'bilinear' or 'nearest', got {mode!r}")
    if not isinstance(images, torch.Tensor) or images.ndim < 3:
        raise BoneMapInputError("images: expected a tensor of shape (..., C, H, W)")
    dtype = images.dtype
    work = images.to(torch.float32) if not images.is_floating_point() else images
    boxes = _check_boxes(boxes, work.dtype, work.device)
    c, h, w = work.shape[-3:]
    batch = broadcast_batch([work.shape[:-3], boxes.shape[:-1]], ["images", "boxes"])
    flat = work.expand(*batch, c, h, w).reshape(-1, c, h, w)
    flat_boxes = boxes.expand(*batch, 4).reshape(-1, 4)
    out_h, out_w = out_size
    ys = (torch.arange(out_h, dtype=work.dtype, device=work.device) + 0.5) / out_h
    xs = (torch.arange(out_w, dtype=work.dtype, device=work.device) + 0.5) / out_w
    src_x = flat_boxes[:, None, 0] + xs[None] * (flat_boxes[:, None, 2] - flat_boxes[:, None, 0])
    src_y = flat_boxes[:, None, 1] + ys[None] * (flat_boxes[:, None, 3] - flat_boxes[:, None, 1])
    grid = torch.stack(
        [
            (2.0 * src_x / w - 1.0)[:, None, :].expand(-1, out_h, out_w),
            (2.0 * src_y / h - 1.0)[:, :, None].expand(-1, out_h, out_w),
        ],
        dim=-1,
    )
    out = (
        F.grid_sample(flat - fill, grid, mode=mode, padding_mode="zeros", align_corners=False)
        + fill
    )
    out = out.reshape(*batch, c, out_h, out_w)
    if dtype == torch.bool:
        return out > 0.5
    if not dtype.is_floating_point:
        return out.round().to(dtype)
    return out


def mask_boxes(mask: torch.Tensor) -> torch.Tensor:
    """Tight bounding boxes ``(..., 4)`` = ``(x0, y0, x1, y1)`` of non-empty masks ``(..., H, W)``."""
    if not isinstance(mask, torch.Tensor) or mask.ndim < 2:
        raise BoneMapInputError("mask: expected a tensor of shape (..., H, W)")
    mask = mask > 0.5 if mask.is_floating_point() else mask.bool()
    h, w = mask.shape[-2:]
    rows, cols = mask.any(dim=-1), mask.any(dim=-2)
    if not bool(rows.any(dim=-1).all()):
        raise BoneMapInputError("mask: an empty mask has no bounding box (no person found)")
    ar_h = torch.arange(h, device=mask.device)
    ar_w = torch.arange(w, device=mask.device)
    y0 = torch.where(rows, ar_h, h).amin(-1)
    y1 = torch.where(rows, ar_h, -1).amax(-1) + 1
    x0 = torch.where(cols, ar_w, w).amin(-1)
    x1 = torch.where(cols, ar_w, -1).amax(-1) + 1
    return torch.stack([x0, y0, x1, y1], dim=-1).to(torch.float32)


def temporal_alignment_boxes(
    reference_mask: torch.Tensor,
    first_frame_mask: torch.Tensor,
    *,
    match_scale: bool = True,
) -> torch.Tensor:
    """Boxes on the reference image that align its person with the first pose frame (§3.3).

    Cropping the reference image with the returned box to the pose-map size moves the centre of
    the person's bounding box onto the centre of the first frame's bone-map silhouette, and (with
    ``match_scale``) scales it so that both bounding boxes have the same height.

    Args:
        reference_mask: ``(..., H_r, W_r)`` person mask of the reference image.
        first_frame_mask: ``(..., H, W)`` bone-map mask of the first frame (same view).
        match_scale: Also equalise person heights.

    Returns:
        ``(..., 4)`` boxes in reference-image pixels; apply with
        ``crop_images(reference, box, first_frame_mask.shape[-2:])``.
    """
    ref = mask_boxes(reference_mask)
    tgt = mask_boxes(first_frame_mask).to(ref.device)
    out_h, out_w = first_frame_mask.shape[-2:]
    ref_c = 0.5 * (ref[..., :2] + ref[..., 2:])
    tgt_c = 0.5 * (tgt[..., :2] + tgt[..., 2:])
    if match_scale:
        scale = (tgt[..., 3] - tgt[..., 1]) / (
            ref[..., 3] - ref[..., 1]
        )  # output px per reference px
    else:
        scale = torch.ones_like(ref[..., 0])
    x0 = ref_c[..., 0] - tgt_c[..., 0] / scale
    y0 = ref_c[..., 1] - tgt_c[..., 1] / scale
    return torch.stack([x0, y0, x0 + out_w / scale, y0 + out_h / scale], dim=-1)


def _check_boxes(boxes: torch.Tensor, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    boxes = as_float_tensor(boxes, "boxes", dtype=dtype, device=device)
    check_trailing_shape(boxes, "boxes", (4,), "(..., 4) = (x0, y0, x1, y1)")
    if bool(((boxes[..., 2] <= boxes[..., 0]) | (boxes[..., 3] <= boxes[..., 1])).any()):
        raise BoneMapInputError("boxes: expected x1 > x0 and y1 > y0")
    return boxes
