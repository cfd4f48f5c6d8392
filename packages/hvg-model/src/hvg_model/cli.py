"""``hvg-model`` command line."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from hvg_core.cli_utils import config_option, hvg_group, run_group

if TYPE_CHECKING:
    import torch

    from hvg_model.pipeline import HVGPipeline, HVGPipelineOutput


@hvg_group(package="hvg-model")
def cli() -> None:
    """HVG model: generate multi-view human videos, inspect the networks."""


def _sampler_names() -> list[str]:
    from hvg_core.registry import get_registry

    return get_registry().names("samplers")


@cli.command()
@config_option
@click.option(
    "--model",
    "model_dir",
    type=click.Path(file_okay=False),
    help="HVG checkpoint directory (HVGPipeline.save_pretrained layout).",
)
@click.option(
    "--svd",
    "svd_dir",
    type=click.Path(file_okay=False),
    help="Start an untrained HVG from a local SVD-xt directory instead.",
)
@click.option(
    "--tiny",
    is_flag=True,
    help="Use a tiny random model (CPU demo and tests; output is noise-like).",
)
@click.option(
    "--reference",
    "reference_path",
    type=click.Path(dir_okay=False),
    required=True,
    help="Reference image (PNG/JPEG; RGBA with the background cut out aligns best).",
)
@click.option(
    "--align/--no-align",
    "align",
    default=True,
    show_default=True,
    help="Temporal alignment (paper §3.3): move and scale the person in the reference onto the "
    "first pose frame of view 0. --no-align takes a centre square crop.",
)
@click.option(
    "--uncond",
    type=click.Choice(["reference_image", "all"]),
    default="reference_image",
    show_default=True,
    help="What the CFG unconditional branch drops (as training did; docs/deviations.md).",
)
@click.option(
    "--motion",
    default="walk",
    show_default=True,
    help="Built-in motion name (walk, turn, arm_raise) or SMPL-X .npz file.",
)
@click.option(
    "--pose-maps",
    "pose_maps_path",
    type=click.Path(dir_okay=False),
    help="Precomputed .npz with pose_maps (V, T, C, H, W) and optional R (V, 3, 3); overrides --motion.",
)
@click.option(
    "--smplx-model",
    type=click.Path(),
    help="Folder of the SMPL-X model files (SMPLX_NEUTRAL.npz): a body_normal network's maps are "
    "drawn from the SMPL-X mesh of --motion.",
)
@click.option(
    "--frames",
    "num_frames",
    default=16,
    show_default=True,
    type=click.IntRange(1),
    help="Frames T to generate.",
)
@click.option(
    "--views",
    "num_views",
    default=4,
    show_default=True,
    type=click.IntRange(1),
    help="Orbit views V.",
)
@click.option(
    "--size",
    default=576,
    show_default=True,
    type=click.IntRange(8),
    help="Square output size (multiple of 8).",
)
@click.option("--elevation", default=0.0, show_default=True, help="Orbit elevation in degrees.")
@click.option(
    "--distance", default=3.0, show_default=True, help="Orbit distance to the pelvis in metres."
)
@click.option("--fov", default=40.0, show_default=True, help="Vertical field of view in degrees.")
@click.option(
    "--sampler",
    default="hvg",
    show_default=True,
    help="Registered hvg-sampler sampler (see `hvg plugins`).",
)
@click.option(
    "--steps", default=25, show_default=True, type=click.IntRange(1), help="Denoising steps."
)
@click.option(
    "--frame-window",
    type=click.IntRange(1),
    help="Frames per temporal window (default min(T, 24), within the model's training budget).",
)
@click.option("--frame-overlap", type=click.IntRange(0), help="Overlap of temporal windows.")
@click.option(
    "--view-window", type=click.IntRange(1), help="Views per view window (default min(V, 6))."
)
@click.option(
    "--max-images-per-window",
    type=click.IntRange(0),
    help="Training budget: images per window (default: the model's record, else 72; 0 = none).",
)
@click.option(
    "--max-frames-per-window",
    type=click.IntRange(0),
    help="Training budget: frames per window (default: the model's record, else 24; 0 = none).",
)
@click.option("--view-overlap", type=click.IntRange(0), help="Overlap of view windows.")
@click.option(
    "--min-guidance", default=1.0, show_default=True, help="CFG scale at the first frame."
)
@click.option(
    "--max-guidance",
    default=3.0,
    show_default=True,
    help="CFG scale at the last frame (CFG runs when > 1).",
)
@click.option(
    "--fps",
    default=7,
    show_default=True,
    type=click.IntRange(1),
    help="SVD fps conditioning and MP4 frame rate.",
)
@click.option("--motion-bucket", default=127, show_default=True, help="SVD motion bucket id.")
@click.option(
    "--noise-aug", default=0.02, show_default=True, help="SVD conditioning noise augmentation."
)
@click.option(
    "--decode-chunk-size",
    default=8,
    show_default=True,
    type=click.IntRange(1),
    help="Frames per VAE decoder call.",
)
@click.option("--seed", default=0, show_default=True, help="Random seed.")
@click.option(
    "--device", default="cpu", show_default=True, help="torch device (cpu, cuda, cuda:1…)."
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False),
    default="hvg-output",
    show_default=True,
    help="Output directory.",
)
@click.option("--no-pngs", is_flag=True, help="Write only the MP4 and the contact sheet.")
def generate(
    model_dir: str | None,
    svd_dir: str | None,
    tiny: bool,
    reference_path: str,
    align: bool,
    uncond: str,
    motion: str,
    pose_maps_path: str | None,
    smplx_model: str | None,
    num_frames: int,
    num_views: int,
    size: int,
    elevation: float,
    distance: float,
    fov: float,
    sampler: str,
    steps: int,
    frame_window: int | None,
    frame_overlap: int | None,
    view_window: int | None,
    view_overlap: int | None,
    max_images_per_window: int | None,
    max_frames_per_window: int | None,
    min_guidance: float,
    max_guidance: float,
    fps: int,
    motion_bucket: int,
    noise_aug: float,
    decode_chunk_size: int,
    seed: int,
    device: str,
    out_dir: str,
    no_pngs: bool,
) -> None:
    """Generate a multi-view video of the reference person performing a motion.

    Writes one video per view, OUT/view_VV.mp4, and its frames OUT/frames/view_VV/TTT.png
    (hvg-eval reads OUT as V separate videos through OUT/hvg-views.json), plus previews:
    OUT/video_b0.mp4 (views tiled), OUT/video_b0_sheet.png (views × frames), OUT/pose_b0.mp4
    (the pose conditioning) and OUT/summary.json.
    """
    from hvg_core.errors import InputError

    if sum(x is not None and x is not False for x in (model_dir, svd_dir, tiny or None)) != 1:
        raise click.UsageError("give exactly one of --model DIR, --svd DIR or --tiny")
    if size % 8:
        raise click.BadParameter(f"must be a multiple of 8, got {size}", param_hint="--size")
    if sampler not in _sampler_names():
        raise click.BadParameter(
            f"unknown sampler {sampler!r}; registered: {', '.join(_sampler_names())}",
            param_hint="--sampler",
        )

    pipeline = _generate_pipeline(model_dir, svd_dir, tiny=tiny, seed=seed, device=device)
    pose_signal = pipeline.denoising_net.config.pose_signal

    pose_maps, rotations = _generate_pose_input(
        pipeline,
        pose_maps_path,
        motion=motion,
        num_frames=num_frames,
        num_views=num_views,
        size=size,
        elevation=elevation,
        distance=distance,
        fov=fov,
        smplx_model=smplx_model,
    )
    # A network without a pose modulator (pose_signal None) ignores the maps.
    pose_maps_for_net = None if pose_signal is None else pose_maps
    size = int(pose_maps.shape[-1])
    reference, alignment_box = _reference_input(reference_path, pose_maps, size, align=align)
    sampler_options = {
        key: value
        for key, value in {
            "frame_window": frame_window,
            "frame_overlap": frame_overlap,
            "view_window": view_window,
            "view_overlap": view_overlap,
        }.items()
        if value is not None
    }
    for key, value in (
        ("max_images_per_window", max_images_per_window),
        ("max_frames_per_window", max_frames_per_window),
    ):
        if value is not None:
            sampler_options[key] = value or None  # 0: no budget
    try:
        output = pipeline(
            reference,
            pose_maps_for_net,
            rotations,
            num_views=int(pose_maps.shape[1]),
            num_frames=int(pose_maps.shape[2]),
            sampler=sampler,
            sampler_options=sampler_options,
            num_steps=steps,
            min_guidance_scale=min_guidance,
            max_guidance_scale=max_guidance,
            noise_aug_strength=noise_aug,
            fps=fps,
            motion_bucket_id=motion_bucket,
            seed=seed,
            decode_chunk_size=decode_chunk_size,
            uncond=uncond,
        )
    except ValueError as error:
        raise InputError(str(error)) from error
    _write_generate_outputs(
        output,
        pose_maps,
        reference if alignment_box is not None else None,
        Path(out_dir),
        fps=fps,
        write_pngs=not no_pngs,
        summary={
            "sampler": sampler,
            "steps": steps,
            "seed": seed,
            "pose_signal": pose_signal,
            "uncond": uncond,
            "temporal_alignment_box": alignment_box,
        },
    )


def _generate_pipeline(
    model_dir: str | None, svd_dir: str | None, *, tiny: bool, seed: int, device: str
) -> HVGPipeline:
    """The pipeline ``generate`` samples with: an HVG checkpoint, a fresh one from SVD, or tiny.

    A missing model is reported before the heavy imports (diffusers, transformers).
    """
    import tempfile

    from hvg_model.loading import HVG_COMPONENTS, check_model_dir

    if model_dir is not None:
        check_model_dir(
            model_dir,
            tuple(c for c in HVG_COMPONENTS if c != "reference_net"),
            kind="HVG checkpoint",
            help_text="Write one with HVGPipeline.save_pretrained or the trainer's export.",
        )
    elif svd_dir is not None:
        check_model_dir(svd_dir)

    from hvg_model.pipeline import HVGPipeline

    if tiny:
        from hvg_model.testing import build_tiny_hvg_dir

        model_dir = str(build_tiny_hvg_dir(Path(tempfile.mkdtemp(prefix="hvg-tiny-")), seed=seed))
    pipeline = (
        HVGPipeline.from_pretrained(model_dir) if model_dir else HVGPipeline.from_svd(svd_dir)
    )
    pipeline.to(device)
    return pipeline


def _generate_pose_input(
    pipeline: HVGPipeline,
    pose_maps_path: str | None,
    *,
    motion: str,
    num_frames: int,
    num_views: int,
    size: int,
    elevation: float,
    distance: float,
    fov: float,
    smplx_model: str | None,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Pose maps ``(1, V, T, C, H, W)`` and rotations ``(1, V, 3, 3)`` (a file may have none).

    Maps from a file must have been made for the network's ``PoseSpec`` (exit 2 naming the
    field otherwise); rendered maps use that spec (signal, depth range, bones, crop).
    """
    from hvg_model.pose_rendering import load_pose_maps, motion_parameters, render_orbit_pose

    if pose_maps_path is not None:
        pose_maps, rotations = load_pose_maps(pose_maps_path)
        modulator = getattr(pipeline.denoising_net, "pose_modulator", None)
        if modulator is not None:  # maps made for another pose spec: exit 2 naming the field
            from hvg_model.pose_input import check_pose_maps
            from hvg_model.pose_rendering import load_pose_spec

            made_with = load_pose_spec(pose_maps_path)
            check_pose_maps(modulator.spec, pose_maps, made_with, path=pose_maps_path)
    else:
        params = motion_parameters(motion, num_frames)
        pose = render_orbit_pose(
            params,
            num_views=num_views,
            size=size,
            # The network's own PoseSpec (signal, depth range, bones, crop), as it was trained.
            pose_signal=getattr(
                getattr(pipeline.denoising_net, "pose_modulator", None), "spec", "bonemap"
            ),
            elevation_deg=elevation,
            distance=distance,
            fov_deg=fov,
            smplx_model=smplx_model,
        )
        pose_maps, rotations = pose.pose_maps, pose.rotations
    return pose_maps, rotations


