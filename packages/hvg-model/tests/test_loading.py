from __future__ import annotations

import shutil

import pytest
from hvg_core.errors import MissingResourceError

from hvg_model.denoising_net import HVGDenoisingNet
from hvg_model.loading import check_model_dir, load_frozen_components


def test_missing_directory_says_what_is_expected(tmp_path):
    with pytest.raises(MissingResourceError) as error:
        HVGDenoisingNet.from_svd(tmp_path / "nowhere")
    message = str(error.value)
    assert (
        "nowhere" in message
        and "unet/" in message
        and "stable-video-diffusion-img2vid-xt" in message
    )
    assert error.value.exit_code == 2


def test_missing_component_is_named(tmp_path, tiny_svd_dir):
    copy = tmp_path / "svd"
    shutil.copytree(tiny_svd_dir, copy)
    shutil.rmtree(copy / "image_encoder")
    with pytest.raises(MissingResourceError, match=r"missing image_encoder/config\.json"):
        check_model_dir(copy)
    with pytest.raises(MissingResourceError, match="image_encoder"):
        load_frozen_components(copy)


def test_frozen_components_load_from_the_tiny_directory(tiny_svd_dir):
    frozen = load_frozen_components(tiny_svd_dir)
    assert frozen.vae.config.scaling_factor == pytest.approx(0.18215)
    assert frozen.image_encoder.config.projection_dim == 32
    assert frozen.scheduler.config.sigma_min == pytest.approx(0.002)
    assert not any(p.requires_grad for p in frozen.vae.parameters())
    assert not frozen.image_encoder.training
