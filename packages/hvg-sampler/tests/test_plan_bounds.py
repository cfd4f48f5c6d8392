"""``hvg-sampler plan`` sizes a plan from its options before laying it out."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from hvg_sampler.cli import MAX_PLAN_WINDOWS_PER_STEP, window_bound


def test_the_bound_is_never_below_the_planned_windows() -> None:
    from hvg_sampler.build import build_sampler

    for frames, views, frame_window, overlap in [(16, 4, 24, 8), (200, 48, 24, 8), (300, 4, 2, 1)]:
        sampler = build_sampler(
            "hvg", frame_window=frame_window, frame_overlap=overlap, num_steps=2
        )
        report = sampler.cost(frames, views, num_steps=2)
        per_step = report.to_json()["calls_per_step"]
        assert per_step <= window_bound(frames, views, frame_window, overlap, 6, 2)


ARGS = ["--frames", "1000000", "--views", "4", "--frame-window", "2", "--frame-overlap", "1"]


@pytest.mark.integration
def test_a_million_frames_with_a_two_frame_window_is_refused_up_front(tmp_path: Path) -> None:
    start = time.monotonic()
    result = subprocess.run(
        [str(Path(sys.executable).with_name("hvg-sampler")), "plan", *ARGS],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2, result.stderr
    assert "field '--frames'" in result.stderr and str(MAX_PLAN_WINDOWS_PER_STEP) in result.stderr
    assert time.monotonic() - start < 60