def _write_generate_outputs(
    output: HVGPipelineOutput,
    pose_maps: torch.Tensor,
    aligned_reference: torch.Tensor | None,
    out_dir: Path,
    *,
    fps: int,
    write_pngs: bool,
    summary: dict[str, Any],
) -> None:
    """Per-view videos (+ PNG frames), previews, the pose video and ``summary.json``."""
    import json

    from hvg_model.video_io import write_video_outputs

    written = _write_view_videos(output.frames[0], out_dir, fps=fps, write_pngs=write_pngs)
    if aligned_reference is not None:
        from hvg_bonemap.media import write_png

        from hvg_model.video_io import to_uint8

        aligned_png = out_dir / "reference_aligned.png"
        written.append(write_png(aligned_png, to_uint8(aligned_reference[0]).numpy()))
    written += write_video_outputs(output.frames, out_dir, fps=fps, write_pngs=False)
    pose_rgb = (
        pose_maps[:, :, :, -3:]
        if pose_maps.shape[3] >= 3
        else pose_maps.expand(-1, -1, -1, 3, -1, -1)
    )
    written += write_video_outputs(pose_rgb, out_dir, fps=fps, prefix="pose", write_pngs=False)
    summary = {
        "frames_shape": list(output.frames.shape),
        "denoiser_calls": output.num_denoiser_calls,
        **summary,
        "view_videos": VIEWS_MANIFEST,
        "files": [str(path) for path in written if path.suffix == ".mp4"],
    }
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=1))
    views = int(output.frames.shape[1])
    click.echo(f"wrote {len(written)} files to {out_dir} ({views} view videos, {VIEWS_MANIFEST})")


