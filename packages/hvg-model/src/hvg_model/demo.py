"""``hvg demo``: the whole method on a CPU, from nothing: data, VAE, two training stages, sampling.

No weights can be downloaded, so the demo trains everything it needs from synthetic people:

1. **data**: walking ``synthetic`` people rendered into shards with ``hvg-data`` (green
   background, every view and frame) and one held-out walking subject.
2. **vae**: the tiny ``AutoencoderKLTemporalDecoder`` learns to reconstruct the training clips
   and is saved as ``OUT/vae`` and inside the tiny SVD directory ``OUT/svd`` (reusable:
   ``hvg-model train --svd-dir OUT/svd``).
3. **stage 1**: the tiny HVG DenoisingNet and ReferenceNet on multi-view images.
4. **stage 2**: the same network on multi-view multi-frame windows, initialised from stage 1.
5. **generate**: the held-out subject from its reference image, bone maps and cameras with the
   paper's ``hvg`` sampler, a baseline sampler, and the pose ablation (bone maps zeroed).
6. **evaluate**: silhouette IoU, SSIM, PSNR and L1 of each against the ground truth, and of the
   reference image copied everywhere; LPIPS/FID/FVD/FID-VID when their weight files exist.
7. **report**: ``report.html``, ``report.md``, ``metrics.json`` (:mod:`hvg_model.demo_report`).
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from hvg_model.demo_settings import DEFAULT, QUALITY, SMALLEST, DemoSettings

__all__ = ["QUALITY", "SMALLEST", "DemoResult", "DemoSettings", "resolve_settings", "run_demo"]

STAGES = 7


@dataclass
class DemoResult:
    """What a demo run wrote.

    Attributes:
        out: The output folder (absolute).
        report_html: ``report.html``.
        report_md: ``report.md``.
        metrics_json: ``metrics.json``.
        videos: MP4 files by role.
        metrics: Metric values by role then metric (``None`` where not computed).
        notes: Metrics that were not computed and why.
        learning: VAE PSNRs and denoiser losses (with the predict-zero level).
        timings: Wall and CPU seconds per stage.
    """

    out: Path
    report_html: Path
    report_md: Path
    metrics_json: Path
    videos: dict[str, Path]
    metrics: dict[str, dict[str, Any]]
    notes: dict[str, str]
    learning: dict[str, Any]
    timings: dict[str, dict[str, float]]


def _cpu_seconds() -> float:
    """CPU time of this process and its finished children (Ray workers are not counted)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


class _Stages:
    """Prints ``[i/N] title`` lines and records wall and CPU time per stage."""

    def __init__(self, echo: Callable[[str], None]) -> None:
        self.echo = echo
        self.timings: dict[str, dict[str, float]] = {}
        self.index = 0

    def run(self, key: str, title: str, work: Callable[[], Any]) -> Any:
        self.index += 1
        self.echo(click.style(f"[{self.index}/{STAGES}] {title}", bold=True))
        wall, cpu = time.perf_counter(), _cpu_seconds()
        result = work()
        self.timings[key] = {
            "wall_s": time.perf_counter() - wall,
            "cpu_s": _cpu_seconds() - cpu,
        }
        return result


def _losses(run_dir: Path) -> list[float]:
    from hvg_model.training.metrics_log import read_metrics

    return [row["loss"] for row in read_metrics(run_dir / "metrics.jsonl")]


