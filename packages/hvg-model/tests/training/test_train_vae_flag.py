"""``hvg-model train --vae DIR`` (``model.vae_dir``): a trained VAE reused without an SVD copy.

The frozen VAE of the run, the pose guider's strides and the exported pipeline's ``vae/`` all
come from ``--vae``; a missing or garbage directory and a VAE whose latent channels the UNet
does not take stop the command with exit code 2, naming ``model.vae_dir``.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from hvg_core.errors import InputError, MissingResourceError
from safetensors.torch import load_file

from hvg_model.cli import cli

WEIGHTS = "diffusion_pytorch_model.safetensors"


@pytest.fixture(scope="module")
def trained_vae(synthetic_shards: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny VAE (4 latent channels, factor 8) trained for 2 steps on the tiny shards."""
    from hvg_model.training.vae import VAETrainSettings, train_vae

    out = tmp_path_factory.mktemp("vae") / "vae"
    settings = VAETrainSettings(steps=2, batch_clips=2, clip_frames=1, seed=5)
    return train_vae(synthetic_shards, out, settings).path


def _save_vae(path: Path, **changes: object) -> Path:
    from hvg_model.configs import tiny_vae_config
    from hvg_model.training.vae import build_vae

    build_vae({**tiny_vae_config(), **changes}, seed=1).save_pretrained(path)
    return path


def _train(*args: str) -> object:
    return CliRunner().invoke(cli, ["train", "--config", "tiny", "--max-steps", "2", *args])


def _assert_same_weights(
    state: dict[str, torch.Tensor], reference: dict[str, torch.Tensor]
) -> None:
    assert state.keys() == reference.keys()
    for name, value in reference.items():
        torch.testing.assert_close(state[name], value, rtol=0, atol=0, msg=name)


def _losses(run: Path) -> list[float]:
    lines = (run / "metrics.jsonl").read_text().splitlines()
    return [json.loads(line)["loss"] for line in lines]


