"""``hvg demo``: the whole pipeline on the built-in default, on a CPU, in minutes.

1. **data**: render ``synthetic`` people into HDF5 shards with ``hvg-data`` (Ray Data by
   default): training subjects (multi-view, one frame) and one held-out walking subject
   (multi-view, several frames) whose first view and frame is the reference image.
2. **train**: the ``tiny`` config of ``hvg-model train`` on the training shards.
3. **generate**: export the trained checkpoint as a pipeline and generate the held-out subject's
   multi-view video from its reference image, bone maps and cameras, with the ``hvg`` sampler
   and, for comparison, a baseline sampler.
4. **evaluate**: SSIM, PSNR and L1 always; LPIPS, FID, FVD and FID-VID when their weight files
   are present (``hvg-eval weights where``), otherwise the report says what is missing.
5. **report**: ``report.html`` and ``report.md`` with the video grids, bone maps, loss curve and
   metric table, plus ``metrics.json`` and the MP4 files.

The tiny model's VAE and CLIP encoder are random (no weights can be downloaded), so the decoded
videos are noise-like textures whatever the denoiser learns: the demo proves
that every stage runs and connects, not the paper's image quality (that needs SVD-xt weights and
GPUs, see ``docs/reproducing.md``).
"""

from __future__ import annotations

import dataclasses
import html
import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

WEIGHT_FREE_METRICS = ("ssim", "psnr", "l1")
WEIGHTED_METRICS = ("lpips", "fid", "fvd", "fid-vid")


@dataclass(frozen=True)
class DemoSettings:
    """Sizes of the demo run.

    Attributes:
        subjects: Synthetic training subjects.
        train_views: Views rendered per training subject.
        size: Image side in pixels (a multiple of 8).
        train_steps: Optimiser steps of the tiny config.
        views: Views of the generated video (an orbit).
        frames: Frames of the generated video.
        steps: Denoising steps.
        view_window: View window of the samplers (cyclic over the orbit).
        view_overlap: Views shared by neighbouring view windows.
        frame_window: Frame window of the samplers.
        frame_overlap: Frames shared by neighbouring temporal windows.
        baseline: Registered sampler generated for comparison.
        executor: ``"ray"`` (Ray Data, local cluster) or ``"local"`` (in-process) rendering.
        seed: Seed of data, training and sampling.
    """

    subjects: int = 8
    train_views: int = 4
    size: int = 64
    train_steps: int = 200
    views: int = 4
    frames: int = 8
    steps: int = 10
    view_window: int = 2
    view_overlap: int = 1
    frame_window: int = 4
    frame_overlap: int = 2
    baseline: str = "human4dit"
    executor: str = "ray"
    seed: int = 0


#: The smallest settings that still exercise every stage (CI's integration test).
SMALLEST = DemoSettings(
    subjects=2,
    train_views=2,
    size=32,
    train_steps=3,
    views=3,
    frames=4,
    steps=2,
    frame_window=2,
    frame_overlap=1,
    executor="local",
)


@dataclass
class DemoResult:
    """What a demo run wrote.

    Attributes:
        out: The output folder.
        report_html: ``report.html``.
        report_md: ``report.md``.
        metrics_json: ``metrics.json``.
        videos: MP4 files by role (``ground_truth``, ``hvg``, baseline name, ``bone_maps``).
        metrics: Metric values by sampler then metric (``None`` where not computed).
        notes: Metrics that were not computed and why.
        timings: Seconds per stage.
    """

    out: Path
    report_html: Path
    report_md: Path
    metrics_json: Path
    videos: dict[str, Path]
    metrics: dict[str, dict[str, float | None]]
    notes: dict[str, str]
    timings: dict[str, float]


def _stage(echo: Callable[[str], None], index: int, title: str) -> float:
    echo(click.style(f"[{index}/5] {title}", bold=True))
    return time.perf_counter()


