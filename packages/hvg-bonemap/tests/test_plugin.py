import importlib
import sys

import pluggy

from hvg_bonemap import _hvg_plugin


def collect(hook_name):
    registered = []

    def register(name, obj, *, description="", **metadata):
        registered.append((name, obj, description, metadata))

    # The registry's register(name, part, ...) form; descriptions come from the parts.

    getattr(_hvg_plugin, hook_name)(register)
    return registered


def test_hooks_use_the_hvg_marker_and_register_lazy_strings():
    assert isinstance(_hvg_plugin.hookimpl, pluggy.HookimplMarker)
    for hook in (
        "hvg_register_bonemap_backends",
        "hvg_register_body_models",
        "hvg_register_pose_signals",
    ):
        assert hasattr(getattr(_hvg_plugin, hook), "hvg_impl")
        entries = collect(hook)
        assert entries
        for name, obj, description, _ in entries:
            assert isinstance(obj, str) and ":" in obj and not description, name
            module, attr = obj.split(":")
            if name in ("embree",):
                continue  # imports embreex only when constructed
            part = getattr(importlib.import_module(module), attr)
            assert part.__doc__.strip(), f"{obj}: its docstring is its registry description"


def load(reference):
    module, attr = reference.split(":")
    return getattr(importlib.import_module(module), attr)


def test_registered_names_and_metadata():
    backends = {e[0]: e for e in collect("hvg_register_bonemap_backends")}
    assert backends["analytic"][3]["default"] is True
    assert "cuda" in load(backends["analytic"][1]).devices  # a class fact, not a table entry
    signals = {e[0]: load(e[1]).channels for e in collect("hvg_register_pose_signals")}
    assert signals == {"bonemap": 4, "depth": 1, "normal": 3, "skeleton2d": 3, "body_normal": 3}
    assert {e[0] for e in collect("hvg_register_body_models")} == {"anthropometric", "smplx"}


def test_plugin_module_imports_no_torch():
    import subprocess

    code = "import sys, hvg_bonemap._hvg_plugin, hvg_bonemap; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
