"""``hvg-data render`` on Ray: relative paths under ``uv run``, a quiet console, and a worker
that dies being recorded as that subject's failure (bounded retries) instead of looping."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hvg_data.config import RenderConfig
from hvg_data.pipeline import TASK_MAX_RETRIES, PipelineOptions, run_render
from hvg_data.shards import verify_folder

REPO = Path(__file__).resolve().parents[3]
CHATTER = (
    "INFO",
    "WARNING",
    "deprecated",
    "Token authentication",
    "only received",
    "working_dir",
)


def _command() -> list[str]:
    """The console script, through ``uv run`` when uv is there (what triggers Ray's uv hook)."""
    uv = shutil.which("uv")
    if uv is not None and (REPO / "uv.lock").is_file():
        return [uv, "run", "--no-sync", "--project", str(REPO), "hvg-data"]
    return [str(Path(sys.executable).with_name("hvg-data"))]


@pytest.mark.ray
def test_ray_render_with_a_relative_out_is_quiet_and_equals_local(tmp_path):
    args = [
        "render",
        "--dataset",
        "synthetic",
        "--views",
        "2",
        "--size",
        "32",
        "--shard-size",
        "2",
        "--option",
        "count=3",
        "--executor",
        "ray",
        "--num-workers",
        "2",
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_") and k != "HVG_DEBUG"}
    done = subprocess.run(
        [*_command(), *args, "--out", "out/ray"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=400,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert not [word for word in CHATTER if word in done.stdout + done.stderr], done.stderr
    local = tmp_path / "local"
    run_render(
        "synthetic",
        None,
        local,
        RenderConfig(views=2, size=32, shard_size=2),
        adapter_options={"count": 3},
        options=PipelineOptions(executor="local", progress=False),
    )
    ray_out = tmp_path / "out" / "ray"
    shards = sorted(p.name for p in ray_out.glob("shard-*.h5"))
    assert shards == ["shard-00000.h5", "shard-00001.h5"]
    for name in shards:
        assert (ray_out / name).read_bytes() == (local / name).read_bytes()
    assert not (ray_out / ".parts").exists()


@pytest.mark.slow  # two Ray worker crashes and retries: minutes on 2 cores
@pytest.mark.ray
def test_a_dying_worker_is_that_subjects_failure(tmp_path, crashing_dataset):
    config = RenderConfig(views=2, size=32, shard_size=1)
    out = tmp_path / "ray"
    summary = run_render(
        "crashing",
        None,
        out,
        config,
        adapter_options={"count": 3},
        options=PipelineOptions(
            executor="ray",
            num_workers=2,
            progress=False,
            ray_init={
                "object_store_memory": 200 * 1024**2,
                "runtime_env": {
                    "env_vars": {"PYTHONPATH": str(crashing_dataset), "HVG_TEST_CRASH": "1"}
                },
            },
        ),
    )
    assert summary.exit_code == 3 and summary.samples == 2
    assert [f["subject"] for f in summary.failures] == ["00001"]
    reason = summary.failures[0]["reason"]
    assert "worker rendering it died" in reason and f"{TASK_MAX_RETRIES + 1} times" in reason
    lines = (out / "failures.jsonl").read_text().splitlines()
    assert [json.loads(line)["subject"] for line in lines] == ["00001"]
    assert verify_folder(out).ok
    # The other subjects' shards are exactly what the in-process executor writes.
    local = tmp_path / "local"
    run_render(
        "crashing",
        None,
        local,
        config,
        adapter_options={"count": 3},
        subjects=["00000", "00001", "00002"],
        limit=1,
        options=PipelineOptions(executor="local", progress=False),
    )
    assert (out / "shard-00000.h5").read_bytes() == (local / "shard-00000.h5").read_bytes()
