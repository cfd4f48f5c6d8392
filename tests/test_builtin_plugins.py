"""Each workspace package registers its built-ins through the `hvg` hooks, like any plugin.

One test per hook: the built-in names the issues promise are registered by the right package,
and every lazy reference imports and is the kind of object its hook documents.
"""

from __future__ import annotations

import importlib

import click
import pytest
from hvg_core.registry import get_registry
from hvg_core.testing import check_plugin

pytestmark = pytest.mark.integration


BUILTIN_PLUGINS = [
    "hvg_bonemap._hvg_plugin",
    "hvg_data._hvg_plugin",
    "hvg_sampler._hvg_plugin",
    "hvg_model._hvg_plugin",
    "hvg_eval._hvg_plugin",
]


@pytest.mark.parametrize("module", BUILTIN_PLUGINS)
def test_builtin_tables_list_parts_only(module):
    # One source per fact: a table that repeats a part's name, description or class fact fails
    # check_plugin; every part loads and has a one-line description of its own.
    entries = check_plugin(importlib.import_module(module))
    for entry in entries:
        assert entry.repeated == (), (entry.kind, entry.name, entry.repeated)


def test_descriptions_are_the_parts_own():
    registry = get_registry()
    synthetic = registry.load("datasets", "synthetic")
    assert registry.entry("datasets", "synthetic").description == synthetic.description
    assert registry.entry("datasets", "mvhumannet").metadata["kind"] == "capture"
    fid = registry.load("metrics", "fid")
    assert registry.entry("metrics", "fid").description == fid.__doc__.splitlines()[0]
    assert registry.entry("metrics", "psnr").metadata["higher_is_better"] is True
    assert registry.entry("window_planners", "cyclic").metadata["cyclic"] is True


def registered(kind: str, package: str) -> set[str]:
    return {e.name for e in get_registry().entries(kind) if e.distribution == package}


def loads_all(kind: str) -> list[object]:
    return [entry.load() for entry in get_registry().entries(kind)]


def test_hvg_register_body_models():
    assert {"anthropometric", "smplx"} <= registered("body_models", "hvg-bonemap")
    assert all(callable(obj) for obj in loads_all("body_models"))


def test_hvg_register_pose_signals():
    # The paper's Table 3 variants.
    assert registered("pose_signals", "hvg-bonemap") >= {
        "bonemap", "depth", "normal", "skeleton2d", "body_normal",
    }  # fmt: skip
    assert all(callable(obj) for obj in loads_all("pose_signals"))


def test_hvg_register_bonemap_backends():
    assert {"analytic", "reference"} <= registered("bonemap_backends", "hvg-bonemap")
    assert all(callable(obj) for obj in loads_all("bonemap_backends"))


def test_hvg_register_datasets():
    from hvg_data import DatasetAdapter

    assert registered("datasets", "hvg-data") == {
        "thuman2", "thuman21", "2k2k", "customhuman", "mvhumannet", "synthetic",
    }  # fmt: skip
    assert all(issubclass(obj, DatasetAdapter) for obj in loads_all("datasets"))


def test_hvg_register_scan_renderers():
    assert {"embree", "reference"} <= registered("scan_renderers", "hvg-data")
    assert all(callable(obj) for obj in loads_all("scan_renderers"))


def test_hvg_register_window_planners():
    assert {"sliding", "cyclic", "anchored", "partition"} <= registered(
        "window_planners", "hvg-sampler"
    )
    assert all(callable(obj) for obj in loads_all("window_planners"))


def test_hvg_register_fusion_weights():
    import torch

    assert registered("fusion_weights", "hvg-sampler") >= {
        "flat", "pyramid", "triangular", "gaussian", "cosine", "overlap-linear",
    }  # fmt: skip
    for entry in get_registry().entries("fusion_weights"):
        weights = entry.load()(5) if entry.name != "gaussian-sigma" else None
        if weights is not None:
            assert weights.shape == (5,) and bool(torch.all(weights > 0)), entry.name


def test_hvg_register_noise_inits():
    assert {"independent"} <= registered("noise_inits", "hvg-sampler")
    assert all(callable(obj) for obj in loads_all("noise_inits"))


def test_hvg_register_samplers():
    assert registered("samplers", "hvg-sampler") == {
        "hvg", "temporal", "view", "human4dit", "mimicmotion", "alternate",
    }  # fmt: skip


def test_hvg_register_metrics():
    assert registered("metrics", "hvg-eval") == {
        "fid", "fvd", "fid-vid", "lpips", "ssim", "psnr", "l1",
    }  # fmt: skip
    for metric in loads_all("metrics"):
        assert isinstance(metric.name, str) and isinstance(metric.higher_is_better, bool)


def test_hvg_register_feature_networks():
    assert {"fid-inception-v3", "i3d", "resnet3d-50", "lpips-vgg"} <= registered(
        "feature_networks", "hvg-eval"
    )


def test_hvg_register_commands():
    entries = get_registry().entries("commands")
    assert "demo" in {e.name for e in entries if e.metadata.get("group", "hvg") == "hvg"}
    assert all(isinstance(e.load(), click.Command) for e in entries)
