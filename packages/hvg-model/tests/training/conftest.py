from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
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


def _run_hvg_model(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(Path(sys.executable).with_name("hvg-model")), *args],
        cwd=cwd,
        env={**os.environ, "HF_HUB_OFFLINE": "1", "HVG_PROGRESS": "0"},
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def hvg_model_script() -> Callable[..., subprocess.CompletedProcess[str]]:
    """Runs the installed ``hvg-model`` console script in a working folder: ``(cwd, *args)``."""
    return _run_hvg_model
