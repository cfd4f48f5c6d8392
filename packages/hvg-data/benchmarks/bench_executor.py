"""Render executors: Ray's fixed start-up cost, where ``--executor auto`` switches, 1 -> 2 workers.

``test_ray_startup_cost`` renders the same small job (4 synthetic subjects, 2 views, 32²) in a
fresh interpreter with ``--executor local`` and ``--executor ray`` (local Ray of 2 CPUs started
and stopped by the command); the difference is Ray's fixed cost (import, ``ray.init``, first
task, shutdown), the anchor of :data:`hvg_data.pipeline.RAY_STARTUP_S`. On the shared 2-core
machine at load average 9: local 29.9 s, ray 67.6 s, Ray start-up 37.7 s (a bare Ray start, two
tasks and shutdown: 32-46 s at load 9-11).

``test_ray_one_vs_two_workers_one_shard`` renders 8 subjects that form *one* shard with 1 and 2
Ray workers in one Ray session: with one task per subject both workers stay busy even when the
job has fewer shards than workers (see ``_ray_scaling.py`` for what is measured).

Both start Ray and take minutes: marked ``slow`` (run with ``-m slow --benchmark-enable``).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hvg_data.config import RenderConfig
from hvg_data.pipeline import (
    RAY_STARTUP_S,
    PipelineOptions,
    choose_executor,
    estimated_render_seconds,
    run_render,
)


def _timed_cli(cwd: Path, out: str, executor: str) -> float:
    script = Path(sys.executable).with_name("hvg-data")
    args = [
        str(script),
        "render",
        "--dataset",
        "synthetic",
        "--views",
        "2",
        "--size",
        "32",
        "--option",
        "count=4",
        "--num-workers",
        "2",
        "--executor",
        executor,
        "--out",
        out,
    ]
    start = time.perf_counter()
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return time.perf_counter() - start


@pytest.mark.slow
@pytest.mark.ray
def test_ray_startup_cost(tmp_path):
    """Ray's fixed cost = (ray run) - (local run) of a job whose rendering takes < 1 s."""
    local = _timed_cli(tmp_path, "local", "local")
    on_ray = _timed_cli(tmp_path, "ray", "ray")
    startup = on_ray - local
    load = os.getloadavg()[0]
    small = RenderConfig(views=2, size=32)
    print(
        f"\nsame 4-subject job: local {local:.1f} s, ray {on_ray:.1f} s -> Ray start-up "
        f"{startup:.1f} s (load average {load:.2f}); threshold constant {RAY_STARTUP_S:.0f} s; "
        f"estimated serial rendering {estimated_render_seconds(4, small, 1):.2f} s"
    )
    options = PipelineOptions(num_workers=2)
    assert choose_executor(options, 4, small, 1) == "local"
    assert choose_executor(options, 5000, RenderConfig(views=8, size=576), 1) == "ray"
    assert startup > 1.0  # Ray costs seconds, which is why small jobs stay in-process


@pytest.mark.slow
@pytest.mark.ray
def test_ray_one_vs_two_workers_one_shard(tmp_path, ray_scaling):
    """1 -> 2 Ray workers on *one* shard of 8 subjects (8 views at 576²): one task per subject.

    The subject tasks compress their images chunk by chunk into the part; the assembly task
    only copies chunks: 0.09-0.30 s for the 8 subjects (load average 7) where the driver used
    to spend ~0.25 s per subject loading 24 MB parts and gzip-writing them, while the workers
    waited.
    """
    config = RenderConfig(views=8, size=576, shard_size=8)
    runs, bare = ray_scaling.scaling_runs(tmp_path, config, count=8)
    speedup, _ = ray_scaling.report(runs, bare, "one shard of 8 subjects x 8 views at 576²")
    assert min(run.busy for run in runs if run.workers == 2) > 0.8  # both workers kept busy
    # Parts compressed in the workers, copied into the shard: the in-process executor's bytes.
    local = tmp_path / "local"
    options = PipelineOptions(executor="local", progress=False)
    run_render("synthetic", None, local, config, adapter_options={"count": 8}, options=options)
    last = tmp_path / f"run{len(runs)}-w{runs[-1].workers}" / "shard-00000.h5"
    assert last.read_bytes() == (local / "shard-00000.h5").read_bytes()
    assert speedup > 1.2
