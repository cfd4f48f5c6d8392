"""``metrics.jsonl``: one JSON line per optimiser step, continued exactly across resumes.

Each line holds at least ``step`` (1-based: the step just completed) and ``loss``, plus ``lr``,
``grad_norm``, ``samples_per_s``, ``sigma_loss`` (mean loss per σ bin, ``null`` for an empty
bin) and ``time``. Lines are appended and flushed per step; a resumed run first rewrites the file
(atomically) without the lines after the checkpoint it resumes from, and without a torn last
line from a kill, so the file ends up holding every step exactly once.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

METRICS_FILE = "metrics.jsonl"


def read_metrics(path: str | Path) -> list[dict[str, Any]]:
    """Parsed lines of a metrics file; a torn (unparseable) last line is skipped."""
    file = Path(path)
    if not file.is_file():
        return []
    records = []
    lines = file.read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            if number == len(lines) - 1:
                break  # torn by a kill in the middle of a write
            raise
    return records


def truncate_metrics(
    path: str | Path, *, keep_through_step: int, source: str | Path | None = None
) -> int:
    """Rewrite ``path`` atomically with the records of steps ``1 .. keep_through_step``.

    Args:
        path: Metrics file of the run being resumed into.
        keep_through_step: Last step to keep (the checkpoint's step).
        source: Read from this file instead (resuming a run into a new directory).

    Returns:
        Number of records kept.
    """
    target = Path(path)
    records = [r for r in read_metrics(source or target) if int(r["step"]) <= keep_through_step]
    temporary = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    with open(temporary, "w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, target)
    return len(records)


class MetricsWriter:
    """Appends one line per step and flushes it (a killed run loses at most a torn line)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._handle = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 (closed in close())

    def write(self, record: dict[str, Any]) -> None:
        """Append ``record`` as one JSON line."""
        self._handle.write(json.dumps(record) + "\n")
        self._handle.flush()

    def close(self) -> None:
        """Close the file."""
        self._handle.close()


def plot_loss_curve(metrics_path: str | Path, output: str | Path, *, smoothing: int = 20) -> Path:
    """Write a PNG of loss against step (raw and a running mean), atomically."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    records = read_metrics(metrics_path)
    steps = [r["step"] for r in records]
    losses = [r["loss"] for r in records]
    window = max(1, min(smoothing, len(losses) // 5 or 1))
    smoothed = [
        sum(losses[max(0, i - window + 1) : i + 1]) / len(losses[max(0, i - window + 1) : i + 1])
        for i in range(len(losses))
    ]
    figure, axis = plt.subplots(figsize=(6, 3.5), dpi=100)
    axis.plot(steps, losses, color="0.7", linewidth=0.8, label="loss")
    axis.plot(steps, smoothed, color="C0", linewidth=1.5, label=f"mean of {window}")
    axis.set_xlabel("step")
    axis.set_ylabel("EDM loss (v-MSE)")
    axis.set_yscale("log")
    axis.legend()
    axis.grid(alpha=0.3)
    figure.tight_layout()
    target = Path(output)
    temporary = target.with_name(f".{target.stem}.tmp-{os.getpid()}.png")
    figure.savefig(temporary)
    plt.close(figure)
    os.replace(temporary, target)
    return target
