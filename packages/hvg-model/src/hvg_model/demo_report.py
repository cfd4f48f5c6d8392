"""The demo's report: ``report.html``, ``report.md``, ``metrics.json`` and the loss plot.

The HTML page is written from plain data (no Markdown inside it): the reference image first,
then the videos side by side (ground truth, bone maps, generated, ablations), the metric table
with directions and units, the learning figures (VAE reconstruction, denoiser loss against the
predict-zero level), stage times, a compact table of the weight files that would enable the
remaining metrics, and an honest paragraph on what the tiny model can and cannot do.
"""

from __future__ import annotations

import dataclasses
import html
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: IoU drop from zeroing the bone maps above which the model counts as using them.
POSE_EFFECT = 0.02

#: Rows of the metric table: key, label, direction, unit.
METRIC_COLUMNS = (
    ("iou", "silhouette IoU", "↑", "0–1"),
    ("psnr", "PSNR", "↑", "dB"),
    ("ssim", "SSIM", "↑", "0–1"),
    ("l1", "L1", "↓", "DisCo unit"),
    ("lpips", "LPIPS", "↓", "0–1"),
    ("fid", "FID", "↓", ""),
    ("fvd", "FVD", "↓", ""),
    ("fid-vid", "FID-VID", "↓", ""),
)

ROLE_TITLES = {
    "ground_truth": "ground truth",
    "bone_maps": "bone maps (normal code)",
    "hvg": "generated: hvg sampler",
    "pose_ablation": "ablation: bone maps zeroed",
    "reference_copy": "baseline: reference copied",
}


@dataclass
class ReportData:
    """Everything the report shows.

    Attributes:
        settings: ``DemoSettings`` as a dict.
        baseline: Name of the baseline sampler.
        videos: MP4 path by role.
        reference_png: The reference image (upscaled PNG).
        metrics: Values by role then metric.
        notes: Reasons by metric not computed.
        learning: VAE PSNRs, denoiser and predict-zero losses, loss histories.
        timings: ``{stage: {"wall_s": ..., "cpu_s": ...}}``.
        loss_plot: The loss figure.
    """

    settings: dict[str, Any]
    baseline: str
    videos: dict[str, Path]
    reference_png: Path
    metrics: dict[str, dict[str, Any]]
    notes: dict[str, str]
    learning: dict[str, Any]
    timings: dict[str, dict[str, float]]
    loss_plot: Path
    extra: dict[str, Any] = field(default_factory=dict)


def sheet_of(video: Path) -> Path:
    """The contact sheet ``write_video_outputs`` wrote beside ``<prefix>_b0.mp4``."""
    return video.with_name(video.stem + "_sheet.png")


