"""`--config FILE` takes the documented option names in every command that has it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

pytestmark = pytest.mark.integration

COMMANDS_WITH_CONFIG = [
    ("hvg-model", "generate"),
    ("hvg-data", "render"),
    ("hvg-sampler", "plan"),
    ("hvg-eval", "fid"),
    ("hvg-eval", "all"),
    ("hvg-eval", "run"),
]


def script(name: str) -> str:
    path = shutil.which(name, path=os.path.dirname(sys.executable))
    assert path is not None, f"console script {name} is not installed next to {sys.executable}"
    return path


def run(args, cwd):
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=False, timeout=300)


@pytest.mark.parametrize(("tool", "command"), COMMANDS_WITH_CONFIG)
def test_unknown_keys_are_refused_with_the_valid_ones(tmp_path, tool, command):
    (tmp_path / "opts.yaml").write_text("bogus-key: 1\n")
    result = run([script(tool), command, "--config", "opts.yaml"], tmp_path)
    assert result.returncode == 2, result.stderr
    assert "opts.yaml: field 'bogus_key': unknown key; valid keys: " in result.stderr
    valid = result.stderr.split("valid keys: ", 1)[1]
    help_text = run([script(tool), command, "--help"], tmp_path).stdout
    for key in valid.strip().split(", "):
        assert f"--{key.replace('_', '-')}" in help_text, key


def test_option_names_with_dashes_and_a_subcommand_table(tmp_path):
    (tmp_path / "sampler.toml").write_text(
        'frames = 40\nviews = 2\njson = true\n[plan]\nsampler = "temporal"\n'
        "frame-window = 16\nframe-overlap = 4\n"
    )
    result = run([script("hvg-sampler"), "plan", "--config", "sampler.toml"], tmp_path)
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)
    assert plan["sampler"] == "temporal" and plan["calls_per_step"] == 3