@pytest.mark.slow
def test_train_uses_and_exports_the_given_vae(
    trained_vae: Path, tiny_svd_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hvg_model.pipeline import HVGPipeline
    from hvg_model.training.config import load_config
    from hvg_model.training.vae import install_vae
    from hvg_model.training.worker_setup import WorkerContext, build_worker_state

    monkeypatch.chdir(tmp_path)
    shutil.copytree(trained_vae, "vae")
    # The SVD directory has no vae/ at all: nothing can fall back to it.
    shutil.copytree(
        tiny_svd_dir, "svd", ignore=lambda folder, _: ["vae"] if folder == str(tiny_svd_dir) else []
    )
    procedural = ("--set", "data.dataset=procedural", "--seed", "3")
    result = _train("--svd-dir", "svd", "--vae", "vae", "--out", "run", *procedural)
    assert result.exit_code == 0, result.output
    config = load_config("run/config.json")
    assert config.model.vae_dir == "vae"
    file_weights = load_file(Path("vae") / WEIGHTS)
    state = build_worker_state(config, WorkerContext(), None)
    _assert_same_weights(state.encoders.vae.state_dict(), file_weights)

    # The same run with the VAE copied into the SVD directory (the demo's old route) trains
    # identically, while the tiny SVD directory's own random VAE gives other losses.
    shutil.copytree(tiny_svd_dir, "svd-installed")
    install_vae("svd-installed", "vae")
    result = _train("--svd-dir", "svd-installed", "--out", "run-installed", *procedural)
    assert result.exit_code == 0, result.output
    assert _losses(Path("run")) == _losses(Path("run-installed"))
    own_vae = load_file(tiny_svd_dir / "vae" / WEIGHTS)
    assert any(not torch.equal(own_vae[name], value) for name, value in file_weights.items())

    result = CliRunner().invoke(cli, ["export", "--run", "run", "--out", "exported"])
    assert result.exit_code == 0, result.output
    _assert_same_weights(load_file(Path("exported") / "vae" / WEIGHTS), file_weights)
    exported_config = json.loads((Path("exported") / "vae" / "config.json").read_text())
    trained_config = json.loads((Path("vae") / "config.json").read_text())
    assert exported_config["scaling_factor"] == trained_config["scaling_factor"] != 0.18215
    pipeline = HVGPipeline.from_pretrained("exported")
    _assert_same_weights(pipeline.vae.state_dict(), file_weights)


@pytest.mark.slow
def test_tiny_builds_its_random_unet_for_the_latent_channels_of_the_vae(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--config tiny --vae DIR`` without ``--svd-dir``: the demo's 16-channel VAE just works."""
    from hvg_model.loading import check_latent_channels

    monkeypatch.chdir(tmp_path)
    _save_vae(Path("vae16"), latent_channels=16)
    result = _train("--vae", "vae16", "--out", "run", "--set", "data.dataset=procedural")
    assert result.exit_code == 0, result.output
    unet = json.loads(Path("run/tiny-svd/unet/config.json").read_text())
    assert (unet["in_channels"], unet["out_channels"]) == (32, 16)
    assert check_latent_channels("run/tiny-svd", vae_dir="vae16") == 16
    assert len(_losses(Path("run"))) == 2


def test_the_guider_follows_the_factor_of_the_given_vae(tiny_svd_dir: Path, tmp_path: Path) -> None:
    """The SVD directory's VAE has factor 8; a three-block ``--vae`` (factor 4) sets the strides."""
    from hvg_model.loading import vae_scale_factor
    from hvg_model.training.config import load_config
    from hvg_model.training.network import build_networks

    vae = _save_vae(
        tmp_path / "vae4",
        down_block_types=("DownEncoderBlock2D",) * 3,
        block_out_channels=(32, 32, 32),
    )
    assert vae_scale_factor(tiny_svd_dir) == 8
    assert vae_scale_factor(tiny_svd_dir, vae_dir=vae) == 4
    net, _ = build_networks(load_config("tiny", [f"model.vae_dir={vae}"]), str(tiny_svd_dir))
    assert net.pose_modulator.downscale == 4


def test_a_vae_with_other_latent_channels_stops_before_training(
    tiny_svd_dir: Path, tmp_path: Path
) -> None:
    vae = _save_vae(tmp_path / "vae16", latent_channels=16)
    result = _train(
        "--svd-dir", str(tiny_svd_dir), "--vae", str(vae), "--out", str(tmp_path / "run")
    )
    error = result.exception
    assert isinstance(error, InputError) and error.field == "model.vae_dir", result.output
    assert "16 latent channels" in str(error)
    assert "takes 8 input channels and gives 4" in str(error)
    assert not (tmp_path / "run" / "metrics.jsonl").exists()


@pytest.mark.parametrize(
    ("make", "error_type", "expected"),
    [
        (lambda root: root / "missing", MissingResourceError, "no VAE directory here"),
        (lambda root: _file(root / "a-file"), MissingResourceError, "a file, not a directory"),
        (lambda root: _folder(root / "empty"), MissingResourceError, "missing config.json"),
        (
            lambda root: _folder(root / "no-weights", {"config.json": json.dumps(_vae_json())}),
            MissingResourceError,
            f"missing {WEIGHTS}",
        ),
        (
            lambda root: _folder(root / "not-json", {"config.json": "{", WEIGHTS: ""}),
            InputError,
            "not a JSON model config",
        ),
        (
            lambda root: _folder(
                root / "other-class",
                {
                    "config.json": json.dumps({**_vae_json(), "_class_name": "AutoencoderKL"}),
                    WEIGHTS: "",
                },
            ),
            InputError,
            "describes 'AutoencoderKL'",
        ),
        (
            lambda root: _folder(
                root / "junk-weights", {"config.json": json.dumps(_vae_json()), WEIGHTS: "junk"}
            ),
            InputError,
            "not a readable safetensors file",
        ),
    ],
    ids=["missing", "file", "empty", "no-weights", "not-json", "other-class", "junk-weights"],
)
def test_a_bad_vae_directory_names_the_field(
    tmp_path: Path, make: object, error_type: type[Exception], expected: str
) -> None:
    path = make(tmp_path)  # type: ignore[operator]
    result = _train(
        "--vae", str(path), "--out", str(tmp_path / "run"), "--set", "data.dataset=procedural"
    )
    error = result.exception
    assert type(error) is error_type, result.output
    assert isinstance(error, InputError) and error.field == "model.vae_dir"
    assert expected in str(error) and "AutoencoderKLTemporalDecoder" in str(error)
    assert not (tmp_path / "run" / "tiny-svd").exists(), "checked before anything is written"


def test_weights_that_do_not_fit_the_config_name_the_field(tmp_path: Path) -> None:
    from hvg_model.loading import load_vae

    vae = _save_vae(tmp_path / "vae")
    config = json.loads((vae / "config.json").read_text())
    (vae / "config.json").write_text(json.dumps({**config, "block_out_channels": [64] * 4}))
    with pytest.raises(InputError, match="cannot load this VAE") as caught:
        load_vae(vae)
    assert caught.value.field == "model.vae_dir"


def test_an_empty_vae_path_is_rejected_by_validation() -> None:
    from hvg_model.training.config import load_config, validate

    with pytest.raises(InputError, match="not an empty path") as caught:
        validate(load_config("tiny", ['model.vae_dir=""']))
    assert caught.value.field == "model.vae_dir"


@pytest.mark.integration
@pytest.mark.parametrize("case", ["missing", "garbage", "mismatch"])
def test_console_script_exits_2_naming_model_vae_dir(
    case: str, tiny_svd_dir: Path, tmp_path: Path, hvg_model_script
) -> None:
    """As users run it: the installed script, relative paths, the real exit code."""
    svd = os.path.relpath(tiny_svd_dir, tmp_path)
    if case == "garbage":
        _folder(tmp_path / "vae", {"config.json": "not json", WEIGHTS: "junk"})
    elif case == "mismatch":
        _save_vae(tmp_path / "vae", latent_channels=16)
    result = hvg_model_script(
        tmp_path,
        *("train", "--config", "tiny", "--svd-dir", svd, "--vae", "vae", "--out", "run"),
        *("--max-steps", "1", "--set", "data.dataset=procedural"),
    )
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if "error" in line.lower()]
    assert len(errors) == 1 and "field 'model.vae_dir'" in errors[0], result.stderr
    if case == "mismatch":
        assert "16 latent channels" in errors[0] and "takes 8 input channels" in errors[0]


def _vae_json() -> dict[str, object]:
    from hvg_model.configs import tiny_vae_config

    return {"_class_name": "AutoencoderKLTemporalDecoder", **tiny_vae_config()}


def _file(path: Path) -> Path:
    path.write_text("not a directory")
    return path


def _folder(path: Path, files: dict[str, str] | None = None) -> Path:
    path.mkdir()
    for name, text in (files or {}).items():
        (path / name).write_text(text)
    return path
