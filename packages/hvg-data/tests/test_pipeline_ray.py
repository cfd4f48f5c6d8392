"""The ``ray`` executor (:mod:`hvg_data.ray_executor`): workers write the shards, same bytes as
``local``; whole-shard and per-subject tasks; ``num_workers`` bounds the tasks in flight; a
whole-shard task whose worker keeps dying is split so that only the guilty subject fails."""

from __future__ import annotations

import dataclasses
import os
import time
from pathlib import Path
from typing import Any

import h5py
import pytest
from hvg_core.errors import MissingResourceError

from hvg_data import ray_executor
from hvg_data.config import RenderConfig
from hvg_data.pipeline import (
    TASK_MAX_RETRIES,
    PipelineOptions,
    RenderJob,
    RenderSummary,
    ShardWriter,
    make_adapter,
    run_render,
)
from hvg_data.ray_executor import _adapter_reference, render_subject_task, write_shard_task
from hvg_data.shards import Manifest, sha256_of, verify_folder
from hvg_data.testing import make_thuman2_fixture

LOCAL = PipelineOptions(executor="local", progress=False)


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def _common(dataset: str, root: Path | None, config: RenderConfig) -> dict[str, Any]:
    """The task keys that ``_Scheduler`` sends with every task, and the config hash."""
    adapter = make_adapter(dataset, None if root is None else str(root), {})
    config = dataclasses.replace(config, adapter=adapter.config())
    return {
        "adapter_class": _adapter_reference(dataset),
        "root": None if root is None else str(root),
        "adapter_options": {},
        "config": config.to_json(),
        "smplx_model_dir": None,
        "dataset": dataset,
        "config_hash": config.hash(),
    }


def test_worker_tasks_write_the_bytes_of_the_local_executor(tmp_path):
    """Whole-shard task and subject tasks + assembly give the local shard, failures included."""
    root = make_thuman2_fixture(tmp_path / "data", subjects=("0000", "0001", "0002"))
    (root / "0001" / "material0.jpeg").unlink()  # a failed subject in the middle of the shard
    config = RenderConfig(views=2, size=32, shard_size=3)
    local = tmp_path / "local"
    run_render("thuman2", root, local, config, options=LOCAL)
    expected = (local / "shard-00000.h5").read_bytes()
    common = _common("thuman2", root, config)
    assert common["config_hash"] == Manifest.load(local).config_hash
    subjects = ["0000", "0001", "0002"]
    shard = {**common, "shard": 0, "subjects": subjects}

    whole = write_shard_task(
        {**shard, "parts": {}, "failures": {}, "file": str(tmp_path / "whole.h5")}
    )
    assert (tmp_path / "whole.h5").read_bytes() == expected
    assert whole["sha256"] == sha256_of(tmp_path / "whole.h5") and whole["bytes"] == len(expected)
    assert (whole["status"], whole["samples"], whole["rendered"]) == ("ok", 2, 3)
    assert [f["subject"] for f in whole["failures"]] == ["0001"]

    results = [
        render_subject_task(
            {
                **common,
                "subject": subject,
                "shard": 0,
                "position": position,
                "part": str(tmp_path / f"part{position}.npz"),
            }
        )
        for position, subject in enumerate(subjects)
    ]
    assert [r["status"] for r in results] == ["ok", "failed", "ok"]
    assembled = write_shard_task(
        {
            **shard,
            "parts": {0: str(tmp_path / "part0.npz"), 2: str(tmp_path / "part2.npz")},
            "failures": {1: results[1]["failure"]},
            "file": str(tmp_path / "assembled.h5"),
        }
    )
    assert (tmp_path / "assembled.h5").read_bytes() == expected
    assert (assembled["rendered"], assembled["failures"]) == (0, whole["failures"])
    assert not list(tmp_path.glob("part*.npz"))  # the assembly deletes its parts


def _scheduler(tmp_path: Path, shards: dict[int, list[str]], workers: int, size: int = 32) -> Any:
    config = RenderConfig(views=8, size=size, shard_size=max(len(g) for g in shards.values()))
    manifest = Manifest("synthetic", config.to_json(), "hash")
    writer = ShardWriter(
        tmp_path, "synthetic", config, "hash", manifest, RenderSummary(tmp_path), None
    )
    job = RenderJob("synthetic", 1, None, None, {}, config, None, shards)
    return ray_executor._Scheduler(job, LOCAL, writer, tmp_path, workers)


