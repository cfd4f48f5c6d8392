"""Fixtures shared by the cross-package tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def tiny_pipeline_dir(tmp_path_factory) -> Path:
    """A tiny random pipeline directory, the layout `hvg-model export` writes."""
    from hvg_model.testing import build_tiny_hvg_dir

    return build_tiny_hvg_dir(tmp_path_factory.mktemp("tiny-pipeline") / "model", seed=0)
