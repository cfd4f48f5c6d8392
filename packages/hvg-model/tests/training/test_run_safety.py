"""The trainer as the user runs it: bad shards refused, NaN stops, one trainer per run directory,
restarts after a kill before the first checkpoint, resume along the run's own lineage.

Each command is a subprocess of the console script with relative paths, checked by exit code.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from hvg_core.folder_lock import DEFAULT_LOCK_NAME as LOCK_FILE
from hvg_core.folder_lock import FolderLock
from safetensors.torch import load_file

from hvg_model.training import checkpoint as ckpt
from hvg_model.training.config import load_config
from hvg_model.training.loop import NonFiniteLossError
from hvg_model.training.metrics_log import read_metrics
from hvg_model.training.run import train

FAULT_RUNNER = Path(__file__).with_name("fault_runner.py")


def _hvg_model(cwd: Path, *args: str, fault: str | None = None) -> subprocess.CompletedProcess:
    launcher = [str(FAULT_RUNNER), fault] if fault else ["-m", "hvg_model.cli"]
    return subprocess.run(
        [sys.executable, *launcher, *args],
        cwd=cwd,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
        capture_output=True,
        text=True,
        timeout=600,
    )


def _train_args(svd: Path, *extra: str) -> list[str]:
    return ["train", "--config", "tiny", "--svd-dir", str(svd), *extra]


def _procedural(*extra: str) -> list[str]:
    return ["--set", "data.dataset=procedural", *extra]


def _steps(run: Path) -> list[int]:
    return [int(record["step"]) for record in read_metrics(run / "metrics.jsonl")]


def _copy_shards(source: Path, target: Path) -> Path:
    shutil.copytree(source, target)
    return target


# ----------------------------------------------------------------------------- shard integrity


@pytest.mark.integration
def test_a_shard_that_fails_its_checksum_is_refused_before_training(
    synthetic_shards: Path, tiny_svd_dir: Path, tmp_path: Path
) -> None:
    shards = _copy_shards(synthetic_shards, tmp_path / "shards")
    shard = next(shards.glob("*.h5"))
    data = bytearray(shard.read_bytes())
    data[-100] ^= 0xFF  # same size, different bytes
    shard.write_bytes(bytes(data))
    result = _hvg_model(tmp_path, *_train_args(tiny_svd_dir, "--data", "shards", "--out", "run"))
    assert result.returncode == 2, result.stderr
    assert shard.name in result.stderr and "'sha256'" in result.stderr
    assert not (tmp_path / "run" / "metrics.jsonl").exists()


@pytest.mark.integration
def test_a_manifest_entry_outside_the_shard_folder_is_refused(
    synthetic_shards: Path, tiny_svd_dir: Path, tmp_path: Path
) -> None:
    # Absolute paths, folders and symbolic links out: hvg-data's test_training_integrity.py.
    entry = "../outside.h5"
    shards = _copy_shards(synthetic_shards, tmp_path / "data" / "shards")
    manifest_path = shards / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    original = manifest["shards"][0]["file"]
    shutil.copy(shards / original, tmp_path / "data" / "outside.h5")
    manifest["shards"][0]["file"] = entry
    manifest_path.write_text(json.dumps(manifest))
    result = _hvg_model(
        tmp_path, *_train_args(tiny_svd_dir, "--data", "data/shards", "--out", "run")
    )
    assert result.returncode == 2, result.stderr
    assert entry in result.stderr and "shards.file" in result.stderr


def test_a_nan_loss_stops_training_before_the_update_and_keeps_the_last_good_checkpoint(
    tiny_svd_dir: Path, tmp_path: Path
) -> None:
    run = tmp_path / "run"
    config = load_config(
        "tiny",
        [
            f"model.svd_dir={tiny_svd_dir}",
            "data.dataset=procedural",
            "schedule.max_steps=4",
            "schedule.checkpoint_every=1",
            "optim.lr=1e30",
            "optim.grad_clip=0",
        ],
    )
    with pytest.raises(NonFiniteLossError) as caught:
        train(config, run)
    assert (
        caught.value.step == 2 and caught.value.last_good == run / "checkpoints" / "step-00000001"
    )
    assert [path.name for path in ckpt.list_checkpoints(run)] == ["step-00000001"]
    assert _steps(run) == [1]


@pytest.mark.slow
@pytest.mark.integration
def test_a_nan_loss_stops_with_exit_1_and_keeps_the_last_good_checkpoint(
    tiny_svd_dir: Path, tmp_path: Path
) -> None:
    # lr 1e30 without clipping: step 1 is finite, its update blows the weights up, step 2 is NaN.
    result = _hvg_model(
        tmp_path,
        *_train_args(
            tiny_svd_dir,
            "--out",
            "run",
            "--max-steps",
            "4",
            *_procedural("--set", "optim.lr=1e30", "--set", "optim.grad_clip=0"),
            "--set",
            "schedule.checkpoint_every=1",
        ),
    )
    assert result.returncode == 1, result.stderr
    assert "step 2" in result.stderr and "not finite" in result.stderr
    run = tmp_path / "run"
    assert [path.name for path in ckpt.list_checkpoints(run)] == ["step-00000001"]
    assert "step-00000001" in result.stderr
    weights = load_file(run / "checkpoints" / "step-00000001" / "model.safetensors")
    assert all(torch.isfinite(value).all() for value in weights.values())
    assert _steps(run) == [1]


# ----------------------------------------------------------------------------- run directories


@pytest.mark.integration
def test_a_second_trainer_into_a_locked_run_directory_names_the_holder(
    tiny_svd_dir: Path, tmp_path: Path
) -> None:
    with FolderLock(tmp_path / "run", "a test holding the run"):
        result = _hvg_model(
            tmp_path, *_train_args(tiny_svd_dir, "--out", "run", "--max-steps", "1")
        )
    assert result.returncode == 2, result.stderr
    assert f"pid {os.getpid()}" in result.stderr and socket.gethostname() in result.stderr
    assert not (tmp_path / "run" / "metrics.jsonl").exists()


@pytest.mark.slow
@pytest.mark.integration
def test_kill_9_before_the_first_checkpoint_then_resume_starts_afresh(
    tiny_svd_dir: Path, tmp_path: Path
) -> None:
    args = _train_args(
        tiny_svd_dir,
        "--out",
        "run",
        "--max-steps",
        "2",
        *_procedural("--set", "schedule.checkpoint_every=10"),
    )
    killed = _hvg_model(tmp_path, *args, fault="after-step:1")
    assert killed.returncode == -9, killed.stderr
    run = tmp_path / "run"
    assert _steps(run) == [1] and ckpt.list_checkpoints(run) == []
    dead_pid = json.loads((run / LOCK_FILE).read_text())["pid"]
    resumed = _hvg_model(tmp_path, *args, "--resume", "run")
    assert resumed.returncode == 0, resumed.stderr
    assert f"lock left by pid {dead_pid}" in resumed.stderr
    assert "starting it again from step 0" in resumed.stderr
    assert _steps(run) == [1, 2]
    assert [path.name for path in ckpt.list_checkpoints(run)] == ["step-00000002"]


def _tiny(svd: Path, max_steps: int) -> object:
    return load_config(
        "tiny",
        [
            f"model.svd_dir={svd}",
            "data.dataset=procedural",
            f"schedule.max_steps={max_steps}",
            "schedule.checkpoint_every=1",
            "schedule.keep_checkpoints=10",
        ],
    )


def test_rerunning_a_run_killed_before_its_first_checkpoint_starts_it_again(
    tiny_svd_dir: Path, tmp_path: Path
) -> None:
    # What a kill -9 after step 1 leaves: a step logged, no checkpoint, a lock file of a dead pid.
    run = tmp_path / "run"
    run.mkdir()
    (run / "metrics.jsonl").write_text(json.dumps({"step": 1, "loss": 0.5}) + "\n")
    (run / LOCK_FILE).write_text(json.dumps({"pid": 2**22 + 1, "host": "gone"}))
    summary = train(_tiny(tiny_svd_dir, 1), run)
    assert summary.start_step == 0 and _steps(run) == [1]
    assert read_metrics(run / "metrics.jsonl")[0]["loss"] != 0.5


def test_resume_follows_the_runs_lineage_not_an_abandoned_branch(
    tiny_svd_dir: Path, tmp_path: Path
) -> None:
    run = tmp_path / "run"
    train(_tiny(tiny_svd_dir, 3), run)  # branch a: checkpoints 1, 2, 3
    branch_a = ckpt.read_state(run / "checkpoints" / "step-00000003")["lineage"]
    # Go back to step 1 and train to 2 (branch b); step-3 of branch a is now abandoned.
    summary = train(_tiny(tiny_svd_dir, 2), run, resume=run, resume_step=1)
    assert summary.start_step == 1
    assert (run / "checkpoints" / "step-00000003").is_dir()
    # Resuming the run continues branch b at step 2, never branch a's step 3.
    assert ckpt.resolve_resume(run).name == "step-00000002"
    summary = train(_tiny(tiny_svd_dir, 3), run, resume=run)
    assert summary.start_step == 2
    assert _steps(run) == [1, 2, 3]
    lineage = ckpt.read_state(run / "checkpoints" / "step-00000003")["lineage"]
    assert lineage[0] == branch_a[0] and [start for _, start in lineage] == [0, 1, 2]


def test_an_explicit_resume_step_that_does_not_exist_is_an_input_error(
    tiny_svd_dir: Path, tmp_path: Path
) -> None:
    run = tmp_path / "run"
    train(_tiny(tiny_svd_dir, 1), run)
    with pytest.raises(ckpt.MissingResourceError, match="no checkpoint of step 7"):
        train(_tiny(tiny_svd_dir, 8), run, resume=run, resume_step=7)
