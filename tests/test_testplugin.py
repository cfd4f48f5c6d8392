"""A third-party plugin (tests/plugins/hvg-testplugin) works everywhere with no change to HVG.

It registers one part of every registry kind through the `hvg` entry-point group only. The
meta-test at the end (`test_plugin_part_reaches_its_consumer`) proves, kind by kind, that the
plugin's part is what the consumer uses (not merely that it is listed).

To add a kind: register a small part in tests/plugins/hvg-testplugin, then write one function
`_reaches_<kind>(tmp_path)` below decorated with `@consumer_check("<kind>")` that runs the real
consumer (API or console script) with the part's name and asserts on something only that part
produces; finally remove the kind from `PENDING_KINDS`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from hvg_core.registry import KINDS, get_registry
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
        ("bonemap_backends", "testplugin-flat-normals"),
        ("body_models", "testplugin-tall"),
        ("feature_networks", "testplugin-colour-moments"),
        ("scan_renderers", "testplugin-flat-colour"),
        ("window_planners", "testplugin-whole-axis"),
        ("noise_inits", "testplugin-constant"),
        ("samplers", "testplugin-flat-hvg"),
        ("commands", "testplugin-hello"),
        ("schedulers", "testplugin-linear"),
        ("pose_signals", "testplugin-silhouette"),
    }
    # Names and descriptions come from the parts themselves (one source per fact).
    by_name = {e.name: e for e in entries}
    assert by_name["testplugin-max-abs"].description.startswith("Largest |real - fake|")
    assert by_name["testplugin-blocks"].metadata["kind"] == "scan"
    assert by_name["testplugin-flat-normals"].metadata["devices"] == ("cpu",)


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


# -- every kind: the plugin's part reaches its consumer -----------------------------------------

#: Kinds whose consumer check is still to be written (by the pose-signal / scheduler work).
PENDING_KINDS: set[str] = set()  # every kind has its consumer check below
CONSUMER_CHECKS: dict[str, Callable[[Path], None]] = {}


def consumer_check(kind: str) -> Callable[[Callable[[Path], None]], Callable[[Path], None]]:
    """Declare the function proving that the test plugin's ``kind`` part reaches its consumer."""

    def decorate(function: Callable[[Path], None]) -> Callable[[Path], None]:
        assert kind in KINDS, f"{kind!r} is not a registry kind"
        CONSUMER_CHECKS[kind] = function
        return function

    return decorate


@consumer_check("bonemap_backends")
def _reaches_bonemap_backends(tmp_path: Path) -> None:
    from hvg_bonemap import ellipsoids_from_joints, orbit_cameras, render
    from hvg_bonemap.bodies import rest_joints
    from hvg_bonemap.rendering import backend_names

    assert "testplugin-flat-normals" in backend_names()
    joints = rest_joints()[None]  # (1, 55, 3)
    cameras = orbit_cameras(1, distance=3.0, width=24, height=24, target=joints[0, 0])
    ellipsoids = ellipsoids_from_joints(joints, "paper", "thin")
    maps = render(ellipsoids, cameras[:, None], backend="testplugin-flat-normals")
    analytic = render(ellipsoids, cameras[:, None])
    assert bool(maps.mask.any()) and torch.equal(maps.mask, analytic.mask)
    facing = maps.normal.movedim(-3, -1)[maps.mask]
    assert torch.equal(facing, torch.tensor([0.0, 0.0, -1.0]).expand_as(facing))
    assert not torch.equal(analytic.normal, maps.normal)


