"""A training run exports to a pipeline that loads back and carries the (EMA) weights."""

from __future__ import annotations

import pytest
import torch
from click.testing import CliRunner
from hvg_core.errors import MissingResourceError
from safetensors.torch import load_file


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    from hvg_model.training import load_config, train

    torch.set_num_threads(1)
    run = tmp_path_factory.mktemp("export") / "run"
    config = load_config(
        "tiny",
        ["data.dataset=procedural", "schedule.max_steps=2", "schedule.checkpoint_every=2"],
    )
    train(config, run)
    return run


def test_exported_pipeline_holds_the_ema_weights(tiny_run, tmp_path):
    from hvg_model.cli import cli
    from hvg_model.pipeline import HVGPipeline

    result = CliRunner().invoke(cli, ["export", "--run", str(tiny_run), "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    pipeline = HVGPipeline.from_pretrained(tmp_path)
    (checkpoint,) = sorted((tiny_run / "checkpoints").glob("step-*"))
    ema = load_file(checkpoint / "ema.safetensors")
    raw = load_file(checkpoint / "model.safetensors")
    exported = dict(pipeline.denoising_net.named_parameters())
    moved = 0
    for name, value in exported.items():
        torch.testing.assert_close(value, ema[f"net.{name}"], rtol=0, atol=0)
        moved += int(not torch.equal(ema[f"net.{name}"], raw[f"net.{name}"]))
    assert moved > 0, "EMA and raw weights are identical: the test would not tell them apart"
    assert pipeline.reference_net is not None


def test_export_without_ema_uses_the_raw_weights(tiny_run, tmp_path):
    from hvg_model.training.export import load_trained_pipeline

    pipeline = load_trained_pipeline(tiny_run, use_ema=False)
    (checkpoint,) = sorted((tiny_run / "checkpoints").glob("step-*"))
    raw = load_file(checkpoint / "model.safetensors")
    for name, value in pipeline.denoising_net.named_parameters():
        torch.testing.assert_close(value, raw[f"net.{name}"], rtol=0, atol=0)


def test_export_of_a_folder_without_checkpoints_is_a_clear_error(tmp_path):
    from hvg_model.training.export import export_pipeline

    with pytest.raises(MissingResourceError, match="no checkpoint"):
        export_pipeline(tmp_path, tmp_path / "out")
