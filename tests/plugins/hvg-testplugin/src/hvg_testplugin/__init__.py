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


@hookimpl
def hvg_register_datasets(register: Register) -> None:
    """Register the box-people dataset."""
    register(
        "testplugin-blocks",
        "hvg_testplugin.datasets:BlocksAdapter",
        description="People made of coloured boxes along the bones (test plugin).",
        kind="scan",
    )


@hookimpl
def hvg_register_metrics(register: Register) -> None:
    """Register the max-abs-difference metric."""
    register(
        "testplugin-max-abs",
        "hvg_testplugin.metrics:MaxAbsDifference",
        description="Largest absolute pixel difference, lower is better (test plugin).",
    )