#: Manifest of a ``generate`` output: which files are the per-view videos (read by hvg-eval).
VIEWS_MANIFEST = "hvg-views.json"


def _write_view_videos(
    frames: torch.Tensor, out: Path, *, fps: float, write_pngs: bool
) -> list[Path]:
    """One video per view, ``out/view_VV.mp4`` and ``out/frames/view_VV/TTT.png``, + manifest.

    Args:
        frames: ``(V, T, 3, H, W)`` in [0, 1].
        out: Output directory.
        fps: Frame rate.
        write_pngs: Also write the frames (lossless; hvg-eval prefers them to the MP4).

    Returns:
        The written paths.
    """
    import json
    import os

    from hvg_bonemap.media import write_mp4, write_png

    from hvg_model.video_io import to_uint8

    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    entries = []
    for view, clip in enumerate(to_uint8(frames.detach().cpu())):  # (T, H, W, 3)
        name = f"view_{view:02d}"
        written.append(write_mp4(out / f"{name}.mp4", (f.numpy() for f in clip), fps=fps))
        entry = {"name": name, "view": view, "video": f"{name}.mp4"}
        if write_pngs:
            for index, image in enumerate(clip):
                written.append(write_png(out / "frames" / name / f"{index:03d}.png", image.numpy()))
            entry["frames"] = f"frames/{name}"
        entries.append(entry)
    manifest = {
        "format": "hvg-generate-views",
        "version": 1,
        "views": int(frames.shape[0]),
        "frames": int(frames.shape[1]),
        "fps": fps,
        "videos": entries,
    }
    staging = out / f".{VIEWS_MANIFEST}.tmp"
    staging.write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    os.replace(staging, out / VIEWS_MANIFEST)
    written.append(out / VIEWS_MANIFEST)
    return written


