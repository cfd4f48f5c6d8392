from __future__ import annotations

import os

import pytest
import torch

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(scope="session")
def tiny_svd_dir(tmp_path_factory: pytest.TempPathFactory):
    from hvg_model.testing import build_tiny_svd_dir

    return build_tiny_svd_dir(tmp_path_factory.mktemp("svd"))


@pytest.fixture(scope="session")
def tiny_svd_unet(tiny_svd_dir):
    from hvg_model.loading import load_svd_unet

    return load_svd_unet(tiny_svd_dir).eval()


@pytest.fixture
def svd_inputs():
    """Inputs for B = 2 samples, V = 3 views, T = 2 frames, 8×8 latents (tiny config)."""

    def make(batch: int = 2, views: int = 3, frames: int = 2, seed: int = 0):
        generator = torch.Generator().manual_seed(seed)
        rows = batch * views
        return {
            "sample": torch.randn(rows, frames, 8, 8, 8, generator=generator),
            "timestep": 0.25 * torch.log(torch.tensor(3.0)),
            "encoder_hidden_states": torch.randn(rows, 1, 32, generator=generator),
            "added_time_ids": torch.tensor([[6.0, 127.0, 0.02]]).repeat(rows, 1),
        }

    return make