def test_whole_shard_tasks_need_two_shards_per_worker_and_the_memory(tmp_path, monkeypatch):
    four = {index: [f"{2 * index:05d}", f"{2 * index + 1:05d}"] for index in range(4)}
    assert _scheduler(tmp_path, four, workers=2).whole_shards()
    assert not _scheduler(tmp_path, four, workers=3).whole_shards()
    # Two workers each holding a shard of two 8-view 1024² subjects: ~1.6 GB with renderer buffers.
    monkeypatch.setattr(ray_executor, "available_memory_bytes", lambda: 2 * 1024**3)
    assert _scheduler(tmp_path, four, workers=2, size=256).whole_shards()
    assert not _scheduler(tmp_path, four, workers=2, size=1024).whole_shards()


def _overlaps(start: float, stop: float) -> int:
    """Most Ray tasks that executed at the same time between two ``time.time()`` stamps."""
    import ray

    events: list[dict[str, Any]] = ray.timeline()  # pyright: ignore[reportAssignmentType]
    edges = []
    for event in events:
        if event.get("name") == "task:execute" and start * 1e6 <= event["ts"] <= stop * 1e6:
            edges += [(event["ts"], 1), (event["ts"] + event["dur"], -1)]
    running = most = 0
    for _, step in sorted(edges):
        running += step
        most = max(most, running)
    return most


@pytest.mark.slow  # a Ray session and four renders
@pytest.mark.ray
def test_whole_shard_and_per_subject_tasks_equal_local_and_workers_bound_them(tmp_path):
    import ray

    config = RenderConfig(views=2, size=32, shard_size=2)
    local = tmp_path / "local"
    run_render("synthetic", None, local, config, adapter_options={"count": 4}, options=LOCAL)
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        overlaps = {}
        # 2 shards: whole-shard tasks for 1 worker, one task per subject for 2 workers.
        for workers in (2, 1):
            out = tmp_path / f"ray{workers}"
            start = time.time()
            summary = run_render(
                "synthetic",
                None,
                out,
                config,
                adapter_options={"count": 4},
                options=PipelineOptions(executor="ray", num_workers=workers, progress=False),
            )
            overlaps[workers] = _overlaps(start, time.time())
            assert (summary.shards_written, summary.samples, summary.exit_code) == (2, 4, 0)
            assert _files(out) == _files(local)  # shards, manifest and failures.jsonl
            assert not (out / ".parts").exists()
        # A resource every subject needs is missing: the task says so, the run stops.
        root = make_thuman2_fixture(tmp_path / "data", subjects=("0000",))
        with pytest.raises(MissingResourceError, match=r"SMPLX_MALE\.npz"):
            run_render(
                "thuman2",
                root,
                tmp_path / "missing",
                RenderConfig(views=2, size=32, body_model="smplx"),
                options=PipelineOptions(
                    executor="ray", progress=False, smplx_model_dir=str(tmp_path)
                ),
            )
        assert not (tmp_path / "missing" / ".parts").exists()
    finally:
        ray.shutdown()
    assert overlaps[1] == 1  # one worker: never two tasks at once, in a 2-CPU session
    assert overlaps[2] <= 2


@pytest.mark.slow  # six Ray worker crashes and restarts: minutes on 2 cores
@pytest.mark.ray
def test_a_whole_shard_whose_worker_dies_loses_only_the_guilty_subject(tmp_path, crashing_dataset):
    config = RenderConfig(views=2, size=32, shard_size=2)
    out = tmp_path / "ray"
    summary = run_render(
        "crashing",
        None,
        out,
        config,
        adapter_options={"count": 4},
        options=PipelineOptions(
            executor="ray",
            num_workers=1,  # 2 shards >= 2 x 1 worker: whole-shard tasks
            progress=False,
            ray_init={
                "object_store_memory": 200 * 1024**2,
                "runtime_env": {
                    "env_vars": {"PYTHONPATH": str(crashing_dataset), "HVG_TEST_CRASH": "1"}
                },
            },
        ),
    )
    assert (summary.exit_code, summary.samples) == (3, 3)
    assert [f["subject"] for f in summary.failures] == ["00001"]
    reason = summary.failures[0]["reason"]
    assert "worker rendering it died" in reason and f"{TASK_MAX_RETRIES + 1} times" in reason
    assert verify_folder(out).ok
    with h5py.File(out / "shard-00000.h5") as handle:
        samples = handle["samples"]
        assert isinstance(samples, h5py.Group)
        kept = [str(samples[name].attrs["subject"]) for name in samples]
    assert kept == ["00000"]
    local = tmp_path / "local"
    run_render("crashing", None, local, config, adapter_options={"count": 4}, options=LOCAL)
    assert (out / "shard-00001.h5").read_bytes() == (local / "shard-00001.h5").read_bytes()