def render_data(out: Path, settings: DemoSettings) -> tuple[Path, Path]:
    """Render the training shards and the held-out walking subject; returns both folders."""
    from hvg_data.config import RenderConfig
    from hvg_data.pipeline import PipelineOptions, run_render

    options = PipelineOptions(executor=settings.executor, num_workers=2, progress=True)
    train_dir, test_dir = out / "data" / "train", out / "data" / "test"
    run_render(
        "synthetic",
        None,
        train_dir,
        RenderConfig(views=settings.train_views, size=settings.size, shard_size=4),
        adapter_options={"count": settings.subjects, "seed": settings.seed},
        options=options,
    )
    # A different seed draws a different person: the held-out subject is never trained on.
    run_render(
        "synthetic",
        None,
        test_dir,
        RenderConfig(views=settings.views, size=settings.size, shard_size=1),
        adapter_options={"count": 1, "frames": settings.frames, "seed": settings.seed + 1000},
        options=options,
    )
    return train_dir, test_dir


def train_model(out: Path, train_dir: Path, settings: DemoSettings) -> Path:
    """Train the tiny config on the rendered shards; returns the run directory."""
    from hvg_model.training import load_config, train

    run_dir = out / "train"
    if run_dir.exists():
        shutil.rmtree(run_dir)  # a demo always starts a fresh run
    config = load_config(
        "tiny",
        [
            "data.dataset=shards",
            f"data.path={train_dir}",
            f"data.image_size={settings.size}",
            f"data.views={min(2, settings.train_views)}",
            f"schedule.max_steps={settings.train_steps}",
            f"schedule.checkpoint_every={settings.train_steps}",
            f"schedule.seed={settings.seed}",
        ],
    )
    train(config, run_dir, show_progress=True)
    return run_dir


def held_out_subject(test_dir: Path) -> dict[str, Any]:
    """The held-out subject's arrays: ``rgb (V, T, H, W, 3)``, bone maps, cameras, joints."""
    import h5py
    from hvg_data.shards import iter_manifest_samples, read_sample_arrays

    path, name = next(iter(iter_manifest_samples(test_dir)))
    with h5py.File(path, "r") as handle:
        return read_sample_arrays(handle["samples"][name])


def conditioning_of(sample: dict[str, Any], pose_signal: str) -> dict[str, Any]:
    """Reference image, encoded pose maps and rotations of one subject, batched (B = 1).

    Returns:
        ``reference (1, 3, H, W)``, ``pose_maps (1, V, T, C, H, W)``, ``rotations (1, V, 3, 3)``
        and ``frames (1, V, T, 3, H, W)`` (the ground truth), all float32.
    """
    import torch

    from hvg_model.pose_input import encode_stored_bonemap

    rgb = torch.from_numpy(sample["rgb"]).float().div(255).permute(0, 1, 4, 2, 3)  # V T 3 H W
    depth = torch.from_numpy(sample["depth"].astype("float32"))  # V T H W
    normal = torch.from_numpy(sample["normal"]).permute(0, 1, 4, 2, 3)  # V T 3 H W uint8
    rotations = torch.from_numpy(sample["R"]).float()
    translations = torch.from_numpy(sample["t"]).float()
    pelvis = torch.from_numpy(sample["joints"][:, 0]).float()  # T 3
    centres = -torch.einsum("vji,vj->vi", rotations, translations)  # camera centres, V 3
    distance = (pelvis[None] - centres[:, None]).norm(dim=-1)  # V T
    pose_maps = encode_stored_bonemap(depth, normal, distance, pose_signal=pose_signal)
    return {
        "reference": rgb[0, 0][None],
        "pose_maps": pose_maps[None],
        "rotations": rotations[None],
        "frames": rgb[None],
    }


def write_frame_tree(frames: Any, root: Path) -> None:
    """``(V, T, 3, H, W)`` in [0, 1] → ``root/view_VV/TTTT.png`` (hvg-eval's generator layout)."""
    from hvg_bonemap.media import write_png

    from hvg_model.video_io import to_uint8

    images = to_uint8(frames).numpy()
    for view, video in enumerate(images):
        folder = root / f"view_{view:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        for frame, image in enumerate(video):
            write_png(folder / f"{frame:04d}.png", image)


