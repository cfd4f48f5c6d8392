"""``hvg-data render`` as users run it: the console script, relative paths, real exit codes.

Each test is one probe of the reliability review (issues 12 and 18): relative output paths, bad
input exiting 2 before any work, the output-folder lock, ``--limit`` never deleting shards
without ``--prune``, failed subjects retried, corrupt or unlisted shards re-rendered, exit codes.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
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
from hvg_data.shards import Manifest, verify_folder
from hvg_data.testing import make_thuman2_fixture

SCRIPT = Path(sys.executable).with_name("hvg-data")
SMALL = ["--dataset", "synthetic", "--views", "2", "--size", "32", "--shard-size", "1"]


def hvg_data(cwd: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "HVG_DEBUG"}
    return subprocess.run(
        [str(SCRIPT), *args], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env
    )


def shard_bytes(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob("shard-*.h5"))}


def test_relative_out_renders_and_verifies(tmp_path):
    done = hvg_data(tmp_path, "render", *SMALL, "--option", "count=2", "--out", "out/x")
    assert done.returncode == 0, done.stderr
    out = tmp_path / "out" / "x"
    assert sorted(shard_bytes(out)) == ["shard-00000.h5", "shard-00001.h5"]
    assert str(out) in done.stdout  # the resolved folder is reported
    assert "executor local" in done.stdout  # two tiny subjects: Ray would not pay
    verified = hvg_data(tmp_path, "verify", "out/x")
    assert verified.returncode == 0 and "ok: 2 shards, 2 samples" in verified.stdout


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--num-workers", "0"], "--num-workers"),
        (["--limit", "-3"], "--limit"),
        (["--option", "colour=red"], "'colour'"),
        (["--option", "count=abc"], "'count'"),
        (["--size", "4096", "--views", "64", "--option", "frames=64"], "'size'"),
        (["--executor", "threads"], "--executor"),
    ],
)
def test_bad_input_exits_2_before_any_work(tmp_path, args, named):
    done = hvg_data(tmp_path, "render", *SMALL, "--out", "out", *args)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert named in done.stderr
    assert len(done.stderr.strip().splitlines()) <= 4  # a message, not a traceback
    assert not (tmp_path / "out").exists()


def test_unknown_option_lists_the_valid_ones(tmp_path):
    done = hvg_data(tmp_path, "render", *SMALL, "--out", "out", "--option", "colour=red")
    assert done.returncode == 2
    assert "valid options: count, frames, motion, seed" in done.stderr


def test_a_locked_folder_names_its_holder_and_a_dead_holder_is_taken_over(tmp_path):
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from hvg_core.folder_lock import FolderLock\n"
            "FolderLock('out', 'test holder').acquire()\n"
            "print('locked', flush=True)\n"
            "time.sleep(120)\n",
        ],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        refused = hvg_data(tmp_path, "render", *SMALL, "--option", "count=1", "--out", "out")
        assert refused.returncode == 2, refused.stderr
        assert f"pid {holder.pid}" in refused.stderr and "test holder" in refused.stderr
        assert not list((tmp_path / "out").glob("shard-*"))
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    # The killed holder's record is still in the lock file: a stale lock, taken over.
    assert f'"pid": {holder.pid}' in (tmp_path / "out" / ".hvg.lock").read_text()
    done = hvg_data(tmp_path, "render", *SMALL, "--option", "count=1", "--out", "out")
    assert done.returncode == 0, done.stderr
    assert verify_folder(tmp_path / "out").ok


def test_limit_never_deletes_shards_without_prune(tmp_path):
    full = hvg_data(tmp_path, "render", *SMALL, "--option", "count=3", "--out", "out")
    assert full.returncode == 0, full.stderr
    before = shard_bytes(tmp_path / "out")
    assert len(before) == 3
    refused = hvg_data(
        tmp_path, "render", *SMALL, "--option", "count=3", "--out", "out", "--limit", "1"
    )
    assert refused.returncode == 2 and "--prune" in refused.stderr
    assert shard_bytes(tmp_path / "out") == before
    assert verify_folder(tmp_path / "out").ok
    pruned = hvg_data(
        tmp_path, "render", *SMALL, "--option", "count=3", "--out", "out", "--limit", "1", "--prune"
    )
    assert pruned.returncode == 0, pruned.stderr
    assert shard_bytes(tmp_path / "out") == {"shard-00000.h5": before["shard-00000.h5"]}
    assert verify_folder(tmp_path / "out").ok


def _thuman2_args(root_name: str, *extra: str) -> list[str]:
    return [
        "render",
        "--dataset",
        "thuman2",
        "--root",
        "data/" + root_name,
        "--out",
        "out",
        "--views",
        "2",
        "--size",
        "32",
        "--shard-size",
        "1",
        "--body-model",
        "builtin",
        *extra,
    ]


def test_exit_codes_and_failures_retried_after_the_fix(tmp_path):
    root = make_thuman2_fixture(tmp_path / "data", subjects=("0000", "0001"))
    assert root.parent == tmp_path / "data"
    (fit,) = (tmp_path / "data").rglob("0001/smplx_param.pkl")
    fits = fit.parent.parent
    saved = fit.read_bytes()
    fit.unlink()
    some = hvg_data(tmp_path, *_thuman2_args(root.name))
    assert some.returncode == 3, some.stderr
    assert "1 subject(s) failed" in some.stderr and "0001" in some.stderr
    failures = (tmp_path / "out" / "failures.jsonl").read_text().splitlines()
    assert [json.loads(line)["subject"] for line in failures] == ["0001"]
    # The input is fixed: --retry-failed re-renders only the failed subject's shard.
    fit.write_bytes(saved)
    kept = (tmp_path / "out" / "shard-00000.h5").read_bytes()
    retried = hvg_data(tmp_path, *_thuman2_args(root.name, "--retry-failed"))
    assert retried.returncode == 0, retried.stderr
    assert "(1 written, 1 already complete," in retried.stdout
    assert (tmp_path / "out" / "shard-00000.h5").read_bytes() == kept
    assert (tmp_path / "out" / "failures.jsonl").read_text() == ""
    # Every subject failing is a failed run (exit 1), never 0.
    for name in ("0000", "0001"):
        (fits / name / "smplx_param.pkl").unlink()
    every = hvg_data(tmp_path, *_thuman2_args(root.name, "--out", "out2"))
    assert every.returncode == 1, every.stderr
    assert "2 subject(s) failed" in every.stderr


def test_corrupt_or_unlisted_shards_are_rerendered_never_adopted(tmp_path):
    config = RenderConfig(views=2, size=32, shard_size=1)
    local = PipelineOptions(executor="local", progress=False)

    def render() -> int:
        summary = run_render(
            "synthetic", None, tmp_path, config, adapter_options={"count": 2}, options=local
        )
        assert summary.exit_code == 0
        return summary.shards_written

    assert render() == 2
    good = shard_bytes(tmp_path)
    manifest_path = tmp_path / "manifest.json"

    def drop_entry(name: str) -> None:
        data = json.loads(manifest_path.read_text())
        data["shards"] = [entry for entry in data["shards"] if entry["file"] != name]
        manifest_path.write_text(json.dumps(data))

    # Same size, one flipped byte: the digest no longer matches.
    damaged = bytearray(good["shard-00001.h5"])
    damaged[len(damaged) // 2] ^= 0xFF
    (tmp_path / "shard-00001.h5").write_bytes(bytes(damaged))
    assert render() == 1
    assert shard_bytes(tmp_path) == good
    # Corrupt and unlisted (manifest entry deleted): re-rendered, not adopted.
    (tmp_path / "shard-00001.h5").write_bytes(bytes(damaged))
    drop_entry("shard-00001.h5")
    assert render() == 1
    # A well-formed shard of another subject under this name, unlisted: re-rendered too.
    (tmp_path / "shard-00001.h5").write_bytes(good["shard-00000.h5"])
    drop_entry("shard-00001.h5")
    assert render() == 1
    assert shard_bytes(tmp_path) == good
    assert verify_folder(tmp_path).ok
    assert sorted(Manifest.load(tmp_path).shards) == ["shard-00000.h5", "shard-00001.h5"]


def test_auto_executor_uses_ray_only_when_it_pays():
    small = RenderConfig(views=8, size=64)
    scans = RenderConfig(views=8, size=576)
    two = PipelineOptions(num_workers=2)
    assert choose_executor(two, 8, small, 1) == "local"  # the demo's data stage
    assert choose_executor(two, 4, scans, 1) == "local"
    assert choose_executor(two, 500, scans, 1) == "ray"
    assert choose_executor(PipelineOptions(num_workers=1), 500, scans, 1) == "local"
    assert choose_executor(two, 1, scans, 48) == "local"  # one subject: one worker
    assert choose_executor(PipelineOptions(address="auto"), 1, small, 1) == "ray"
    assert choose_executor(PipelineOptions(executor="ray"), 1, small, 1) == "ray"
    assert choose_executor(PipelineOptions(executor="local"), 500, scans, 1) == "local"
    # The switch sits where the saved half of the serial time equals Ray's start-up.
    per_subject = estimated_render_seconds(1, scans, 1)
    edge = int(2 * RAY_STARTUP_S / per_subject)
    assert choose_executor(two, edge - 1, scans, 1) == "local"
    assert choose_executor(two, edge + 2, scans, 1) == "ray"
