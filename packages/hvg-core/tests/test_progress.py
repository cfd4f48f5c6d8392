"""One progress mechanism: a bar on a terminal, plain periodic lines elsewhere, named."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import textwrap

import pytest

from hvg_core.errors import InputError
from hvg_core.progress import ProgressBar, progress, progress_mode


def capture_stderr(monkeypatch):
    """Replace stderr by a non-terminal stream, with no HVG_PROGRESS override.

    Called inside each test: pytest's own capture resets ``sys.stderr`` between a fixture's
    setup and the test body.
    """
    for key in ("HVG_PROGRESS", "HVG_PROGRESS_INTERVAL"):
        monkeypatch.delenv(key, raising=False)
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    return stream


def test_off_a_terminal_progress_is_plain_lines(monkeypatch):
    stderr = capture_stderr(monkeypatch)
    assert progress_mode() == "lines"
    assert list(progress(range(3), desc="train", unit="step", interval=0.0)) == [0, 1, 2]
    lines = stderr.getvalue().splitlines()
    assert [line.split(" (")[0] for line in lines] == [
        "train: 1/3 steps",
        "train: 2/3 steps",
        "train: 3/3 steps",
        "train: 3/3 steps",
    ]
    assert lines[-1].startswith("train: 3/3 steps (done, ") and "steps/s)" in lines[-1]
    assert "\r" not in stderr.getvalue()


def test_a_loop_shorter_than_the_interval_prints_nothing(monkeypatch):
    stderr = capture_stderr(monkeypatch)
    assert list(progress(range(5), desc="work")) == [0, 1, 2, 3, 4]
    assert stderr.getvalue() == ""


def test_unknown_total_and_manual_updates(monkeypatch):
    stderr = capture_stderr(monkeypatch)
    with ProgressBar(desc="render synthetic", unit="subject", interval=0.0) as bar:
        bar.update(2)
        assert bar.line().startswith("render synthetic: 2 subjects (")
    assert stderr.getvalue().splitlines()[0].startswith("render synthetic: 2 subjects (")


def test_disable_and_off_silence_everything(monkeypatch):
    stderr = capture_stderr(monkeypatch)
    list(progress(range(3), desc="quiet", disable=True, interval=0.0))
    monkeypatch.setenv("HVG_PROGRESS", "off")
    list(progress(range(3), desc="quiet", interval=0.0))
    assert stderr.getvalue() == ""


def test_bar_can_be_forced(monkeypatch):
    stderr = capture_stderr(monkeypatch)
    monkeypatch.setenv("HVG_PROGRESS", "bar")
    assert list(progress(range(3), desc="denoising (hvg sampler)", unit="step")) == [0, 1, 2]
    assert "denoising (hvg sampler)" in stderr.getvalue() and "\r" in stderr.getvalue()


@pytest.mark.parametrize(
    ("key", "value"), [("HVG_PROGRESS", "loud"), ("HVG_PROGRESS_INTERVAL", "-1")]
)
def test_bad_settings_are_input_errors_naming_the_variable(monkeypatch, key, value):
    capture_stderr(monkeypatch)
    monkeypatch.setenv(key, value)
    with pytest.raises(InputError) as info:
        ProgressBar(3, desc="x")
    assert info.value.field == key


def test_training_off_a_terminal_prints_periodic_lines(tmp_path):
    """A long loop in a console script, stderr to a pipe: one line per interval, named."""
    script = tmp_path / "train.py"
    script.write_text(
        textwrap.dedent(
            """
            import time
            from hvg_core.progress import progress

            for step in progress(range(6), desc="training", unit="step"):
                time.sleep(0.12)
            """
        )
    )
    env = {k: v for k, v in os.environ.items() if k != "HVG_PROGRESS"}
    env["HVG_PROGRESS_INTERVAL"] = "0.2"
    result = subprocess.run(
        [sys.executable, "train.py"], cwd=tmp_path, capture_output=True, text=True, env=env
    )
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert 2 <= len(lines) <= 5, lines
    assert all(line.startswith("training: ") and "/6 steps (" in line for line in lines)
    assert lines[-1].startswith("training: 6/6 steps (done, ")


def test_dependency_bars_are_silenced_unless_verbose(tmp_path):
    script = tmp_path / "tool.py"
    script.write_text(
        textwrap.dedent(
            """
            import os
            import click
            from hvg_core.cli_utils import hvg_group, run_group

            @hvg_group(package="hvg-core")
            def cli():
                "Tool."

            @cli.command()
            def show():
                click.echo(repr(os.environ.get("HF_HUB_DISABLE_PROGRESS_BARS")))

            run_group(cli)
            """
        )
    )
    env = {k: v for k, v in os.environ.items() if k != "HF_HUB_DISABLE_PROGRESS_BARS"}

    def run(*args, **extra):
        result = subprocess.run(
            [sys.executable, "tool.py", *args],
            cwd=tmp_path, capture_output=True, text=True, env={**env, **extra},
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    assert run("show") == "'1'"
    assert run("--verbose", "show") == "None"
    assert run("show", HF_HUB_DISABLE_PROGRESS_BARS="0") == "'0'"  # the user's choice wins