def generate_videos(
    out: Path, run_dir: Path, inputs: dict[str, Any], settings: DemoSettings
) -> tuple[dict[str, Any], dict[str, Path]]:
    """Export the trained pipeline and generate with ``hvg`` and the baseline sampler."""
    from hvg_model.pipeline import HVGPipeline
    from hvg_model.training.export import export_pipeline
    from hvg_model.video_io import write_video_outputs

    pipeline = HVGPipeline.from_pretrained(export_pipeline(run_dir, out / "pipeline"))
    options = {
        "frame_window": settings.frame_window,
        "frame_overlap": settings.frame_overlap,
        "view_window": settings.view_window,
        "view_overlap": settings.view_overlap,
    }
    generated, videos = {}, {}
    for sampler in ("hvg", settings.baseline):
        result = pipeline(
            inputs["reference"],
            inputs["pose_maps"],
            inputs["rotations"],
            sampler=sampler,
            sampler_options=options,
            num_steps=settings.steps,
            seed=settings.seed,
            show_progress=True,
        )
        generated[sampler] = result.frames
        folder = out / "videos" / sampler
        written = write_video_outputs(result.frames, folder, prefix=sampler, write_pngs=False)
        videos[sampler] = next(p for p in written if p.suffix == ".mp4")
        write_frame_tree(result.frames[0], out / "eval" / sampler / "subject")
    truth = write_video_outputs(
        inputs["frames"], out / "videos" / "ground_truth", prefix="ground_truth", write_pngs=False
    )
    videos["ground_truth"] = next(p for p in truth if p.suffix == ".mp4")
    write_frame_tree(inputs["frames"][0], out / "eval" / "ground_truth" / "subject")
    pose_preview = _pose_preview(inputs["pose_maps"])
    bones = write_video_outputs(
        pose_preview, out / "videos" / "bone_maps", prefix="bone_maps", write_pngs=False
    )
    videos["bone_maps"] = next(p for p in bones if p.suffix == ".mp4")
    return generated, videos


def _pose_preview(pose_maps: Any) -> Any:
    """RGB pictures of encoded bone maps ``(B, V, T, C, H, W)``: normal code, or depth as grey."""
    channels = pose_maps.shape[3]
    if channels >= 4:  # depth code then normal code
        return pose_maps[:, :, :, 1:4]
    if channels == 3:
        return pose_maps
    return pose_maps[:, :, :, :1].expand(-1, -1, -1, 3, -1, -1)


def evaluate_videos(
    out: Path, samplers: list[str]
) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """Weight-free metrics always; weighted ones when their files are present."""
    from hvg_core.errors import HVGError
    from hvg_eval.evaluate import evaluate

    real = out / "eval" / "ground_truth"
    values: dict[str, dict[str, Any]] = {}
    notes: dict[str, str] = {}
    for sampler in samplers:
        fake = out / "eval" / sampler
        document = evaluate(list(WEIGHT_FREE_METRICS), real, fake)
        values[sampler] = {n: document["metrics"][n]["value"] for n in WEIGHT_FREE_METRICS}
        for name in WEIGHTED_METRICS:
            try:
                result = evaluate([name], real, fake, skip_missing=True)["metrics"][name]
            except HVGError as error:
                # Too few frames or views for this metric at demo sizes: say so in the report.
                values[sampler][name] = None
                notes[name] = f"not computed at demo size: {error}"
                continue
            values[sampler][name] = result["value"]
            if result.get("skipped"):
                notes[name] = result["skipped"]
    return values, notes


