"""metrics.jsonl: torn lines, truncation on resume, the loss-curve PNG."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hvg_model.training.metrics_log import (
    MetricsWriter,
    plot_loss_curve,
    read_metrics,
    truncate_metrics,
)


def _write(path: Path, steps: range) -> None:
    writer = MetricsWriter(path)
    for step in steps:
        writer.write({"step": step, "loss": 1.0 / step})
    writer.close()


def test_truncate_keeps_steps_up_to_the_checkpoint_and_drops_a_torn_line(tmp_path: Path) -> None:
    path = tmp_path / "metrics.jsonl"
    _write(path, range(1, 8))
    with open(path, "a", encoding="utf-8") as handle:
        handle.write('{"step": 8, "lo')  # killed mid-write
    assert [r["step"] for r in read_metrics(path)] == list(range(1, 8))
    assert truncate_metrics(path, keep_through_step=5) == 5
    _write(path, range(6, 9))
    assert [r["step"] for r in read_metrics(path)] == list(range(1, 9))


def test_truncate_from_another_run(tmp_path: Path) -> None:
    old, new = tmp_path / "old.jsonl", tmp_path / "new.jsonl"
    _write(old, range(1, 6))
    truncate_metrics(new, keep_through_step=3, source=old)
    assert [r["step"] for r in read_metrics(new)] == [1, 2, 3]


def test_a_corrupt_line_in_the_middle_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "metrics.jsonl"
    path.write_text('{"step": 1, "loss": 1}\nnot json\n{"step": 2, "loss": 1}\n', encoding="utf-8")
    with pytest.raises(json.JSONDecodeError):
        read_metrics(path)


def test_loss_curve_png(tmp_path: Path) -> None:
    path = tmp_path / "metrics.jsonl"
    _write(path, range(1, 30))
    image = plot_loss_curve(path, tmp_path / "loss_curve.png")
    assert image.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
