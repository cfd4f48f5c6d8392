"""Fixtures shared by the cross-package tests."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
TESTPLUGIN = REPO / "tests" / "plugins" / "hvg-testplugin"


@pytest.fixture(scope="session")
def tiny_pipeline_dir(tmp_path_factory) -> Path:
    """A tiny random pipeline directory, the layout `hvg-model export` writes."""
    from hvg_model.testing import build_tiny_hvg_dir

    return build_tiny_hvg_dir(tmp_path_factory.mktemp("tiny-pipeline") / "model", seed=0)


@pytest.fixture(scope="session")
def testplugin_site(tmp_path_factory) -> Path:
    """A folder with hvg-testplugin's distribution metadata (name, version, entry points).

    With this folder and the plugin's ``src/`` on the path, ``importlib.metadata`` finds the
    plugin exactly as if it were installed, without installing it into the environment: a
    user's ``uv sync`` never puts the test plugin in front of them (``hvg plugins``).
    """
    project = tomllib.loads((TESTPLUGIN / "pyproject.toml").read_text(encoding="utf-8"))
    meta = project["project"]
    site = tmp_path_factory.mktemp("testplugin-site")
    dist_info = site / f"{meta['name'].replace('-', '_')}-{meta['version']}.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {meta['name']}\nVersion: {meta['version']}\n",
        encoding="utf-8",
    )
    groups = "".join(
        f"[{group}]\n" + "".join(f"{name} = {target}\n" for name, target in points.items())
        for group, points in meta["entry-points"].items()
    )
    (dist_info / "entry_points.txt").write_text(groups, encoding="utf-8")
    return site


@pytest.fixture
def testplugin_installed(testplugin_site, monkeypatch):
    """hvg-testplugin visible to this process and to the console scripts it starts."""
    from hvg_core.registry import reset_registry

    paths = [str(testplugin_site), str(TESTPLUGIN / "src")]
    for path in reversed(paths):
        monkeypatch.syspath_prepend(path)
    inherited = os.environ.get("PYTHONPATH")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([*paths, *([inherited] if inherited else [])]))
    reset_registry()
    yield
    reset_registry()
