"""The paper's Table 3 pose variants train from hvg-data shards with the tiny config.

Each variant's pose input is made by ``hvg_bonemap.pose_codec`` under the run's ``PoseSpec``
(bone-map signals decoded from the stored maps, ``skeleton2d`` drawn from the stored joints and
cameras, ``body_normal`` from the SMPL-X mesh rebuilt from the stored parameters), and the
trained network carries that spec in its config, so an exported pipeline checks the pose input
it is given against it. ``body_normal`` runs on shards rendered with the SMPL-X body of a
synthetic model file (``hvg_bonemap.testing.write_synthetic_smplx_model``: the real file's
structure, random values).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from hvg_bonemap import PoseSpec
from hvg_core.errors import InputError
from PIL import Image

from hvg_model.pipeline import HVGPipeline
from hvg_model.training.config import load_config
from hvg_model.training.export import load_trained_pipeline
from hvg_model.training.run import train

CHANNELS = {"bonemap": 4, "depth": 1, "normal": 3, "skeleton2d": 3, "body_normal": 3}
#: Variants drawn from the SMPL-X body mesh (they train on the ``smplx_shards``).
MESH_VARIANTS = ("body_normal",)


def _config(svd: Path, shards: Path, variant: str, *extra: str) -> object:
    return load_config(
        "tiny",
        [
            f"model.svd_dir={svd}",
            f"data.path={shards}",
            f"model.variant={variant}",
            "schedule.max_steps=2",
            "schedule.checkpoint_every=2",
            *extra,
        ],
    )


@pytest.fixture(scope="module")
def smplx_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding a synthetic ``SMPLX_NEUTRAL.npz`` (the real file's structure)."""
    from hvg_bonemap.testing import write_synthetic_smplx_model

    folder = tmp_path_factory.mktemp("smplx-model")
    write_synthetic_smplx_model(folder / "SMPLX_NEUTRAL.npz")
    return folder


@pytest.fixture(scope="module")
def smplx_shards(tmp_path_factory: pytest.TempPathFactory, smplx_model_dir: Path) -> Path:
    """Two synthetic people rendered with the SMPL-X body (8 views, 64², one frame)."""
    from hvg_model.training.sources import render_synthetic_shards

    config = load_config(
        "tiny", [f"data.smplx_model={smplx_model_dir}", "data.synthetic_subjects=2"]
    )
    return render_synthetic_shards(config, tmp_path_factory.mktemp("data") / "smplx-shards")


