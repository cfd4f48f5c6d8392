"""Present results: a table like the paper's, JSON, and per-view / per-frame plots."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

from hvg_eval.evaluate import TABLE_ORDER

_HEADERS = {"fid": "FID", "ssim": "SSIM", "psnr": "PSNR", "lpips": "LPIPS", "l1": "L1",
            "fid-vid": "FID-VID", "fvd": "FVD"}  # fmt: skip


def format_value(name: str, value: float | None) -> str:
    """Format like the paper's tables (L1 in scientific notation, 4 significant digits)."""
    if value is None:
        return "—"
    if math.isinf(value) or math.isnan(value):
        return str(value)
    if name == "l1" and value != 0 and abs(value) < 0.1:
        return f"{value:.1e}"
    return f"{value:.4g}"


def table(document: dict[str, Any], method: str = "fake") -> str:
    """A Markdown table: one row, columns in the paper's order, then any plugin metrics."""
    metrics = document["metrics"]
    names = [n for n in TABLE_ORDER if n in metrics] + [n for n in metrics if n not in TABLE_ORDER]
    arrows = []
    for name in names:
        better = metrics[name].get("higher_is_better")
        arrows.append(" ↑" if better else (" ↓" if better is False else ""))
    header = (
        "| Method | "
        + " | ".join(_HEADERS.get(name, name) + arrow for name, arrow in zip(names, arrows))
        + " |"
    )
    rule = "|---|" + "---|" * len(names)
    row = (
        f"| {method} | "
        + " | ".join(format_value(name, metrics[name]["value"]) for name in names)
        + " |"
    )
    lines = [header, rule, row, "", f"protocol: {document['protocol']['name']}"]
    for name in names:
        if metrics[name].get("skipped"):
            lines.append(f"{name}: skipped — {metrics[name]['skipped']}")
    return "\n".join(lines)


def single_metric_json(document: dict[str, Any], name: str) -> dict[str, Any]:
    """The JSON object of one metric: its fields plus protocol, inputs and versions."""
    return {
        **document["metrics"][name],
        "protocol": document["protocol"],
        "inputs": document["inputs"],
        "versions": document["versions"],
    }


def dumps(payload: dict[str, Any]) -> str:
    """JSON text (non-finite numbers written as strings so every parser accepts it)."""

    def clean(value: Any) -> Any:
        if isinstance(value, float) and not math.isfinite(value):
            return str(value)
        if isinstance(value, dict):
            return {key: clean(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [clean(item) for item in value]
        return value

    return json.dumps(clean(payload), indent=2, sort_keys=False)


def plot(document: dict[str, Any], path: str | os.PathLike[str]) -> Path:
    """Draw per-view bars and per-frame curves of every metric that has them; atomic write."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    metrics = {
        name: item for name, item in document["metrics"].items()
        if item.get("breakdown") and any(item["breakdown"].values())
    }  # fmt: skip
    rows = max(len(metrics), 1)
    figure, axes = plt.subplots(rows, 2, figsize=(10, 2.6 * rows), squeeze=False)
    if not metrics:
        axes[0][0].text(0.5, 0.5, "no per-view or per-frame breakdown", ha="center")
    for row, (name, item) in enumerate(metrics.items()):
        per_view = item["breakdown"].get("per_view", {})
        per_frame = item["breakdown"].get("per_frame", {})
        label = _HEADERS.get(name, name)
        if per_view:
            axes[row][0].bar([int(k) for k in per_view], list(per_view.values()), color="tab:blue")
        axes[row][0].set_title(f"{label} per view")
        axes[row][0].set_xlabel("view")
        if per_frame:
            axes[row][1].plot([int(k) for k in per_frame], list(per_frame.values()), marker=".")
        axes[row][1].set_title(f"{label} per frame")
        axes[row][1].set_xlabel("frame")
        for axis in axes[row]:
            axis.xaxis.set_major_locator(MaxNLocator(integer=True))
    figure.tight_layout()
    target = Path(path)
    temporary = target.with_name(f".{target.stem}.tmp{os.getpid()}{target.suffix}")
    figure.savefig(temporary)
    plt.close(figure)
    os.replace(temporary, target)
    return target
