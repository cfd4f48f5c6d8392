"""``hvg-model train`` command line: help, config printing, clear errors and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner
from hvg_core.errors import InputError, MissingResourceError

from hvg_model.cli import cli


def _invoke(*args: str):
    return CliRunner().invoke(cli, ["train", *args])


def test_help_lists_the_options() -> None:
    result = _invoke("--help")
    assert result.exit_code == 0
    for option in (
        "--config",
        "--out",
        "--max-steps",
        "--resume",
        "--num-workers",
        "--use-gpu",
        "--address",
        "--set",
    ):
        assert option in result.output


def test_print_config_applies_flags_and_overrides(tmp_path: Path) -> None:
    result = _invoke(
        "--config",
        "stage2",
        "--out",
        str(tmp_path),
        "--max-steps",
        "5",
        "--set",
        "optim.lr=2e-5",
        "--num-workers",
        "8",
        "--print-config",
    )
    assert result.exit_code == 0, result.output
    config = json.loads(result.output)
    assert config["schedule"]["max_steps"] == 5 and config["optim"]["lr"] == 2e-5
    assert config["distributed"]["num_workers"] == 8 and config["data"]["stage"] == 2


def test_missing_svd_weights_is_a_missing_resource(tmp_path: Path) -> None:
    result = _invoke(
        "--config",
        "stage1",
        "--out",
        str(tmp_path / "run"),
        "--svd-dir",
        str(tmp_path / "svd-xt"),
        "--data",
        str(tmp_path),
    )
    assert isinstance(result.exception, MissingResourceError)
    assert "stable-video-diffusion-img2vid-xt" in str(result.exception)


def test_missing_shards_is_a_missing_resource(tiny_svd_dir: Path, tmp_path: Path) -> None:
    result = _invoke(
        "--config",
        "tiny",
        "--out",
        str(tmp_path / "run"),
        "--svd-dir",
        str(tiny_svd_dir),
        "--data",
        str(tmp_path / "no-shards"),
    )
    assert isinstance(result.exception, MissingResourceError)
    assert "hvg-data render" in str(result.exception)
    (tmp_path / "empty").mkdir()
    result = _invoke(
        "--config",
        "tiny",
        "--out",
        str(tmp_path / "run"),
        "--svd-dir",
        str(tiny_svd_dir),
        "--data",
        str(tmp_path / "empty"),
    )
    assert "manifest.json is missing" in str(result.exception)


def test_configs_that_do_not_fit(tiny_svd_dir: Path, tmp_path: Path) -> None:
    result = _invoke(
        "--config", "tiny", "--out", str(tmp_path / "a"), "--batch-size", "3", "--num-workers", "2"
    )
    assert isinstance(result.exception, InputError)
    assert result.exception.field == "schedule.global_batch_size"
    # 40² images make 5² latents, which the tiny UNet (2 levels) cannot halve.
    result = _invoke(
        "--config",
        "tiny",
        "--out",
        str(tmp_path / "b"),
        "--svd-dir",
        str(tiny_svd_dir),
        "--set",
        "data.image_size=40",
        "--set",
        "data.dataset=procedural",
    )
    assert isinstance(result.exception, InputError)
    assert "does not fit this network" in str(result.exception)


def test_no_checkpoint_to_resume(tiny_svd_dir: Path, tmp_path: Path) -> None:
    result = _invoke(
        "--config",
        "tiny",
        "--out",
        str(tmp_path / "run"),
        "--svd-dir",
        str(tiny_svd_dir),
        "--resume",
        str(tmp_path),
    )
    assert isinstance(result.exception, MissingResourceError)
    assert "no checkpoint to resume from" in str(result.exception)


def test_console_script_exit_code_and_one_line_message(tmp_path: Path) -> None:
    completed = subprocess.run(
        [
            sys.executable,
            "-c",
            "from hvg_model.cli import main; main()",
            "train",
            "--config",
            "nope",
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 2
    assert "no built-in config of that name" in completed.stderr
    assert "Traceback" not in completed.stderr