def _reference_input(
    path: str, pose_maps: torch.Tensor, size: int, *, align: bool
) -> tuple[torch.Tensor, list[float] | None]:
    """The reference as ``(1, 3, size, size)`` in [0, 1], aligned to the first pose frame.

    With ``align``, the person is found from the alpha channel (RGBA) or, without one, as the
    pixels that differ from the border colour, and its box is moved and scaled onto the box of
    view 0's first pose map (paper §3.3). Without ``align``: a centre square crop.

    Returns:
        The image and the alignment box ``[x0, y0, x1, y1]`` in photo pixels (None unaligned).

    Raises:
        InputError: Unreadable image, or no person found (naming the file).
    """
    import numpy as np
    import torch
    from hvg_core.errors import InputError
    from PIL import Image, UnidentifiedImageError

    from hvg_model.conditioning import align_reference, pose_silhouette, reference_foreground_mask

    if not align:
        return _read_image(path, size), None
    try:
        with Image.open(path) as image:
            has_alpha = "A" in image.getbands() or "transparency" in image.info
            rgba = image.convert("RGBA")
    except (OSError, UnidentifiedImageError) as error:
        raise InputError(f"cannot read the reference image: {error}", path=path) from error
    longest = 4 * size  # resample very large photos first (antialiased), then align
    if max(rgba.size) > longest:
        scale = longest / max(rgba.size)
        new_size = (max(1, round(rgba.width * scale)), max(1, round(rgba.height * scale)))
        rgba = rgba.resize(new_size, Image.Resampling.LANCZOS)
    array = torch.from_numpy(np.asarray(rgba, dtype=np.float32) / 255.0)
    rgb = array[..., :3].permute(2, 0, 1)[None].contiguous()
    alpha = array[..., 3][None] if has_alpha else None
    if alpha is not None:
        rgb = rgb * alpha + (1 - alpha)  # cut-out photos composite on white
    try:
        mask = reference_foreground_mask(rgb, alpha=alpha)
        target = pose_silhouette(pose_maps[:1, 0, 0])
        aligned, boxes = align_reference(rgb, target, mask)
    except ValueError as error:
        raise InputError(f"temporal alignment: {error}", path=path, field="--reference") from error
    return aligned, [round(float(x), 3) for x in boxes[0]]


