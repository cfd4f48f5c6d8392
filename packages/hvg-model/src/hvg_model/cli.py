"""``hvg-model`` command line."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click
from hvg_core.cli_utils import config_option, hvg_group, run_group

if TYPE_CHECKING:
    import torch


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
    help="Reference image (PNG/JPEG), the person centred on the pelvis.",
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
    help="Frames per temporal window (default min(T, 24)).",
)
@click.option("--frame-overlap", type=click.IntRange(0), help="Overlap of temporal windows.")
@click.option(
    "--view-window", type=click.IntRange(1), help="Views per view window (default min(V, 6))."
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
    motion: str,
    pose_maps_path: str | None,
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

    Writes OUT/video_b0.mp4 (views tiled), OUT/video_b0_sheet.png (views × frames), PNG frames
    and OUT/pose_b0.mp4 (the pose conditioning).
    """
    import json
    import tempfile

    from hvg_core.errors import InputError

    from hvg_model.loading import HVG_COMPONENTS, check_model_dir

    if sum(x is not None and x is not False for x in (model_dir, svd_dir, tiny or None)) != 1:
        raise click.UsageError("give exactly one of --model DIR, --svd DIR or --tiny")
    if size % 8:
        raise click.BadParameter(f"must be a multiple of 8, got {size}", param_hint="--size")
    if sampler not in _sampler_names():
        raise click.BadParameter(
            f"unknown sampler {sampler!r}; registered: {', '.join(_sampler_names())}",
            param_hint="--sampler",
        )

    # Fail on a missing model before the heavy imports (diffusers, transformers).
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
    from hvg_model.pose_rendering import load_pose_maps, motion_parameters, render_orbit_pose
    from hvg_model.video_io import write_video_outputs

    if tiny:
        from hvg_model.testing import build_tiny_hvg_dir

        model_dir = str(build_tiny_hvg_dir(Path(tempfile.mkdtemp(prefix="hvg-tiny-")), seed=seed))
    pipeline = (
        HVGPipeline.from_pretrained(model_dir) if model_dir else HVGPipeline.from_svd(svd_dir)
    )
    pipeline.to(device)
    pose_signal = pipeline.denoising_net.config.pose_signal

    if pose_maps_path is not None:
        pose_maps, rotations = load_pose_maps(pose_maps_path)
        size = int(pose_maps.shape[-1])
    else:
        params = motion_parameters(motion, num_frames)
        pose = render_orbit_pose(
            params,
            num_views=num_views,
            size=size,
            pose_signal=pose_signal or "bonemap",
            elevation_deg=elevation,
            distance=distance,
            fov_deg=fov,
        )
        pose_maps, rotations = pose.pose_maps, pose.rotations
    # A network without a pose modulator (pose_signal None) ignores the maps.
    pose_maps_for_net = None if pose_signal is None else pose_maps
    reference = _read_image(reference_path, size)
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
        )
    except ValueError as error:
        raise InputError(str(error)) from error
    written = write_video_outputs(output.frames, out_dir, fps=fps, write_pngs=not no_pngs)
    pose_rgb = (
        pose_maps[:, :, :, -3:]
        if pose_maps.shape[3] >= 3
        else pose_maps.expand(-1, -1, -1, 3, -1, -1)
    )
    written += write_video_outputs(pose_rgb, out_dir, fps=fps, prefix="pose", write_pngs=False)
    summary = {
        "frames_shape": list(output.frames.shape),
        "denoiser_calls": output.num_denoiser_calls,
        "sampler": sampler,
        "steps": steps,
        "seed": seed,
        "pose_signal": pose_signal,
        "files": [str(path) for path in written if path.suffix == ".mp4"],
    }
    (Path(out_dir) / "summary.json").write_text(json.dumps(summary, indent=1))
    click.echo(f"wrote {len(written)} files to {out_dir} (video: {written[0]})")


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