def _write_reference(out: Path, reference: Any) -> Path:
    import torch.nn.functional as F
    from hvg_bonemap.media import write_png

    from hvg_model.video_io import to_uint8

    scale = max(1, 256 // reference.shape[-1])
    big = F.interpolate(reference, scale_factor=scale, mode="nearest")
    path = out / "reference.png"
    write_png(path, to_uint8(big[0]).numpy())
    return path


def run_demo(
    out: str | os.PathLike[str],
    settings: DemoSettings = DEFAULT,
    *,
    echo: Callable[[str], None] = click.echo,
) -> DemoResult:
    """Run the seven stages into ``out`` (resolved to an absolute path first)."""
    import torch

    # Each stage imports its module when it starts (a long run picks up the current code).
    from hvg_model import demo_train

    out = Path(out).expanduser().resolve()
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(settings.seed)
    stages = _Stages(echo)

    dirs = stages.run(
        "data",
        "rendering walking synthetic people into shards (hvg-data)",
        lambda: demo_train.render_data(out, settings),
    )
    vae = stages.run(
        "vae",
        f"training the tiny VAE for {settings.vae_steps} steps",
        lambda: demo_train.train_demo_vae(out, dirs, settings),
    )
    vae_iou = demo_train.vae_silhouette_iou(vae.path, dirs.test, settings.frame_window)
    echo(f"      VAE reconstruction PSNR: train {vae.train_psnr:.1f} dB, held-out "
         f"{vae.heldout_psnr:.1f} dB (flat image {vae.flat_psnr:.1f} dB); held-out "
         f"silhouette IoU {vae_iou:.2f}")  # fmt: skip
    svd_dir = demo_train.build_demo_svd_dir(
        out, vae.path, settings.seed, sigma_max=settings.sigma_max
    )
    stage1 = stages.run(
        "stage1",
        f"training stage 1 (multi-view) for {settings.stage1_steps} steps",
        lambda: demo_train.train_stage(out, settings, 1, dirs.train, svd_dir),
    )
    stage2 = stages.run(
        "stage2",
        f"training stage 2 (multi-view, multi-frame) for {settings.stage2_steps} steps",
        lambda: demo_train.train_stage(out, settings, 2, dirs.train, svd_dir, init_from=stage1),
    )

    def generate() -> tuple[Any, dict[str, Path], dict[str, float]]:
        from hvg_model import demo_eval
        from hvg_model.pipeline import HVGPipeline
        from hvg_model.training.export import export_pipeline

        pipeline = HVGPipeline.from_pretrained(export_pipeline(stage2, out / "pipeline"))
        pose_signal = pipeline.denoising_net.config.pose_signal
        inputs = demo_eval.conditioning_of(demo_eval.held_out_subject(dirs.test), pose_signal)
        videos = demo_eval.generate_videos(out, pipeline, inputs, settings)
        losses = demo_train.denoiser_losses(pipeline, stage2, dirs.test)
        return inputs, videos, losses

    inputs, videos, held_out = stages.run(
        "generate", f"generating with samplers hvg and {settings.baseline}", generate
    )

    def evaluate() -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
        from hvg_model import demo_eval

        roles = ["hvg", settings.baseline, demo_eval.POSE_ABLATION, demo_eval.REFERENCE_COPY]
        return demo_eval.evaluate_videos(out, roles, demo_train.DEMO_BACKGROUND)

    metrics, notes = stages.run("evaluate", "evaluating (silhouette IoU, hvg-eval)", evaluate)

    def report() -> tuple[Path, Path, Path, dict[str, Any]]:
        from hvg_model.demo_eval import bone_map_silhouette_iou, held_out_subject
        from hvg_model.demo_report import ReportData, plot_losses, settings_dict, write_report

        stage_losses = {"stage 1": _losses(stage1), "stage 2": _losses(stage2)}
        background = torch.tensor(demo_train.DEMO_BACKGROUND, dtype=torch.float32) / 255
        learning = {
            "vae_train_psnr": vae.train_psnr,
            "vae_heldout_psnr": vae.heldout_psnr,
            "vae_untrained_psnr": vae.untrained_psnr,
            "flat_background_psnr": vae.flat_psnr,
            "vae_heldout_iou": vae_iou,
            "bone_map_silhouette_iou": bone_map_silhouette_iou(
                held_out_subject(dirs.test), background
            ),
            "vae_scaling_factor": vae.scaling_factor,
            "vae_first_loss": vae.losses[0],
            "vae_last_loss": vae.losses[-1],
            "model_loss": held_out["model"],
            "predict_zero_loss": held_out["predict_zero"],
            "stage1_first_loss": stage_losses["stage 1"][0],
            "stage1_last_loss": stage_losses["stage 1"][-1],
            "stage2_steps": len(stage_losses["stage 2"]),
            "stage2_last_loss": stage_losses["stage 2"][-1],
        }
        plot = plot_losses(
            out / "losses.png", stage_losses, held_out["predict_zero"], held_out["model"]
        )
        data = ReportData(
            settings=settings_dict(settings),
            baseline=settings.baseline,
            videos=videos,
            reference_png=_write_reference(out, inputs["reference"]),
            metrics=metrics,
            notes=notes,
            learning=learning,
            timings=stages.timings,
            loss_plot=plot,
        )
        return (*write_report(out, data), learning)

    report_html, report_md, metrics_json, learning = stages.run(
        "report", "writing the report", report
    )
    echo(f"report: {report_html}")
    return DemoResult(
        out, report_html, report_md, metrics_json, videos, metrics, notes, learning, stages.timings
    )


def resolve_settings(smallest: bool, quality: bool, options: dict[str, Any]) -> DemoSettings:
    """Settings from the command line: a preset, then explicitly given options; windows clamped.

    Raises:
        InputError: Both presets, or a size the networks cannot take.
    """
    from hvg_core.errors import InputError

    if smallest and quality:
        raise InputError("choose one of --smallest and --quality", field="--smallest")
    base = SMALLEST if smallest else QUALITY if quality else DemoSettings()
    given = {key: value for key, value in options.items() if value is not None}
    settings = dataclasses.replace(base, **given)
    multiple = 2 * settings.vae_downsample
    if settings.size % multiple:
        raise InputError(
            f"must be a multiple of {multiple} (VAE factor {settings.vae_downsample} × one UNet "
            "downsampling)",
            field="--size",
        )
    if settings.view_window >= settings.views:
        settings = dataclasses.replace(settings, view_window=max(1, settings.views - 1))
    if settings.frame_window > settings.frames:
        settings = dataclasses.replace(settings, frame_window=settings.frames)
    if settings.frame_window > settings.train_frames:
        settings = dataclasses.replace(settings, frame_window=settings.train_frames)
    return dataclasses.replace(
        settings,
        view_overlap=min(settings.view_overlap, settings.view_window - 1),
        frame_overlap=min(settings.frame_overlap, settings.frame_window - 1),
    )


@click.command()
@click.option(
    "--out", type=click.Path(file_okay=False), default="out/demo", show_default=True,
    help="Output folder (report.html, report.md, metrics.json, videos/, eval/).",
)  # fmt: skip
@click.option("--subjects", type=click.IntRange(1), default=None, help=f"Synthetic training subjects [default: {DemoSettings.subjects}].")  # fmt: skip
@click.option("--size", type=click.IntRange(16), default=None, help=f"Image side in pixels, a multiple of {2 * DemoSettings.vae_downsample} (twice the VAE factor) [default: {DemoSettings.size}].")  # fmt: skip
@click.option("--vae-steps", type=click.IntRange(1), default=None, help=f"Training steps of the VAE [default: {DemoSettings.vae_steps}].")  # fmt: skip
@click.option("--stage1-steps", type=click.IntRange(1), default=None, help=f"Training steps of stage 1 [default: {DemoSettings.stage1_steps}].")  # fmt: skip
@click.option("--stage2-steps", type=click.IntRange(1), default=None, help=f"Training steps of stage 2 [default: {DemoSettings.stage2_steps}].")  # fmt: skip
@click.option("--views", type=click.IntRange(2), default=None, help=f"Views of the generated video [default: {DemoSettings.views}].")  # fmt: skip
@click.option("--frames", type=click.IntRange(2), default=None, help=f"Frames of the generated video [default: {DemoSettings.frames}].")  # fmt: skip
@click.option("--steps", type=click.IntRange(1), default=None, help=f"Denoising steps [default: {DemoSettings.steps}].")  # fmt: skip
@click.option("--baseline", default=None, help=f"Registered sampler to compare with [default: {DemoSettings.baseline}].")  # fmt: skip
@click.option("--executor", type=click.Choice(["ray", "local"]), default=None, help=f"Render on Ray Data or in this process [default: {DemoSettings.executor}].")  # fmt: skip
@click.option("--smallest", is_flag=True, help="The smallest settings that run every stage and still learn (about a minute; CI).")  # fmt: skip
@click.option("--quality", is_flag=True, help="A longer run (more subjects and steps; about 2.5 times the default).")  # fmt: skip
@click.option("--seed", type=int, default=None, help="Seed of data, training and sampling [default: 0].")  # fmt: skip
def demo(out: str, smallest: bool, quality: bool, **options: Any) -> None:
    """Train a tiny HVG model from nothing on synthetic people, generate, evaluate, report.

    About 8 minutes on 2 CPU cores with the defaults (at most 10); --smallest takes under a minute.
    """
    import torch
    from transformers.utils import logging as transformers_logging

    settings = resolve_settings(smallest, quality, options)
    torch.set_num_threads(1)  # the tiny networks are faster on one thread (and the CI is shared)
    transformers_logging.disable_progress_bar()  # per-file weight bars would drown the stages
    run_demo(out, settings, echo=lambda text: click.echo(text, err=True))
