"""The files in examples/ run as their headers say: one config file, one command."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[1]
QUICK = ["--frames", "2", "--views", "2", "--steps", "1", "--no-pngs"]


@pytest.fixture
def workdir(tmp_path):
    """A directory holding a copy of examples/, as the repository root holds it."""
    shutil.copytree(REPO / "examples", tmp_path / "examples")
    return tmp_path


def console_script(name: str) -> str:
    path = shutil.which(name, path=os.path.dirname(sys.executable))
    assert path is not None, f"console script {name} is not installed next to {sys.executable}"
    return path


def run(args, cwd, timeout=600):
    return subprocess.run(
        args, cwd=cwd, capture_output=True, text=True, check=False, timeout=timeout
    )


def test_inference_example_generates_a_video(workdir, tiny_pipeline_dir):
    shutil.copytree(tiny_pipeline_dir, workdir / "models" / "example")
    result = run(
        [console_script("hvg-model"), "generate", "--config", "examples/inference.yaml", *QUICK],
        workdir,
    )
    assert result.returncode == 0, result.stderr
    out = workdir / "out" / "example-inference"
    summary = json.loads((out / "summary.json").read_text())
    assert summary["frames_shape"] == [1, 2, 2, 3, 64, 64]
    assert summary["sampler"] == "hvg" and summary["steps"] == 1
    assert (out / "video_b0.mp4").stat().st_size > 0


def test_inference_example_keys_are_generate_options(workdir):
    config = yaml.safe_load((workdir / "examples" / "inference.yaml").read_text())
    help_text = run([console_script("hvg-model"), "generate", "--help"], workdir).stdout
    for key in config:
        assert f"--{key.replace('_', '-')}" in help_text, key


def test_a_misspelt_key_is_an_error_naming_it(workdir):
    config = workdir / "examples" / "inference.yaml"
    config.write_text(config.read_text() + "output: elsewhere\n")
    result = run(
        [console_script("hvg-model"), "generate", "--config", "examples/inference.yaml"], workdir
    )
    assert result.returncode == 2
    assert "examples/inference.yaml: field 'output': unknown key; valid keys:" in result.stderr
    assert "out," in result.stderr and "reference," in result.stderr
    assert not (workdir / "hvg-output").exists() and not (workdir / "elsewhere").exists()


def test_train_example_resolves_to_the_recipe_it_describes(workdir):
    result = run(
        [
            console_script("hvg-model"), "train", "--config", "examples/train.yaml",
            "--out", "runs/example", "--print-config",
        ],
        workdir,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    config = json.loads(result.stdout)
    assert config["data"]["dataset"] == "procedural" and config["data"]["image_size"] == 64
    assert config["schedule"]["max_steps"] == 20 and config["model"]["tiny"] is True


@pytest.mark.slow
def test_train_export_generate_as_the_train_example_says(workdir):
    hvg_model = console_script("hvg-model")
    steps = [
        [hvg_model, "train", "--config", "examples/train.yaml", "--out", "runs/example",
         "--max-steps", "2"],
        [hvg_model, "export", "--run", "runs/example", "--out", "models/example"],
        [hvg_model, "generate", "--config", "examples/inference.yaml", *QUICK],
    ]  # fmt: skip
    for args in steps:
        result = run(args, workdir)
        assert result.returncode == 0, (args, result.stderr)
    assert (workdir / "out" / "example-inference" / "video_b0.mp4").is_file()