def plot_losses(
    path: Path,
    stage_losses: dict[str, list[float]],
    predict_zero: float | None,
    model_loss: float | None,
) -> Path:
    """Denoiser loss per step of each stage, the predict-zero level and the held-out loss."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(6.5, 3.5), dpi=100)
    offset = 0
    for index, (label, losses) in enumerate(stage_losses.items()):
        steps = list(range(offset + 1, offset + len(losses) + 1))
        window = max(1, min(20, len(losses) // 5 or 1))
        smoothed = [
            sum(losses[max(0, i - window + 1) : i + 1])
            / len(losses[max(0, i - window + 1) : i + 1])
            for i in range(len(losses))
        ]
        axis.plot(steps, losses, color="0.8", linewidth=0.6)
        axis.plot(steps, smoothed, color=f"C{index}", linewidth=1.5, label=f"{label} (mean)")
        offset += len(losses)
    if predict_zero is not None:
        axis.axhline(predict_zero, color="C3", linestyle="--", label="predict zero (held out)")
    if model_loss is not None:
        axis.axhline(model_loss, color="C2", linestyle=":", label="trained (held out)")
    axis.set_xlabel("step (stage 1, then stage 2)")
    axis.set_ylabel("EDM loss (v-MSE)")
    axis.set_yscale("log")
    axis.legend(fontsize=8)
    axis.grid(alpha=0.3)
    figure.tight_layout()
    temporary = path.with_name(f".{path.stem}.tmp-{os.getpid()}.png")
    figure.savefig(temporary)
    plt.close(figure)
    os.replace(temporary, path)
    return path


def missing_weights(notes: dict[str, str]) -> list[dict[str, str]]:
    """One row per weight file the not-computed metrics need: metric, file, size, where to put it."""
    from hvg_eval.weights.registry import WEIGHT_FILES, search_directories

    places = [str(path) for _label, path in search_directories()]
    rows = []
    for metric in sorted(notes):
        for entry in WEIGHT_FILES.values():
            label = entry.needed_for.split(" (")[0].lower()
            if label != metric or entry.filename not in notes[metric]:
                continue
            rows.append(
                {
                    "metric": metric.upper(),
                    "file": entry.filename,
                    "size": entry.approx_size,
                    "source": entry.sources[0] if entry.sources else "",
                    "where": places[0] if places else "",
                }
            )
    return rows


def _cell(value: Any, key: str) -> str:
    if value is None:
        return "—"
    if key == "l1":
        return f"{value:.2e}"
    if key == "psnr":
        return f"{value:.2f}"
    return f"{value:.3f}"


def _relative(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()


def _roles(data: ReportData) -> list[str]:
    return ["ground_truth", "bone_maps", "hvg", data.baseline, "pose_ablation", "reference_copy"]


def _title(role: str, baseline: str) -> str:
    if role == baseline:
        return f"generated: {baseline} sampler (baseline)"
    return ROLE_TITLES.get(role, role)


def _summary_sentence(data: ReportData) -> str:
    s = data.settings
    return (
        f"Synthetic walking people ({s['subjects']} training subjects × {s['train_views']} views "
        f"× {s['train_frames']} frames, {s['size']}² px). The tiny VAE trained "
        f"{s['vae_steps']} steps, the tiny HVG model {s['stage1_steps']} steps of stage 1 "
        f"(multi-view) and {s['stage2_steps']} of stage 2 (multi-view, multi-frame). "
        f"Generated: the held-out subject, {s['views']} views × {s['frames']} frames, "
        f"{s['steps']} denoising steps, from its reference image, bone maps and cameras."
    )


def honest_paragraph(data: ReportData) -> str:
    """What the tiny model can and cannot do, with this run's figures."""
    metrics = data.metrics
    hvg, copy = metrics.get("hvg", {}), metrics.get("reference_copy", {})
    ablation = metrics.get("pose_ablation", {})
    learning = data.learning
    nan = float("nan")
    hvg_iou, copy_iou = hvg.get("iou", nan), copy.get("iou", nan)
    ablation_iou = ablation.get("iou", nan)
    vae_iou = learning.get("vae_heldout_iou")
    follows = hvg_iou >= copy_iou + 0.15 and hvg_iou > ablation_iou
    if follows:
        verdict = (
            f"What this shows: a {data.settings['size']}-pixel model of a few million "
            "parameters, trained for minutes on a CPU, follows the bone maps: "
        )
    elif hvg_iou >= ablation_iou + POSE_EFFECT:
        verdict = (
            "What this shows: the model uses the bone maps (zeroing them lowers the IoU) but "
            "is not yet clearly better than a copy of the reference image: "
        )
    else:
        verdict = (
            "What this shows: this run's model does not yet clearly follow the bone maps "
            "(train longer, e.g. with --quality): "
        )
    ceiling = (
        ""
        if vae_iou is None
        else f" The VAE's own reconstruction of the held-out frames reaches IoU {vae_iou:.2f}: "
        "every generated video is decoded by this VAE, so this is a practical ceiling."
    )
    bones_iou = learning.get("bone_map_silhouette_iou")
    if bones_iou is not None:
        ceiling += (
            f" For scale: the bone maps' own silhouette (the ellipsoids, drawn exactly) "
            f"overlaps the true frames with IoU {bones_iou:.2f}."
        )
    return (
        f"{verdict}its silhouettes overlap the ground truth with IoU {hvg_iou:.2f}, against "
        f"{copy_iou:.2f} for copying the reference image to every frame and view and "
        f"{ablation_iou:.2f} when the bone maps are zeroed. The trained denoiser's loss on "
        f"held-out draws is {learning.get('model_loss', nan):.3f} against "
        f"{learning.get('predict_zero_loss', nan):.3f} for predicting zero.{ceiling} What it "
        f"cannot do: the VAE keeps only coarse shapes at {_latent_side(data.settings)}² latents "
        "(held-out reconstruction PSNR "
        f"{learning.get('vae_heldout_psnr', nan):.1f} dB, where a flat background image scores "
        f"{_number(learning.get('flat_background_psnr'))} dB), so faces, hands, stripes and thin "
        f"limbs blur{'' if follows else ' and the person barely moves'}; the colours follow the "
        "reference only "
        "roughly, since a dozen training people do not teach identity preservation for new "
        "outfits. The paper's quality needs SVD-xt weights, 576² images and GPUs "
        "(docs/reproducing.md)."
    )


