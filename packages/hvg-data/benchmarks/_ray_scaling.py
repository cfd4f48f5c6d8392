"""1 -> 2 Ray workers on the same render job, in one warm Ray session (shared by the benchmarks).

Only the ``bench_*.py`` files of this folder import it. Each run is timed around ``run_render``;
Ray's task timeline gives how long the workers executed tasks during the run, so that
``busy = task time / (workers x wall)`` says whether every worker was kept busy, whatever else
the machine runs. The speed-up itself needs free cores, so each Ray run is followed by the same
subjects rendered by 1 or 2 plain processes (a warm ``ProcessPoolExecutor`` running
:func:`hvg_data.ray_executor.render_subject_task`, no shard written): the speed-up that the
machine's load allows at that moment, the anchor of the Ray speed-up.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hvg_data.config import RenderConfig
from hvg_data.pipeline import PipelineOptions, make_adapter, run_render
from hvg_data.ray_executor import _adapter_reference, render_subject_task

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


def _subject_tasks(out: Path, config: RenderConfig, count: int) -> list[dict[str, Any]]:
    """The subject tasks the Ray executor would send for ``count`` synthetic subjects."""
    adapter = make_adapter("synthetic", None, {"count": count})
    config = dataclasses.replace(config, adapter=adapter.config())
    out.mkdir(parents=True, exist_ok=True)
    common = {
        "adapter_class": _adapter_reference("synthetic"),
        "root": None,
        "adapter_options": {"count": count},
        "config": config.to_json(),
        "smplx_model_dir": None,
    }
    return [
        {**common, "subject": subject, "shard": 0, "position": n, "part": str(out / f"{n}.npz")}
        for n, subject in enumerate(adapter.subjects())
    ]


def _bare_run(pool: ProcessPoolExecutor, tasks: list[dict[str, Any]], workers: int) -> Run:
    """Render ``tasks`` in ``pool`` with ``workers`` at a time (1: one after the other)."""
    clock = time.perf_counter()
    if workers == 1:
        for task in tasks:
            pool.submit(render_subject_task, task).result()
    else:
        wait([pool.submit(render_subject_task, task) for task in tasks])
    wall = time.perf_counter() - clock
    return Run(workers, wall, float("nan"))


def scaling_runs(
    out: Path, config: RenderConfig, count: int, sequence: tuple[int, ...] = SEQUENCE
) -> tuple[list[Run], list[Run]]:
    """Render ``count`` synthetic subjects once per entry of ``sequence`` in one Ray session.

    Returns:
        The Ray runs and the plain-process runs, both without the first (the warm-up).
    """
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    # As the pipeline does: no packaging of the working directory for a local session (Ray
    # reads the setting when it is imported, so before the import).
    os.environ.setdefault("RAY_ENABLE_UV_RUN_RUNTIME_ENV", "0")
    import ray
    import torch

    ray.init(
        num_cpus=max(sequence),
        include_dashboard=False,
        object_store_memory=200 * 1024**2,
        log_to_driver=False,
    )
    runs, bare = [], []
    tasks = _subject_tasks(out / "bare", config, count)
    spawn = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(
        max(sequence), mp_context=spawn, initializer=torch.set_num_threads, initargs=(1,)
    )
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
            bare.append(_bare_run(pool, tasks, workers))
    finally:
        pool.shutdown()
        ray.shutdown()
    return runs[1:], bare[1:]


def _best(runs: list[Run], workers: int) -> float:
    return min(run.wall for run in runs if run.workers == workers)


def report(runs: list[Run], bare: list[Run], what: str) -> tuple[float, float]:
    """Print every run and the best-of speed-ups; return ``(Ray speed-up, plain speed-up)``."""
    one, two = _best(runs, 1), _best(runs, 2)
    anchor = _best(bare, 1) / _best(bare, 2)
    listed = ", ".join(f"{r.workers}w {r.wall:.2f} s (busy {r.busy:.0%})" for r in runs)
    plain = ", ".join(f"{r.workers}w {r.wall:.2f} s" for r in bare)
    print(
        f"\n{what}: Ray {listed}; best 1 worker {one:.2f} s, 2 workers {two:.2f} s, speed-up "
        f"{one / two:.2f}x. Same subjects in plain processes (render + part only): {plain}, "
        f"speed-up {anchor:.2f}x. Ray / plain: {one / two / anchor:.2f} "
        f"(load average {os.getloadavg()[0]:.2f})"
    )
    return one / two, anchor
