"""Kill -9 in the middle of a run, resume: the loss log equals an uninterrupted run's bit for bit."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hvg_model.training.checkpoint import list_checkpoints
from hvg_model.training.config import load_config
from hvg_model.training.metrics_log import read_metrics
from hvg_model.training.run import train

MAX_STEPS = 6
OVERRIDES = [f"schedule.max_steps={MAX_STEPS}", "schedule.checkpoint_every=2"]
# Everything a step computes from the model, data and RNG; wall-clock fields are excluded.
COMPARED = ("step", "loss", "lr", "grad_norm", "sigma_loss", "views", "frames")


FAULT_RUNNER = Path(__file__).with_name("fault_runner.py")


def _cli(
    out: Path, svd: Path, data: Path, *extra: str, fault: str | None = None
) -> subprocess.Popen:
    # With a fault ("after-step:K" / "mid-checkpoint:K") the test-only runner SIGKILLs there.
    launcher = (
        [str(FAULT_RUNNER), fault] if fault else ["-c", "from hvg_model.cli import main; main()"]
    )
    command = [
        sys.executable,
        *launcher,
        "train",
        "--config",
        "tiny",
        "--out",
        str(out),
        "--svd-dir",
        str(svd),
        "--data",
        str(data),
        *(arg for item in OVERRIDES for arg in ("--set", item)),
        *extra,
    ]
    return subprocess.Popen(
        command,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _log(path: Path) -> list[tuple]:
    return [
        tuple(repr(record[key]) for key in COMPARED)
        for record in read_metrics(path / "metrics.jsonl")
    ]


@pytest.fixture(scope="module")
def uninterrupted(
    tiny_svd_dir: Path, synthetic_shards: Path, tmp_path_factory: pytest.TempPathFactory
) -> list[tuple]:
    out = tmp_path_factory.mktemp("reference") / "run"
    config = load_config(
        "tiny", [*OVERRIDES, f"model.svd_dir={tiny_svd_dir}", f"data.path={synthetic_shards}"]
    )
    train(config, out)
    log = _log(out)
    assert [int(row[0]) for row in log] == list(range(1, MAX_STEPS + 1))
    return log


def _resume_in_process(out: Path, svd: Path, data: Path, start_step: int) -> None:
    # Same thread count as the CLI (the tiny config pins 1); saves an interpreter start.
    config = load_config("tiny", [*OVERRIDES, f"model.svd_dir={svd}", f"data.path={data}"])
    summary = train(config, out, resume=out)
    assert summary.start_step == start_step and summary.end_step == MAX_STEPS


@pytest.mark.integration
def test_kill_minus_9_mid_run_then_resume_matches_uninterrupted_bit_for_bit(
    uninterrupted: list[tuple], tiny_svd_dir: Path, synthetic_shards: Path, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    process = _cli(out, tiny_svd_dir, synthetic_shards)
    deadline = time.monotonic() + 300
    # kill -9 from outside as soon as step 3 is logged (after the step-2 checkpoint).
    while len(read_metrics(out / "metrics.jsonl")) < 3:
        assert process.poll() is None, process.communicate()[0]
        assert time.monotonic() < deadline, "training did not reach step 3"
        time.sleep(0.01)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL
    logged = len(read_metrics(out / "metrics.jsonl"))
    assert 3 <= logged < MAX_STEPS
    latest = list_checkpoints(out)[-1].name
    _resume_in_process(out, tiny_svd_dir, synthetic_shards, int(latest.removeprefix("step-")))
    # Every step exactly once, with the same bits as the uninterrupted run.
    assert _log(out) == uninterrupted


@pytest.mark.slow
@pytest.mark.integration
def test_kill_while_writing_a_checkpoint_then_kill_again_then_resume(
    uninterrupted: list[tuple], tiny_svd_dir: Path, synthetic_shards: Path, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    # 1. SIGKILL while checkpoint 4 is being written (files done, rename not yet).
    process = _cli(out, tiny_svd_dir, synthetic_shards, fault="mid-checkpoint:4")
    output = process.communicate(timeout=300)[0]
    assert process.returncode == -signal.SIGKILL, output
    assert [path.name for path in list_checkpoints(out)] == ["step-00000002"]
    assert any(p.name.startswith(".tmp-step-00000004") for p in (out / "checkpoints").iterdir())
    assert len(read_metrics(out / "metrics.jsonl")) == 4
    # 2. Resume from step 2; SIGKILL right after step 5 is logged.
    process = _cli(out, tiny_svd_dir, synthetic_shards, "--resume", str(out), fault="after-step:5")
    output = process.communicate(timeout=300)[0]
    assert process.returncode == -signal.SIGKILL, output
    assert not any(p.name.startswith(".tmp-") for p in (out / "checkpoints").iterdir())
    assert [path.name for path in list_checkpoints(out)] == ["step-00000002", "step-00000004"]
    # 3. Resume from step 4 and finish.
    _resume_in_process(out, tiny_svd_dir, synthetic_shards, 4)
    assert _log(out) == uninterrupted