def _bonemap_cli(tmp_path: Path, *args: str) -> dict:
    import numpy as np

    out = tmp_path / "out"
    result = subprocess.run(
        [shutil.which("hvg-bonemap", path=os.path.dirname(sys.executable)), "render",
         "--out", "out", "--frames", "2", "--views", "1", "--size", "24", *args],
        capture_output=True, text=True, cwd=tmp_path, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    with np.load(out / "bonemap.npz") as npz:
        return {key: npz[key] for key in ("joints", "normal", "mask")}


@consumer_check("body_models")
def _reaches_body_models(tmp_path: Path) -> None:
    import numpy as np
    from hvg_bonemap.bodies import AnthropometricBody
    from hvg_bonemap.motions import MOTIONS

    # The console script takes the plugin's body (and backend) by name.
    maps = _bonemap_cli(
        tmp_path, "--body", "testplugin-tall", "--backend", "testplugin-flat-normals"
    )
    with torch.no_grad():
        builtin = AnthropometricBody()(MOTIONS["walk"](2)).numpy()
    pelvis = builtin[:, :1]
    np.testing.assert_allclose(maps["joints"], pelvis + 1.25 * (builtin - pelvis), atol=1e-5)
    blue = maps["normal"][:, :, 2][maps["mask"]]  # (V, T, 3, H, W) uint8 -> covered z codes
    assert blue.size > 0 and not blue.any()  # z = -1 everywhere: the plug-in backend drew it

    # hvg-data poses dataset fits with it too (`hvg-data render --body-model testplugin-tall`).
    from hvg_data.body import posed_joints
    from hvg_data.pipeline import make_adapter

    fit = make_adapter("testplugin-blocks", None, {"count": 1}).load("block-0").smplx
    tall, builtin = posed_joints(fit, body_model="testplugin-tall"), posed_joints(fit)
    pelvis = builtin[:, :1]
    np.testing.assert_allclose(tall, pelvis + 1.25 * (builtin - pelvis), atol=1e-5)
    np.testing.assert_allclose(posed_joints(fit, body_model="anthropometric"), builtin, atol=1e-5)


@consumer_check("pose_signals")
def _reaches_pose_signals(tmp_path: Path) -> None:
    from hvg_bonemap import PoseSpec, joints_from_smplx_params
    from hvg_bonemap.signals import BoneMapSignal
    from hvg_data.config import RenderConfig
    from hvg_data.pipeline import PipelineOptions, run_render
    from hvg_data.training import MultiViewDataset
    from hvg_model.pose_input import signal_class
    from hvg_model.pose_modulator import PoseModulator
    from hvg_model.pose_rendering import motion_parameters, render_orbit_pose

    # The network: one guider per part of the plug-in's layout.
    modulator = PoseModulator("testplugin-silhouette", 32, (8, 8, 16, 32))
    assert modulator.in_channels == 1 and list(modulator.guiders) == ["silhouette"]
    # Inference: the pose maps are the plug-in's drawing on the aligned cameras.
    pose = render_orbit_pose(
        motion_parameters("walk", 2), num_views=2, size=24, pose_signal="testplugin-silhouette"
    )
    assert pose.pose_maps.shape == (1, 2, 2, 1, 24, 24)
    joints = joints_from_smplx_params(motion_parameters("walk", 2))
    mask = BoneMapSignal().render_maps(joints[None], pose.cameras[:, None]).mask
    assert mask.any() and torch.equal(pose.pose_maps[0, :, :, 0] > 0, mask)
    # Training data: shard items carry the plug-in's drawing from the stored joints and cameras.
    run_render(
        "synthetic", None, tmp_path / "shards", RenderConfig(views=2, size=24, shard_size=1),
        adapter_options={"count": 1, "frames": 1},
        options=PipelineOptions(executor="local", progress=False),
    )  # fmt: skip
    cls = signal_class("testplugin-silhouette")
    spec = PoseSpec.for_signal("testplugin-silhouette", cls)
    item = MultiViewDataset(tmp_path / "shards", views=2, pose_spec=spec, signal_class=cls)[0]
    assert torch.equal(item["pose"][:, :, 0], item["bone_mask"][:, :, 0])


@consumer_check("feature_networks")
def _reaches_feature_networks(tmp_path: Path) -> None:
    import numpy as np
    from hvg_eval.metrics.fid import FID
    from hvg_eval.ops.frechet import frechet_distance
    from hvg_eval.testing import random_videos
    from hvg_testplugin.networks import ColourMoments

    real, fake = random_videos(0, (3, 1, 2, 16, 16), noise=0.3)
    metric = FID(feature_network="testplugin-colour-moments")
    metric.update(real, fake)
    assert metric.feature_dim == 6 and metric.records == []
    assert metric.conventions()["feature_network"] == "testplugin-colour-moments"

    def stats(videos: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
        frames = (torch.round(videos * 255) / 255).reshape(-1, 3, 16, 16)
        features = ColourMoments()(frames).numpy()
        return features.mean(0), np.cov(features, rowvar=False)

    expected = frechet_distance(*stats(real), *stats(fake))
    assert metric.compute() == pytest.approx(expected, rel=1e-6)


@consumer_check("scan_renderers")
def _reaches_scan_renderers(tmp_path: Path) -> None:
    import numpy as np
    from hvg_data.config import RenderConfig
    from hvg_data.pipeline import make_adapter
    from hvg_data.render_sample import render_sample

    sample = make_adapter("testplugin-blocks", None, {"count": 1}).load("block-0")
    config = RenderConfig(views=1, size=24, scan_renderer="testplugin-flat-colour")
    rendered = render_sample(sample, config)
    covered = rendered.rgb[rendered.mask]
    assert covered.size > 0 and bool(np.all(covered == np.array([255, 0, 255], np.uint8)))


@consumer_check("datasets")
def _reaches_datasets(tmp_path: Path) -> None:
    from hvg_data.pipeline import make_adapter

    adapter = make_adapter("testplugin-blocks", None, {"count": 3})
    assert type(adapter).__name__ == "BlocksAdapter"
    assert adapter.subjects() == ["block-0", "block-1", "block-2"]


@consumer_check("window_planners")
def _reaches_window_planners(tmp_path: Path) -> None:
    from hvg_sampler import build_sampler

    sampler = build_sampler(
        "hvg", frame_window=4, frame_overlap=2, view_window=2, view_overlap=1,
        view_planner="testplugin-whole-axis",
    )  # fmt: skip
    assert sampler.view_windows(8) == (tuple(range(8)),)
    assert len(sampler.frame_windows(8)) > 1  # the frame axis keeps the built-in planner


@consumer_check("noise_inits")
def _reaches_noise_inits(tmp_path: Path) -> None:
    from hvg_sampler import build_sampler

    sampler = build_sampler(
        "hvg", frame_window=4, frame_overlap=2, view_window=2, view_overlap=1,
        noise_init="testplugin-constant",
    )  # fmt: skip
    noise = sampler.initial_noise((1, 2, 3, 4, 2, 2), seed=7)
    assert torch.equal(noise, torch.full((1, 2, 3, 4, 2, 2), 0.5))


@consumer_check("samplers")
def _reaches_samplers(tmp_path: Path) -> None:
    from hvg_sampler import build_sampler
    from hvg_sampler.testing import IdentityDenoiser

    sampler = build_sampler(
        "testplugin-flat-hvg", frame_window=4, frame_overlap=2, view_window=2, view_overlap=1,
        num_steps=2, max_guidance_scale=1.0,
    )  # fmt: skip
    assert type(sampler).__name__ == "FlatHVGSampler"
    output = sampler.sample(IdentityDenoiser(), (1, 3, 5, 4, 2, 2), seed=0)
    assert output.latents.shape == (1, 3, 5, 4, 2, 2) and output.num_denoiser_calls > 0


@consumer_check("schedulers")
def _reaches_schedulers(tmp_path: Path) -> None:
    from hvg_sampler import build_sampler, sampler_from_config
    from hvg_testplugin.schedulers import LinearEulerSchedule

    sampler = build_sampler(
        "hvg", frame_window=4, frame_overlap=2, view_window=2, view_overlap=1, num_steps=3,
        max_guidance_scale=1.0, scheduler="testplugin-linear",
    )  # fmt: skip
    shape = (1, 3, 6, 2, 2, 2)  # (B, V, T, C, h, w)

    def half(latents, sigma, conditioning):  # ε = x / 2: every fusion of windows gives it exactly
        return latents / 2

    out = sampler.sample(half, shape, seed=5)
    schedule = LinearEulerSchedule(3)
    assert torch.equal(out.sigmas, schedule.sigmas)
    expected = sampler.initial_noise(shape, seed=5) * schedule.init_noise_sigma
    for step in range(3):  # the plugin's Euler steps, by hand
        expected = schedule.step(expected / 2, expected, step)
    torch.testing.assert_close(out.latents, expected)
    config = sampler.to_config()  # the name is part of the sampler's config and comes back
    assert config["scheduler"] == "testplugin-linear"
    assert torch.equal(sampler_from_config(config).sample(half, shape, seed=5).latents, out.latents)


@consumer_check("fusion_weights")
def _reaches_fusion_weights(tmp_path: Path) -> None:
    from hvg_sampler.build import get_fusion_weight
    from hvg_testplugin.weights import hann

    torch.testing.assert_close(get_fusion_weight("testplugin-hann")(7), hann(7))


@consumer_check("metrics")
def _reaches_metrics(tmp_path: Path) -> None:
    from hvg_eval.evaluate import evaluate
    from hvg_eval.testing import random_videos, write_frame_folders

    real, fake = random_videos(1, (1, 1, 2, 8, 8), noise=0.2)
    write_frame_folders(tmp_path / "real", (real[:, 0].permute(0, 1, 3, 4, 2) * 255).byte().numpy())
    write_frame_folders(tmp_path / "fake", (fake[:, 0].permute(0, 1, 3, 4, 2) * 255).byte().numpy())
    document = evaluate(["testplugin-max-abs"], tmp_path / "real", tmp_path / "fake")
    expected = float((real - fake).abs().max())
    assert document["metrics"]["testplugin-max-abs"]["value"] == pytest.approx(expected, abs=1e-6)


@consumer_check("commands")
def _reaches_commands(tmp_path: Path) -> None:
    result = run_script("hvg", "testplugin-hello", "Ada")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "hello, Ada, from hvg-testplugin"


def test_every_kind_has_a_consumer_check():
    assert PENDING_KINDS.isdisjoint(CONSUMER_CHECKS), "remove a checked kind from PENDING_KINDS"
    assert set(CONSUMER_CHECKS) | PENDING_KINDS == set(KINDS)


@pytest.mark.parametrize("kind", sorted(CONSUMER_CHECKS))
def test_plugin_part_reaches_its_consumer(kind, tmp_path):
    CONSUMER_CHECKS[kind](tmp_path)
