"""The demo's generation and measurement: samplers, ablations, baselines and silhouette IoU.

Five videos of the held-out walking subject are compared with its ground truth:

- ``hvg``: the trained pipeline with the paper's progressive spatio-temporal sampler;
- the baseline sampler (``human4dit`` by default), same network;
- ``pose_ablation``: the ``hvg`` sampler with every bone map zeroed (the network's
  "no pose" input, seen in training through pose dropout);
- ``reference_copy``: the reference image copied to every frame and view (pose-blind; no
  network at all).

Each is written as a frame tree ``eval/<name>/subject/view_VV/TTTT.png`` beside
``eval/ground_truth/...`` so that anyone can recompute the figures with ``hvg-eval``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor

if TYPE_CHECKING:
    from hvg_model.demo_settings import DemoSettings

WEIGHT_FREE_METRICS = ("ssim", "psnr", "l1")
WEIGHTED_METRICS = ("lpips", "fid", "fvd", "fid-vid")
POSE_ABLATION = "pose_ablation"
REFERENCE_COPY = "reference_copy"
#: A pixel is foreground when one of its channels differs from the background by more than this.
FOREGROUND_THRESHOLD = 0.12


def held_out_subject(test_dir: Path) -> dict[str, Any]:
    """The held-out subject's arrays: ``rgb (V, T, H, W, 3)``, bone maps, cameras, joints."""
    import h5py
    from hvg_data.shards import iter_manifest_samples, read_sample_arrays

    path, name = next(iter(iter_manifest_samples(test_dir)))
    with h5py.File(path, "r") as handle:
        return read_sample_arrays(handle["samples"][name])


def conditioning_of(sample: dict[str, Any], pose_signal: Any) -> dict[str, Tensor]:
    """Reference image, encoded pose maps and rotations of one subject, batched (B = 1).

    Returns:
        ``reference (1, 3, H, W)``, ``pose_maps (1, V, T, C, H, W)``, ``rotations (1, V, 3, 3)``
        and ``frames (1, V, T, 3, H, W)`` (the ground truth), all float32.
    """
    from hvg_bonemap import Cameras
    from hvg_bonemap.pose_codec import pose_input_from_stored

    from hvg_model.pose_input import pose_spec_for, signal_class

    rgb = torch.from_numpy(sample["rgb"]).float().div(255).permute(0, 1, 4, 2, 3)  # V T 3 H W
    depth = torch.from_numpy(sample["depth"].astype("float32"))  # V T H W
    normal = torch.from_numpy(sample["normal"]).permute(0, 1, 4, 2, 3)  # V T 3 H W uint8
    rotations = torch.from_numpy(sample["R"]).float()
    translations = torch.from_numpy(sample["t"]).float()
    height, width = depth.shape[-2:]
    cameras = Cameras(
        torch.from_numpy(sample["K"]).float(), rotations, translations, int(width), int(height)
    )
    spec = pose_spec_for(pose_signal)  # the network's PoseSpec (or a signal name)
    drawn_by = None if spec.from_bone_maps else signal_class(spec.signal)
    joints = torch.from_numpy(sample["joints"]).float()  # T 55 3
    pose_maps = pose_input_from_stored(spec, depth, normal, joints, cameras, drawn_by)
    return {
        "reference": rgb[0, 0][None],
        "pose_maps": pose_maps[None],
        "rotations": rotations[None],
        "frames": rgb[None],
    }


def write_frame_tree(frames: Tensor, root: Path) -> None:
    """``(V, T, 3, H, W)`` in [0, 1] → ``root/view_VV/TTTT.png`` (hvg-eval's generator layout)."""
    from hvg_bonemap.media import write_png

    from hvg_model.video_io import to_uint8

    images = to_uint8(frames).numpy()
    for view, video in enumerate(images):
        folder = root / f"view_{view:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        for frame, image in enumerate(video):
            write_png(folder / f"{frame:04d}.png", image)


def pose_preview(pose_maps: Tensor) -> Tensor:
    """RGB pictures of encoded bone maps ``(B, V, T, C, H, W)``: normal code, or depth as grey."""
    channels = pose_maps.shape[3]
    if channels >= 4:  # depth code then normal code
        return pose_maps[:, :, :, 1:4]
    if channels == 3:
        return pose_maps
    return pose_maps[:, :, :, :1].expand(-1, -1, -1, 3, -1, -1)


def _write_mp4(frames: Tensor, out: Path, role: str) -> Path:
    from hvg_model.video_io import write_video_outputs

    written = write_video_outputs(frames, out / "videos" / role, prefix=role, write_pngs=False)
    return next(p for p in written if p.suffix == ".mp4")


