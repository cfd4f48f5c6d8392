from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def tiny_svd_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One tiny random SVD directory shared by the training tests (built by hvg_model.testing)."""
    from hvg_model.testing import build_tiny_svd_dir

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    return build_tiny_svd_dir(tmp_path_factory.mktemp("svd") / "tiny-svd", seed=0)


@pytest.fixture(scope="session")
def synthetic_shards(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """hvg-data ``synthetic`` people rendered once for the tiny config (4 subjects, 8 views, 64²)."""
    from hvg_model.training.config import load_config
    from hvg_model.training.sources import render_synthetic_shards

    return render_synthetic_shards(load_config("tiny"), tmp_path_factory.mktemp("data") / "shards")