def _read_image(path: str, size: int) -> torch.Tensor:
    """Read an image as ``(1, 3, size, size)`` in [0, 1]: centre square crop, then resize."""
    import numpy as np
    import torch
    from hvg_core.errors import InputError
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            rgb = image.convert("RGB")
    except (OSError, UnidentifiedImageError) as error:
        raise InputError(f"cannot read the reference image: {error}", path=path) from error
    side = min(rgb.size)
    left, top = (rgb.width - side) // 2, (rgb.height - side) // 2
    rgb = rgb.crop((left, top, left + side, top + side)).resize(
        (size, size), Image.Resampling.BICUBIC
    )
    array = np.asarray(rgb, dtype=np.float32) / 255.0
    return torch.from_numpy(array).permute(2, 0, 1)[None].contiguous()


@cli.command()
def params() -> None:
    """Print the full-size (SVD-xt) parameter counts, computed on the meta device."""
    from hvg_model.parameter_counts import count_parameters, format_counts

    click.echo(format_counts(count_parameters()))


@cli.command()
@click.option(
    "--run",
    "run_dir",
    type=click.Path(file_okay=False),
    required=True,
    help="Training run directory (its latest checkpoint) or one checkpoint directory.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    required=True,
    help="Output directory for the pipeline (HVGPipeline.save_pretrained layout).",
)
@click.option("--no-ema", is_flag=True, help="Export the raw weights instead of the EMA.")
def export(run_dir: str, out: str, no_ema: bool) -> None:
    """Export a training checkpoint as a pipeline that `generate --model` loads."""
    from hvg_model.training.export import export_pipeline

    path = export_pipeline(run_dir, out, use_ema=not no_ema)
    click.echo(f"wrote {path}")


from hvg_model.training.command import train  # noqa: E402

cli.add_command(train)


def main() -> None:
    """Console-script entry point of ``hvg-model``."""
    run_group(cli, plugin_group="hvg-model")


if __name__ == "__main__":
    main()