def _latent_side(settings: dict[str, Any]) -> int:
    return int(settings["size"]) // int(settings.get("vae_downsample", 8))


def _number(value: Any) -> str:
    return "—" if value is None else f"{value:.1f}"


def write_report(out: Path, data: ReportData) -> tuple[Path, Path, Path]:
    """Write ``metrics.json``, ``report.md`` and ``report.html``; return their paths."""
    document = {
        "settings": data.settings,
        "metrics": data.metrics,
        "not_computed": data.notes,
        "learning": data.learning,
        "timings_s": data.timings,
        "videos": {role: _relative(path, out) for role, path in data.videos.items()},
        "reference_image": _relative(data.reference_png, out),
        **data.extra,
    }
    metrics_json = out / "metrics.json"
    _write_text(metrics_json, json.dumps(document, indent=2) + "\n")
    _write_text(out / "report.md", _markdown(out, data))
    _write_text(out / "report.html", _html(out, data))
    return out / "report.html", out / "report.md", metrics_json


def _write_text(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


HOW_TO_READ = (
    "Each row compares one video of the held-out subject with its ground truth over every view "
    "and frame; ↑ means higher is better, ↓ lower. Silhouette IoU is the overlap of the person's "
    "pixels (those far from the green background); L1 is in DisCo's unit: the mean absolute "
    "difference of 0–255 values divided by the image area H·W (so it shrinks with resolution)."
)


def _metric_rows(data: ReportData) -> list[tuple[str, list[str]]]:
    order = ["hvg", data.baseline, "pose_ablation", "reference_copy"]
    return [
        (
            _title(role, data.baseline),
            [_cell(data.metrics[role].get(k), k) for k, *_ in METRIC_COLUMNS],
        )
        for role in order
        if role in data.metrics
    ]


def _timing_rows(data: ReportData) -> list[tuple[str, str, str]]:
    rows = [(stage, f"{t['wall_s']:.1f}", f"{t['cpu_s']:.1f}") for stage, t in data.timings.items()]
    wall = sum(t["wall_s"] for t in data.timings.values())
    cpu = sum(t["cpu_s"] for t in data.timings.values())
    return [*rows, ("total", f"{wall:.1f}", f"{cpu:.1f}")]


def _markdown(out: Path, data: ReportData) -> str:
    header = "| video | " + " | ".join(f"{label} {arrow}" for _, label, arrow, _ in METRIC_COLUMNS)
    rule = "|---" * (len(METRIC_COLUMNS) + 1) + "|"
    rows = [f"| {title} | " + " | ".join(cells) + " |" for title, cells in _metric_rows(data)]
    lines = [
        "# HVG demo report",
        "",
        _summary_sentence(data),
        "",
        f"![reference image]({_relative(data.reference_png, out)})",
        "",
        "## Videos (rows: views, columns: frames)",
        "",
    ]
    for role in _roles(data):
        video = _relative(data.videos[role], out)
        lines += [
            f"- {_title(role, data.baseline)}: [{video}]({video})",
            "",
            f"  ![{role}]({_relative(sheet_of(data.videos[role]), out)})",
            "",
        ]
    lines += ["## Metrics", "", HOW_TO_READ, "", header + " |", rule, *rows, ""]
    weights = missing_weights(data.notes)
    if weights:
        lines += [
            "Metrics needing weight files (hvg-eval never downloads; put the file in the folder, "
            "then run `hvg-eval weights verify`):",
            "",
            "| metric | file | size | where |",
            "|---|---|---|---|",
            *[f"| {w['metric']} | {w['file']} | {w['size']} | {w['where']} |" for w in weights],
            "",
        ]
    lines += [
        "## Learning",
        "",
        *[f"- {key}: {_plain(value)}" for key, value in data.learning.items() if key != "losses"],
        "",
        f"![losses]({_relative(data.loss_plot, out)})",
        "",
        "## Time per stage (seconds)",
        "",
        "| stage | wall | CPU |",
        "|---|---|---|",
        *[f"| {a} | {b} | {c} |" for a, b, c in _timing_rows(data)],
        "",
        "## What the tiny model can and cannot do",
        "",
        honest_paragraph(data),
        "",
    ]
    return "\n".join(lines)


def _plain(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _html(out: Path, data: ReportData) -> str:
    esc = html.escape

    def figure(role: str) -> str:
        video = esc(_relative(data.videos[role], out))
        sheet = esc(_relative(sheet_of(data.videos[role]), out))
        title = esc(_title(role, data.baseline))
        return (
            f"<figure><figcaption>{title}</figcaption>"
            f'<video src="{video}" controls loop autoplay muted playsinline></video>'
            f'<img src="{sheet}" alt="{title}: views × frames"></figure>'
        )

    header = "".join(
        f"<th>{esc(label)} {arrow}<br><small>{esc(unit)}</small></th>"
        for _, label, arrow, unit in METRIC_COLUMNS
    )
    body = "".join(
        f"<tr><td>{esc(title)}</td>" + "".join(f"<td>{esc(c)}</td>" for c in cells) + "</tr>"
        for title, cells in _metric_rows(data)
    )
    weights = missing_weights(data.notes)
    weights_html = ""
    if weights:
        weights_html = (
            "<h3>Metrics that need weight files</h3><p>hvg-eval never downloads weights: put the "
            "file in the folder shown (or pass <code>--weights-dir</code>), then run "
            "<code>hvg-eval weights verify</code>.</p><table><tr><th>metric</th><th>file</th>"
            "<th>size</th><th>where to put it</th><th>source</th></tr>"
            + "".join(
                f"<tr><td>{esc(w['metric'])}</td><td><code>{esc(w['file'])}</code></td>"
                f"<td>{esc(w['size'])}</td><td><code>{esc(w['where'])}</code></td>"
                f"<td>{esc(w['source'])}</td></tr>"
                for w in weights
            )
            + "</table>"
        )
    learning = "".join(
        f"<li>{esc(key.replace('_', ' '))}: {esc(_plain(value))}</li>"
        for key, value in data.learning.items()
        if key != "losses"
    )
    timing = "".join(
        f"<tr><td>{esc(a)}</td><td>{b}</td><td>{c}</td></tr>" for a, b, c in _timing_rows(data)
    )
    reference = esc(_relative(data.reference_png, out))
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>HVG demo report</title>
<style>body{{font-family:sans-serif;max-width:80em;margin:2em auto;line-height:1.4}}
figure{{display:inline-block;margin:0.4em;vertical-align:top}}
figcaption{{font-weight:bold;font-size:0.9em}}
img,video{{image-rendering:pixelated;width:20em;display:block}}
table{{border-collapse:collapse;margin:0.5em 0}}td,th{{border:1px solid #999;padding:0.3em 0.6em}}
td{{text-align:right}}td:first-child{{text-align:left}}</style>
</head><body><h1>HVG demo report</h1>
<p>{esc(_summary_sentence(data))}</p>
<h2>Reference image</h2>
<figure><img src="{reference}" alt="reference image" style="width:12em"></figure>
<h2>Videos (rows: views, columns: frames)</h2>
{"".join(figure(role) for role in _roles(data))}
<h2>Metrics</h2><p>{esc(HOW_TO_READ)}</p>
<table><tr><th>video</th>{header}</tr>{body}</table>
{weights_html}
<h2>Learning</h2><ul>{learning}</ul>
<img src="{esc(_relative(data.loss_plot, out))}" alt="denoiser loss" style="width:40em">
<h2>Time per stage (seconds)</h2>
<table><tr><th>stage</th><th>wall</th><th>CPU</th></tr>{timing}</table>
<h2>What the tiny model can and cannot do</h2><p>{esc(honest_paragraph(data))}</p>
</body></html>
"""


def settings_dict(settings: Any) -> dict[str, Any]:
    """A dataclass of settings as a JSON-safe dict."""
    return {
        k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(settings).items()
    }


__all__ = [
    "HOW_TO_READ",
    "METRIC_COLUMNS",
    "ReportData",
    "honest_paragraph",
    "missing_weights",
    "plot_losses",
    "settings_dict",
    "sheet_of",
    "write_report",
]
