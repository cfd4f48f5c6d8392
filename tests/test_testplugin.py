"""A third-party plugin (tests/plugins/hvg-testplugin) works everywhere with no change to HVG.

It registers a dataset, a fusion weight and a metric through the `hvg` entry-point group only.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest
import torch
from hvg_core.registry import get_registry
from hvg_core.testing import check_plugin

# The test plugin is not installed by `uv sync` (users must not see it): the fixture puts it on
# the path of this process and of the console scripts it starts (tests/conftest.py).
pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("testplugin_installed")]


def run_script(name: str, *args: str) -> subprocess.CompletedProcess[str]:
    script = shutil.which(name, path=os.path.dirname(sys.executable))
    assert script is not None
    return subprocess.run([script, *args], capture_output=True, text=True, check=False)


def test_plugin_contract():
    import hvg_testplugin

    entries = check_plugin(hvg_testplugin)
    assert {(e.kind, e.name) for e in entries} == {
        ("datasets", "testplugin-blocks"),
        ("fusion_weights", "testplugin-hann"),
        ("metrics", "testplugin-max-abs"),
    }


def test_hvg_plugins_lists_the_plugin_parts_with_package_and_version():
    result = run_script("hvg", "plugins", "--json")
    assert result.returncode == 0, result.stderr
    rows = {(r["kind"], r["name"]): r for r in json.loads(result.stdout)}
    for key in [
        ("datasets", "testplugin-blocks"),
        ("fusion_weights", "testplugin-hann"),
        ("metrics", "testplugin-max-abs"),
    ]:
        assert rows[key]["package"] == "hvg-testplugin"
        assert rows[key]["version"] == "0.0.1"


def test_autoload_switch_hides_the_plugin():
    env = {**os.environ, "HVG_DISABLE_PLUGIN_AUTOLOAD": "1"}
    script = shutil.which("hvg", path=os.path.dirname(sys.executable))
    result = subprocess.run([script, "plugins"], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    assert "testplugin" not in result.stdout
    assert "synthetic" in result.stdout


# -- fusion weight ---------------------------------------------------------------------------


def test_sampler_cli_prints_the_plugin_fusion_weight():
    result = run_script("hvg-sampler", "weights", "testplugin-hann", "--length", "7", "--json")
    assert result.returncode == 0, result.stderr
    weights = json.loads(result.stdout)["weights"]
    assert len(weights) == 7 and min(weights) > 0
    assert weights == weights[::-1] and max(weights) == weights[3]


def test_sampler_cli_plans_with_the_plugin_fusion_weight():
    result = run_script(
        "hvg-sampler", "plan", "--sampler", "hvg", "--frames", "20", "--views", "8",
        "--frame-window", "8", "--frame-overlap", "4", "--view-window", "4",
        "--view-overlap", "2", "--fusion-weight", "testplugin-hann", "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)
    assert plan["calls_per_step"] > 0 and plan["windows"]


def test_sampling_with_the_plugin_fusion_weight_keeps_partition_of_unity():
    from hvg_sampler import build_sampler
    from hvg_sampler.testing import IdentityDenoiser, check_fusion_weight

    check_fusion_weight(get_registry().load("fusion_weights", "testplugin-hann"))
    sampler = build_sampler(
        "hvg",
        frame_window=4,
        frame_overlap=2,
        view_window=3,
        view_overlap=1,
        fusion_weight="testplugin-hann",
        num_steps=2,
        max_guidance_scale=1.0,
    )
    latents = torch.randn(1, 5, 9, 4, 3, 3)
    prediction = sampler.predict(
        IdentityDenoiser(),
        latents,
        torch.tensor(1.0),
        conditioning=None,
        uncond_conditioning=None,
        step_index=0,
        timestep=torch.tensor(0.0),
    )
    torch.testing.assert_close(prediction, latents, rtol=0, atol=1e-6)


# -- dataset ---------------------------------------------------------------------------------


def test_data_cli_lists_and_renders_the_plugin_dataset(tmp_path):
    listing = run_script("hvg-data", "list")
    assert listing.returncode == 0, listing.stderr
    assert "testplugin-blocks" in listing.stdout
    out = tmp_path / "shards"
    result = run_script(
        "hvg-data", "render", "--dataset", "testplugin-blocks", "--out", str(out),
        "--views", "2", "--size", "48", "--executor", "local", "--option", "count=2",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert sum(shard["samples"] for shard in manifest["shards"]) == 2
    verify = run_script("hvg-data", "verify", str(out))
    assert verify.returncode == 0, verify.stderr + verify.stdout


# -- metric ----------------------------------------------------------------------------------


def test_plugin_metric_follows_the_eval_contract():
    from hvg_eval.testing import check_metric_contract

    check_metric_contract(get_registry().load("metrics", "testplugin-max-abs"))


def test_eval_cli_lists_and_runs_the_plugin_metric(tmp_path):
    import numpy as np
    from hvg_eval.testing import write_frame_folders

    rng = np.random.default_rng(0)
    real = rng.integers(0, 256, size=(2, 3, 16, 16, 3), dtype=np.uint8)
    fake = real.copy()
    fake[1, 2, 5, 7, 0] = np.uint8((int(real[1, 2, 5, 7, 0]) + 128) % 256)
    write_frame_folders(tmp_path / "real", real)
    write_frame_folders(tmp_path / "fake", fake)
    listing = run_script("hvg-eval", "list")
    assert listing.returncode == 0, listing.stderr
    assert "testplugin-max-abs" in listing.stdout
    result = run_script(
        "hvg-eval", "run", "--metric", "testplugin-max-abs",
        "--real", str(tmp_path / "real"), "--fake", str(tmp_path / "fake"), "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    expected = abs(int(fake[1, 2, 5, 7, 0]) - int(real[1, 2, 5, 7, 0])) / 255
    assert json.loads(result.stdout)["value"] == pytest.approx(expected, abs=1e-6)
