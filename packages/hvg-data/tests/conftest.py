from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def fixture_roots(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One fixture tree per real dataset, built once per session."""
    from hvg_data.testing import FIXTURES

    base = tmp_path_factory.mktemp("datasets")
    return {name: make(base / name) for name, make in FIXTURES.items()}


@pytest.fixture(scope="session")
def mvhumannet_fixture(tmp_path_factory: pytest.TempPathFactory):
    from hvg_data.testing import make_mvhumannet_fixture

    return make_mvhumannet_fixture(tmp_path_factory.mktemp("mvh"))


@pytest.fixture(scope="session")
def synthetic_shards(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Shards of 3 walking synthetic subjects (4 views, 4 frames, 48 px), local executor."""
    from hvg_data.config import RenderConfig
    from hvg_data.pipeline import PipelineOptions, run_render

    out = tmp_path_factory.mktemp("shards")
    summary = run_render(
        "synthetic",
        None,
        out,
        RenderConfig(views=4, size=48, shard_size=2),
        adapter_options={"count": 3, "frames": 4},
        options=PipelineOptions(executor="local", progress=False),
    )
    assert not summary.failures, summary.failures
    return out