def _relative(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()


def write_report(
    out: Path,
    settings: DemoSettings,
    run_dir: Path,
    videos: dict[str, Path],
    metrics: dict[str, dict[str, Any]],
    notes: dict[str, str],
    timings: dict[str, float],
) -> tuple[Path, Path, Path]:
    """``report.html``, ``report.md`` and ``metrics.json``."""
    from hvg_model.training.metrics_log import read_metrics

    losses = [row["loss"] for row in read_metrics(run_dir / "metrics.jsonl")]
    loss_curve = run_dir / "loss_curve.png"
    sheets = {role: _sheet_of(path) for role, path in videos.items()}
    metric_names = [*WEIGHT_FREE_METRICS, *WEIGHTED_METRICS]
    document = {
        "settings": dataclasses.asdict(settings),
        "metrics": metrics,
        "not_computed": notes,
        "training": {
            "steps": len(losses),
            "first_loss": losses[0] if losses else None,
            "last_loss": losses[-1] if losses else None,
        },
        "timings_s": timings,
        "videos": {role: _relative(path, out) for role, path in videos.items()},
    }
    metrics_json = out / "metrics.json"
    metrics_json.write_text(json.dumps(document, indent=2) + "\n")

    def cell(value: Any) -> str:
        return "—" if value is None else f"{value:.4f}"

    header = "| sampler | " + " | ".join(m.upper() for m in metric_names) + " |"
    rule = "|---" * (len(metric_names) + 1) + "|"
    rows = [
        f"| {sampler} | " + " | ".join(cell(values.get(m)) for m in metric_names) + " |"
        for sampler, values in metrics.items()
    ]
    note_lines = [f"- **{name}**: {text}" for name, text in sorted(notes.items())]
    roles = ["ground_truth", "bone_maps", "hvg", settings.baseline]
    md = [
        "# HVG demo report",
        "",
        f"Synthetic data ({settings.subjects} training subjects, {settings.train_views} views, "
        f"{settings.size}² px), tiny model trained {len(losses)} steps, generation of a held-out "
        f"walking subject: {settings.views} views × {settings.frames} frames, {settings.steps} "
        f"denoising steps, samplers `hvg` and `{settings.baseline}`.",
        "",
        "## Metrics (generated vs ground truth)",
        "",
        header,
        rule,
        *rows,
        "",
        *(["Not computed:", "", *note_lines, ""] if note_lines else []),
        "## Videos (rows: views, columns: frames)",
        "",
        *[
            f"- {role}: [{_relative(videos[role], out)}]({_relative(videos[role], out)})\n\n"
            f"  ![{role}]({_relative(sheets[role], out)})"
            for role in roles
        ],
        "",
        "## Training loss",
        "",
        f"![loss curve]({_relative(loss_curve, out)})" if loss_curve.is_file() else "(no curve)",
        "",
        "## Time per stage",
        "",
        *[f"- {stage}: {seconds:.1f} s" for stage, seconds in timings.items()],
        "",
    ]
    report_md = out / "report.md"
    report_md.write_text("\n".join(md))

    def figure(role: str) -> str:
        video = html.escape(_relative(videos[role], out))
        sheet = html.escape(_relative(sheets[role], out))
        return (
            f"<figure><figcaption>{html.escape(role)}</figcaption>"
            f'<video src="{video}" controls loop autoplay muted></video>'
            f'<img src="{sheet}" alt="{html.escape(role)} views × frames"></figure>'
        )

    table = (
        "<table><tr><th>sampler</th>"
        + "".join(f"<th>{m.upper()}</th>" for m in metric_names)
        + "</tr>"
        + "".join(
            f"<tr><td>{html.escape(s)}</td>"
            + "".join(f"<td>{cell(v.get(m))}</td>" for m in metric_names)
            + "</tr>"
            for s, v in metrics.items()
        )
        + "</table>"
    )
    notes_html = "".join(
        f"<li><b>{html.escape(n)}</b>: {html.escape(t)}</li>" for n, t in sorted(notes.items())
    )
    page = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>HVG demo report</title>
<style>body{{font-family:sans-serif;max-width:70em;margin:2em auto}}
figure{{display:inline-block;margin:0.5em;vertical-align:top}}
img,video{{image-rendering:pixelated;min-width:16em;display:block}}
table{{border-collapse:collapse}}td,th{{border:1px solid #999;padding:0.3em 0.6em}}</style>
</head><body><h1>HVG demo report</h1>
<p>{html.escape(md[2])}</p>
<h2>Metrics (generated vs ground truth)</h2>{table}
{f"<p>Not computed:</p><ul>{notes_html}</ul>" if notes_html else ""}
<h2>Videos (rows: views, columns: frames)</h2>{"".join(figure(r) for r in roles)}
<h2>Training loss</h2><img src="{html.escape(_relative(loss_curve, out))}" alt="loss curve">
</body></html>
"""
    report_html = out / "report.html"
    report_html.write_text(page)
    return report_html, report_md, metrics_json


def _sheet_of(video: Path) -> Path:
    """The contact sheet ``write_video_outputs`` wrote beside ``<prefix>_b0.mp4``."""
    return video.with_name(video.stem + "_sheet.png")


def run_demo(
    out: str | Path,
    settings: DemoSettings = DemoSettings(),
    *,
    echo: Callable[[str], None] = click.echo,
) -> DemoResult:
    """Run the five stages into ``out`` and return what was written."""
    import torch

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(settings.seed)
    timings: dict[str, float] = {}

    started = _stage(echo, 1, "rendering synthetic people into shards (hvg-data)")
    train_dir, test_dir = render_data(out, settings)
    timings["data"] = time.perf_counter() - started

    started = _stage(echo, 2, f"training the tiny model for {settings.train_steps} steps")
    run_dir = train_model(out, train_dir, settings)
    timings["train"] = time.perf_counter() - started

    started = _stage(echo, 3, f"generating with samplers hvg and {settings.baseline}")
    from hvg_model.training.config import load_config
    from hvg_model.training.run import CONFIG_FILE

    pose_signal = load_config(str(run_dir / CONFIG_FILE)).model.variant
    inputs = conditioning_of(held_out_subject(test_dir), pose_signal)
    _, videos = generate_videos(out, run_dir, inputs, settings)
    timings["generate"] = time.perf_counter() - started

    started = _stage(echo, 4, "evaluating (hvg-eval)")
    metrics, notes = evaluate_videos(out, ["hvg", settings.baseline])
    timings["evaluate"] = time.perf_counter() - started

    _stage(echo, 5, "writing the report")
    report_html, report_md, metrics_json = write_report(
        out, settings, run_dir, videos, metrics, notes, timings
    )
    echo(f"report: {report_html}")
    return DemoResult(out, report_html, report_md, metrics_json, videos, metrics, notes, timings)


@click.command()
@click.option(
    "--out", type=click.Path(file_okay=False), default="out/demo", show_default=True,
    help="Output folder (report.html, report.md, metrics.json, videos/).",
)  # fmt: skip
@click.option("--subjects", type=click.IntRange(1), default=DemoSettings.subjects, show_default=True, help="Synthetic training subjects.")  # fmt: skip
@click.option("--size", type=click.IntRange(16), default=DemoSettings.size, show_default=True, help="Image side in pixels (multiple of 8).")  # fmt: skip
@click.option("--train-steps", type=click.IntRange(1), default=DemoSettings.train_steps, show_default=True, help="Training steps of the tiny model.")  # fmt: skip
@click.option("--views", type=click.IntRange(2), default=DemoSettings.views, show_default=True, help="Views of the generated video.")  # fmt: skip
@click.option("--frames", type=click.IntRange(2), default=DemoSettings.frames, show_default=True, help="Frames of the generated video.")  # fmt: skip
@click.option("--steps", type=click.IntRange(1), default=DemoSettings.steps, show_default=True, help="Denoising steps.")  # fmt: skip
@click.option("--baseline", default=DemoSettings.baseline, show_default=True, help="Registered sampler to compare with.")  # fmt: skip
@click.option("--executor", type=click.Choice(["ray", "local"]), default=DemoSettings.executor, show_default=True, help="Render on Ray Data or in this process.")  # fmt: skip
@click.option("--smallest", is_flag=True, help="The smallest settings that run every stage (seconds; CI).")  # fmt: skip
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of data, training and sampling.")  # fmt: skip
def demo(out: str, smallest: bool, **options: Any) -> None:
    """Run the whole pipeline on synthetic data: render, train, generate, evaluate, report.

    Under 10 minutes on 2 CPU cores with the defaults; --smallest takes seconds.
    """
    import torch
    from hvg_core.errors import InputError

    if options["size"] % 8:
        raise InputError("must be a multiple of 8 (the VAE downsamples by 8)", field="--size")
    from transformers.utils import logging as transformers_logging

    torch.set_num_threads(1)  # the tiny networks are faster on one thread (and the CI is shared)
    transformers_logging.disable_progress_bar()  # per-file weight bars would drown the stages
    settings = SMALLEST if smallest else DemoSettings(**options)
    if settings.view_window >= settings.views:
        settings = dataclasses.replace(settings, view_window=max(1, settings.views - 1))
    if settings.frame_window >= settings.frames:
        settings = dataclasses.replace(settings, frame_window=max(1, settings.frames // 2))
    settings = dataclasses.replace(
        settings,
        view_overlap=min(settings.view_overlap, settings.view_window - 1),
        frame_overlap=min(settings.frame_overlap, settings.frame_window - 1),
    )
    run_demo(out, settings, echo=lambda text: click.echo(text, err=True))
