import types

import pytest
import torch
from hvg_core import registry as registry_module
from hvg_core.hookspecs import hookimpl
from hvg_core.registry import Registry, make_plugin_manager


def _third_party_weight(length: int) -> torch.Tensor:
    """A plugin's weight: 1 + k mod 3, deliberately asymmetric."""
    return 1.0 + torch.arange(length, dtype=torch.float64) % 3


@pytest.fixture
def plugin_registry(monkeypatch):
    """The process registry plus a third-party plugin registering a fusion weight and a sampler."""
    from hvg_sampler.samplers.temporal import TemporalSampler

    class ThirdPartySampler(TemporalSampler):
        name = "thirdparty-temporal"

    plugin = types.SimpleNamespace()

    @hookimpl
    def hvg_register_fusion_weights(register):
        register("thirdparty-weight", _third_party_weight, description="1 + k mod 3.")

    @hookimpl
    def hvg_register_samplers(register):
        register("thirdparty-temporal", ThirdPartySampler, description="Temporal, renamed.")

    plugin.hvg_register_fusion_weights = hvg_register_fusion_weights
    plugin.hvg_register_samplers = hvg_register_samplers
    manager = make_plugin_manager()
    manager.register(plugin, name="thirdparty")
    registry = Registry(manager)
    monkeypatch.setattr(registry_module, "_REGISTRY", registry)
    return registry