def generate_videos(
    out: Path, pipeline: Any, inputs: dict[str, Tensor], settings: DemoSettings
) -> dict[str, Path]:
    """Generate with ``hvg``, the baseline sampler and the pose ablation; write every video.

    Returns:
        MP4 path by role (``ground_truth``, ``bone_maps``, ``hvg``, baseline,
        ``pose_ablation``, ``reference_copy``).
    """
    options = {
        "frame_window": settings.frame_window,
        "frame_overlap": settings.frame_overlap,
        "view_window": settings.view_window,
        "view_overlap": settings.view_overlap,
    }
    runs = {
        "hvg": ("hvg", inputs["pose_maps"]),
        settings.baseline: (settings.baseline, inputs["pose_maps"]),
        POSE_ABLATION: ("hvg", torch.zeros_like(inputs["pose_maps"])),
    }
    videos: dict[str, Path] = {}
    for role, (sampler, pose_maps) in runs.items():
        result = pipeline(
            inputs["reference"],
            pose_maps,
            inputs["rotations"],
            sampler=sampler,
            sampler_options=options,
            num_steps=settings.steps,
            max_guidance_scale=settings.guidance,
            seed=settings.seed,
            show_progress=True,
        )
        videos[role] = _write_mp4(result.frames, out, role)
        write_frame_tree(result.frames[0], out / "eval" / role / "subject")
    truth = inputs["frames"]
    copy = inputs["reference"][:, None, None].expand_as(truth).contiguous()
    for role, frames in (("ground_truth", truth), (REFERENCE_COPY, copy)):
        videos[role] = _write_mp4(frames, out, role)
        write_frame_tree(frames[0], out / "eval" / role / "subject")
    videos["bone_maps"] = _write_mp4(pose_preview(inputs["pose_maps"]), out, "bone_maps")
    return videos


def foreground(images: Tensor, background: Tensor) -> Tensor:
    """Foreground mask of ``(..., 3, H, W)`` images in [0, 1]: far from the background colour.

    Args:
        images: ``(..., 3, H, W)`` in [0, 1].
        background: ``(3,)`` in [0, 1].

    Returns:
        ``(..., H, W)`` bool.
    """
    difference = (images - background.reshape(3, 1, 1)).abs().amax(dim=-3)
    return difference > FOREGROUND_THRESHOLD


def silhouette_iou(real: Tensor, fake: Tensor, background: Tensor) -> float:
    """Mean over images of the foreground IoU of ``(N, 3, H, W)`` frames in [0, 1].

    Images where neither has foreground count as 1 (both empty agree).
    """
    return mask_iou(foreground(real, background), foreground(fake, background))


def mask_iou(real: Tensor, fake: Tensor) -> float:
    """Mean over images of the IoU of ``(N, H, W)`` bool masks (both empty count as 1)."""
    intersection = (real & fake).flatten(1).sum(1).double()
    union = (real | fake).flatten(1).sum(1).double()
    ious = torch.where(union > 0, intersection / union.clamp_min(1), torch.ones_like(union))
    return float(ious.mean())


def bone_map_silhouette_iou(sample: dict[str, Any], background: Tensor) -> float:
    """IoU of the bone maps' silhouette (pixels an ellipsoid covers) with the true frames'.

    A reference level, not a model: a generator that drew exactly the ellipsoids' outline, in
    the right place, every frame, would score this. The body is not its ellipsoids (clothes,
    hair, hands), so a model must learn the body's shape around its bones to beat it.

    Args:
        sample: The held-out subject's arrays (:func:`held_out_subject`).
        background: ``(3,)`` background colour in [0, 1].
    """
    rgb = torch.from_numpy(sample["rgb"]).float().div(255).permute(0, 1, 4, 2, 3)
    bones = torch.from_numpy(sample["depth"].astype("float32")) > 0  # (V, T, H, W)
    return mask_iou(foreground(rgb.flatten(0, 1), background), bones.flatten(0, 1))


def read_frame_tree(root: Path) -> Tensor:
    """``root/view_VV/TTTT.png`` → ``(V·T, 3, H, W)`` float in [0, 1] (sorted order)."""
    import numpy as np
    from PIL import Image

    files = sorted(root.glob("view_*/*.png"))
    images = np.stack([np.asarray(Image.open(f).convert("RGB")) for f in files])
    return torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255


def evaluate_videos(
    out: Path, roles: list[str], background: tuple[int, int, int]
) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """Silhouette IoU and the weight-free metrics always; weighted ones when files are present.

    Returns:
        ``(values by role then metric, reasons by metric not computed)``.
    """
    from hvg_core.errors import HVGError
    from hvg_eval.evaluate import evaluate

    real = out / "eval" / "ground_truth"
    colour = torch.tensor(background, dtype=torch.float32) / 255
    real_frames = read_frame_tree(real / "subject")
    values: dict[str, dict[str, Any]] = {}
    notes: dict[str, str] = {}
    for role in roles:
        fake = out / "eval" / role
        document = evaluate(list(WEIGHT_FREE_METRICS), real, fake)
        values[role] = {
            "iou": silhouette_iou(real_frames, read_frame_tree(fake / "subject"), colour),
            **{name: document["metrics"][name]["value"] for name in WEIGHT_FREE_METRICS},
        }
        for name in WEIGHTED_METRICS:
            try:
                result = evaluate([name], real, fake, skip_missing=True)["metrics"][name]
            except HVGError as error:
                # Too few frames or views for this metric at demo sizes: say so in the report.
                values[role][name] = None
                notes[name] = f"not computed at demo size: {error}"
                continue
            values[role][name] = result["value"]
            if result.get("skipped"):
                notes[name] = result["skipped"]
    return values, notes


__all__ = [
    "FOREGROUND_THRESHOLD",
    "POSE_ABLATION",
    "REFERENCE_COPY",
    "WEIGHTED_METRICS",
    "WEIGHT_FREE_METRICS",
    "bone_map_silhouette_iou",
    "conditioning_of",
    "evaluate_videos",
    "foreground",
    "generate_videos",
    "held_out_subject",
    "mask_iou",
    "pose_preview",
    "read_frame_tree",
    "silhouette_iou",
    "write_frame_tree",
]
