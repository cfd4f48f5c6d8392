"""1 -> 2 Ray workers on the same render job, in one warm Ray session (shared by the benchmarks).

Only the ``bench_*.py`` files of this folder import it. Each run is timed around ``run_render``;
Ray's task timeline gives how long the workers executed tasks during the run, so that
``busy = task time / (workers x wall)`` says whether every worker was kept busy, whatever else
the machine runs. The speed-up itself needs free cores: on the shared machine, read it beside the
load average.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hvg_data.config import RenderConfig
from hvg_data.pipeline import PipelineOptions, run_render

#: Worker counts in order: a warm-up run (starts and imports both worker processes), then
#: alternating 1 and 2 so that a change of the machine's load hits both.
SEQUENCE = (2, 1, 2, 1, 2)


@dataclass(frozen=True)
class Run:
    """One timed render: its worker count, wall seconds and task seconds (all workers)."""

    workers: int
    wall: float
    task_seconds: float

    @property
    def busy(self) -> float:
        """Share of ``workers x wall`` that the workers spent executing tasks."""
        return self.task_seconds / (self.workers * self.wall)


def task_seconds(start: float, stop: float) -> float:
    """Seconds of Ray task execution (all workers) between two ``time.time()`` stamps."""
    import ray

    events: list[dict[str, Any]] = ray.timeline()  # pyright: ignore[reportAssignmentType]
    low, high = start * 1e6, stop * 1e6
    return sum(
        event["dur"] / 1e6
        for event in events
        if event.get("name") == "task:execute" and low <= event["ts"] <= high
    )


def scaling_runs(
    out: Path, config: RenderConfig, count: int, sequence: tuple[int, ...] = SEQUENCE
) -> list[Run]:
    """Render ``count`` synthetic subjects once per entry of ``sequence`` in one Ray session.

    Returns:
        The runs after the first (the warm-up).
    """
    import ray

    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    ray.init(
        num_cpus=max(sequence),
        include_dashboard=False,
        object_store_memory=200 * 1024**2,
        log_to_driver=False,
    )
    runs = []
    try:
        for number, workers in enumerate(sequence):
            start, clock = time.time(), time.perf_counter()
            run_render(
                "synthetic",
                None,
                out / f"run{number}-w{workers}",
                config,
                adapter_options={"count": count},
                options=PipelineOptions(executor="ray", num_workers=workers, progress=False),
            )
            wall = time.perf_counter() - clock
            runs.append(Run(workers, wall, task_seconds(start, time.time())))
    finally:
        ray.shutdown()
    return runs[1:]


def report(runs: list[Run], what: str) -> tuple[float, float]:
    """Print every run and the best-of speed-up; return ``(best 1-worker, best 2-worker)``."""
    one = min(run.wall for run in runs if run.workers == 1)
    two = min(run.wall for run in runs if run.workers == 2)
    listed = ", ".join(f"{r.workers}w {r.wall:.2f} s (busy {r.busy:.0%})" for r in runs)
    print(
        f"\n{what}: {listed}; best 1 worker {one:.2f} s, 2 workers {two:.2f} s, speed-up "
        f"{one / two:.2f}x (load average {os.getloadavg()[0]:.2f})"
    )
    return one, two
