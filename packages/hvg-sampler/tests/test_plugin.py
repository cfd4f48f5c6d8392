from hvg_core.registry import get_registry

from hvg_sampler import _hvg_plugin


def test_everything_registered_lazily():
    registry = get_registry()
    expected = {
        "samplers": {"hvg", "temporal", "view", "human4dit", "mimicmotion", "alternate"},
        "fusion_weights": {
            "flat",
            "pyramid",
            "triangular",
            "gaussian",
            "gaussian-sigma",
            "cosine",
            "overlap-linear",
        },
        "window_planners": {"sliding", "cyclic", "anchored", "partition"},
        "noise_inits": {"independent", "tile-repeat"},
    }
    for kind, names in expected.items():
        entries = {e.name: e for e in registry.entries(kind) if e.distribution == "hvg-sampler"}
        assert set(entries) == names, kind
        for entry in entries.values():
            assert entry.is_lazy and entry.description
            assert callable(entry.load())


def test_hooks_documented():
    for name in dir(_hvg_plugin):
        if name.startswith("hvg_register_"):
            assert getattr(_hvg_plugin, name).__doc__