@pytest.mark.parametrize("variant", sorted(CHANNELS))
def test_each_table3_variant_trains_from_shards(
    variant: str, tiny_svd_dir: Path, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    if variant in MESH_VARIANTS:
        model = request.getfixturevalue("smplx_model_dir")
        config = _config(
            tiny_svd_dir,
            request.getfixturevalue("smplx_shards"),
            variant,
            f"data.smplx_model={model}",
        )
    else:
        config = _config(tiny_svd_dir, request.getfixturevalue("synthetic_shards"), variant)
    summary = train(config, tmp_path / "run")
    assert summary.end_step == 2 and torch.isfinite(torch.tensor(summary.final_loss))
    pipeline = load_trained_pipeline(tmp_path / "run")
    spec = PoseSpec.from_dict(pipeline.denoising_net.config.pose_spec)
    assert spec.signal == variant and spec.channels == CHANNELS[variant]
    assert pipeline.denoising_net.pose_modulator.in_channels == CHANNELS[variant]
    # The exported pipeline keeps the spec (the network config saves it).
    exported = HVGPipeline.from_pretrained(pipeline.save_pretrained(tmp_path / "export"))
    assert exported.denoising_net.pose_modulator.spec == spec
    # Pose input made for another signal is refused by the pipeline, naming the field.
    other = PoseSpec.for_signal("depth" if variant != "depth" else "normal")
    maps = torch.zeros(1, 2, 1, other.channels, 64, 64)
    with pytest.raises(InputError) as caught:
        pipeline(torch.rand(1, 3, 64, 64), maps, num_steps=1)
    assert caught.value.field == "pose_spec.channels"
    good = torch.zeros(1, 2, 1, spec.channels, 64, 64)
    with pytest.raises(InputError) as caught:
        pipeline(torch.rand(1, 3, 64, 64), good, num_steps=1, pose_spec=spec.replace(depth_range=1))
    assert caught.value.field == "pose_spec.depth_range"


@pytest.mark.integration
def test_skeleton2d_trains_from_shards_as_the_user_runs_it(
    tiny_svd_dir: Path, synthetic_shards: Path, tmp_path: Path
) -> None:
    # Relative paths, the console module, the real exit code (it used to exit 2 up front).
    shutil.copytree(synthetic_shards, tmp_path / "shards")
    result = subprocess.run(
        [
            *(sys.executable, "-m", "hvg_model.cli", "train", "--config", "tiny"),
            *("--svd-dir", str(tiny_svd_dir), "--data", "shards", "--out", "run"),
            *("--set", "model.variant=skeleton2d", "--set", "schedule.max_steps=1"),
        ],
        cwd=tmp_path,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "run" / "metrics.jsonl").is_file()


def test_body_normal_needs_the_smplx_model_and_smplx_shards(
    tiny_svd_dir: Path,
    synthetic_shards: Path,
    smplx_shards: Path,
    smplx_model_dir: Path,
    tmp_path: Path,
) -> None:
    from hvg_model.training.config import validate

    # No model folder: refused up front, saying what is needed and where it goes.
    with pytest.raises(InputError) as caught:
        validate(_config(tiny_svd_dir, smplx_shards, "body_normal"))
    assert caught.value.field == "data.smplx_model"
    assert "SMPLX_NEUTRAL.npz" in str(caught.value) and "--smplx-model" in str(caught.value)
    # A folder that is not there.
    with pytest.raises(InputError) as caught:
        validate(
            _config(
                tiny_svd_dir, smplx_shards, "body_normal", f"data.smplx_model={tmp_path / 'no'}"
            )
        )
    assert caught.value.field == "data.smplx_model" and caught.value.path == str(tmp_path / "no")
    # A folder without the model file of the fits' gender.
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError) as caught:
        train(
            _config(
                tiny_svd_dir, smplx_shards, "body_normal", f"data.smplx_model={tmp_path / 'empty'}"
            ),
            tmp_path / "run-empty",
        )
    assert caught.value.field == "data.smplx_model" and "SMPLX_NEUTRAL.npz" in str(caught.value)
    # Shards whose joints come from the built-in body: the mesh would not match them.
    with pytest.raises(InputError) as caught:
        train(
            _config(
                tiny_svd_dir, synthetic_shards, "body_normal", f"data.smplx_model={smplx_model_dir}"
            ),
            tmp_path / "run-builtin",
        )
    assert caught.value.field == "config.body_model" and "'builtin'" in str(caught.value)
    assert caught.value.path == str(synthetic_shards / "manifest.json")


def test_body_normal_from_a_shard_equals_the_inference_rendering(
    smplx_shards: Path, smplx_model_dir: Path
) -> None:
    """One view alignment, one codec, one mesh: a shard item equals ``pose_rendering``'s maps."""
    from hvg_bonemap import Cameras
    from hvg_data.training import MultiViewDataset

    from hvg_model.pose_rendering import render_camera_pose

    spec = PoseSpec.for_signal("body_normal")
    dataset = MultiViewDataset(
        smplx_shards, views=4, frames=1, pose_spec=spec, smplx_model=smplx_model_dir
    )
    item = dataset[0]
    size = item["images"].shape[-1]
    group = dataset._file(dataset.items[0][0])["samples"][dataset.items[0][1]]
    # Inference sees the uncropped cameras (undo the stored crop) and the SMPL-X parameters.
    boxes = torch.from_numpy(group["crop_boxes"][()][item["view_indices"].numpy()]).double()
    K = item["K"].double().clone()
    scale = (boxes[:, 2] - boxes[:, 0]) / size
    K[:, 0, :] *= scale[:, None]
    K[:, 1, :] *= scale[:, None]
    K[:, 0, 2] += boxes[:, 0]
    K[:, 1, 2] += boxes[:, 1]
    uncropped = Cameras(K, item["R"].double(), item["t"].double(), 200, 200)
    params = item["smplx"]
    # The synthetic people have no world rotation or translation, only a scale after the model.
    assert not params["world_rotation"].any() and not params["world_translation"].any()
    inference = render_camera_pose(
        {k: v for k, v in params.items() if k not in ("world_rotation", "world_translation")},
        uncropped,
        size=size,
        pose_signal=spec,
        smplx_model=smplx_model_dir,
    )
    torch.testing.assert_close(inference.cameras.K.float(), item["K"], atol=1e-3, rtol=1e-5)
    training = item["pose"]
    assert training.shape == inference.pose_maps[0].shape == (4, 1, 3, size, size)
    covered = training.sum(dim=2) > 0
    assert float(covered.float().mean()) > 0.01  # the body is drawn, not an empty map
    # Same mesh and cameras up to float error: a pixel may flip at silhouettes.
    close = (training - inference.pose_maps[0]).abs() <= 2.5 / 255
    assert float(close.float().mean()) > 0.995
    # Without the model folder, inference says what it needs (no silent fallback).
    with pytest.raises(InputError) as caught:
        render_camera_pose(params, uncropped, size=size, pose_signal=spec)
    assert caught.value.field == "pose_signal"


