"""A third-party HVG plugin: one dataset, one fusion weight, one metric.

Everything is registered lazily, so importing this module costs nothing.
"""

from __future__ import annotations

from hvg_core.hookspecs import Register, hookimpl


@hookimpl
def hvg_register_fusion_weights(register: Register) -> None:
    """Register the Hann fusion weight."""
    register(
        "testplugin-hann",
        "hvg_testplugin.weights:hann",
        description="Hann window lifted off zero (test plugin).",
    )
