"""Backends and body models by name: the hvg registry when hvg-core is there, built-ins without.

CI also runs this package's tests with hvg-bonemap installed alone (no hvg-core), where every
lookup takes the built-in path; these tests force that path in the full workspace too.
"""

import importlib.util
import sys

import pytest
import torch

from hvg_bonemap import ellipsoids_from_joints, orbit_cameras, render
from hvg_bonemap._validation import BoneMapInputError
from hvg_bonemap.bodies import AnthropometricBody, body_model, body_model_names, rest_joints
from hvg_bonemap.renderers.reference import ReferenceRenderer
from hvg_bonemap.rendering import backend_names

HAS_CORE = importlib.util.find_spec("hvg_core") is not None


@pytest.fixture(params=["registry", "alone"])
def lookup(request, monkeypatch):
    """Run a test with hvg-core importable (when installed) and with hvg-core missing."""
    if request.param == "alone":
        monkeypatch.setitem(sys.modules, "hvg_core", None)  # `import hvg_core` now fails
        monkeypatch.setitem(sys.modules, "hvg_core.registry", None)
    return request.param


def test_builtin_names_are_listed(lookup):
    assert {"analytic", "reference", "embree"} <= set(backend_names())
    assert {"anthropometric", "smplx"} <= set(body_model_names())


def test_render_by_name_uses_that_backend(lookup):
    joints = rest_joints()[None]
    cameras = orbit_cameras(1, width=16, height=16, target=joints[0, 0])[:, None]
    ellipsoids = ellipsoids_from_joints(joints, "paper", "thin")
    by_name = render(ellipsoids, cameras, backend="reference")
    direct = ReferenceRenderer()(ellipsoids, cameras)
    assert torch.equal(by_name.depth, direct.depth) and torch.equal(by_name.mask, direct.mask)


def test_unknown_names_list_the_available_ones(lookup):
    joints = rest_joints()[None]
    cameras = orbit_cameras(1, width=8, height=8)[:, None]
    with pytest.raises(
        BoneMapInputError, match=r"backend: unknown backend 'nope'.*analytic"
    ) as info:
        render(ellipsoids_from_joints(joints), cameras, backend="nope")
    registry_used = "hvg plugins" in str(info.value)
    assert registry_used == (lookup == "registry" and HAS_CORE)
    with pytest.raises(BoneMapInputError, match=r"body: unknown body model 'nope'.*anthropometric"):
        body_model("nope")


def test_body_model_takes_only_the_options_its_constructor_accepts(lookup):
    body = body_model("anthropometric", model_path="/not/used", gender="female")
    assert isinstance(body, AnthropometricBody)