@pytest.mark.integration
def test_body_normal_trains_from_shards_as_the_user_runs_it(
    tiny_svd_dir: Path, smplx_shards: Path, smplx_model_dir: Path, tmp_path: Path
) -> None:
    # Relative paths, the console module, the real exit codes: 2 without the model folder.
    shutil.copytree(smplx_shards, tmp_path / "shards")
    shutil.copytree(smplx_model_dir, tmp_path / "models" / "smplx")
    command = [
        *(sys.executable, "-m", "hvg_model.cli", "train", "--config", "tiny"),
        *("--svd-dir", str(tiny_svd_dir), "--data", "shards"),
        *("--set", "model.variant=body_normal", "--set", "schedule.max_steps=1"),
    ]

    def run(*extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*command, *extra],
            cwd=tmp_path,
            env={**os.environ, "HF_HUB_OFFLINE": "1"},
            capture_output=True,
            text=True,
            timeout=600,
        )

    missing = run("--out", "run-missing")
    assert missing.returncode == 2, missing.stderr
    assert "data.smplx_model" in missing.stderr and "SMPLX_NEUTRAL.npz" in missing.stderr
    result = run("--out", "run", "--smplx-model", "models/smplx")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "run" / "metrics.jsonl").is_file()


@pytest.mark.slow
@pytest.mark.integration
def test_a_body_normal_network_generates_with_the_smplx_model(
    tiny_svd_dir: Path, smplx_shards: Path, smplx_model_dir: Path, tmp_path: Path
) -> None:
    # Generation draws the network's body-normal maps from the SMPL-X mesh of the motion.
    shutil.copytree(smplx_model_dir, tmp_path / "models" / "smplx")
    config = _config(
        tiny_svd_dir, smplx_shards, "body_normal", f"data.smplx_model={smplx_model_dir}"
    )
    train(config, tmp_path / "run")
    load_trained_pipeline(tmp_path / "run").save_pretrained(tmp_path / "export")
    Image.fromarray(np.full((64, 64, 3), 128, np.uint8)).save(tmp_path / "ref.png")
    generate = [
        *(sys.executable, "-m", "hvg_model.cli", "generate", "--model", "export"),
        *("--reference", "ref.png", "--steps", "1", "--frames", "2", "--views", "2"),
        *("--size", "64", "--no-align"),
    ]

    def run_generate(*extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*generate, *extra],
            cwd=tmp_path,
            env={**os.environ, "HF_HUB_OFFLINE": "1", "HVG_PROGRESS": "0"},
            capture_output=True,
            text=True,
            timeout=600,
        )

    missing = run_generate("--out", "gen-missing")
    assert missing.returncode == 2, missing.stderr
    assert "SMPL-X" in missing.stderr and "Traceback" not in missing.stderr
    made = run_generate("--out", "gen", "--smplx-model", "models/smplx")
    assert made.returncode == 0, made.stderr
    assert (tmp_path / "gen" / "hvg-views.json").is_file()
