"""The paper's Table 3 pose variants train from hvg-data shards with the tiny config.

Each variant's pose input is made by ``hvg_bonemap.pose_codec`` under the run's ``PoseSpec``
(bone-map signals decoded from the stored maps, ``skeleton2d`` drawn from the stored joints and
cameras), and the trained network carries that spec in its config, so an exported pipeline
checks the pose input it is given against it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from hvg_bonemap import PoseSpec
from hvg_core.errors import InputError

from hvg_model.pipeline import HVGPipeline
from hvg_model.training.config import load_config
from hvg_model.training.export import load_trained_pipeline
from hvg_model.training.run import train

CHANNELS = {"bonemap": 4, "depth": 1, "normal": 3, "skeleton2d": 3}


def _config(svd: Path, shards: Path, variant: str) -> object:
    return load_config(
        "tiny",
        [
            f"model.svd_dir={svd}",
            f"data.path={shards}",
            f"model.variant={variant}",
            "schedule.max_steps=2",
            "schedule.checkpoint_every=2",
        ],
    )


@pytest.mark.parametrize("variant", sorted(CHANNELS))
def test_each_table3_variant_trains_from_shards(
    variant: str, tiny_svd_dir: Path, synthetic_shards: Path, tmp_path: Path
) -> None:
    summary = train(_config(tiny_svd_dir, synthetic_shards, variant), tmp_path / "run")
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
