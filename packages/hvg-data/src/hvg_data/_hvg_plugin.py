"""Built-in parts of hvg-data, registered through the `hvg` entry-point group.

Everything is registered as a lazy ``"module:attr"`` string so that listing datasets (and
``hvg-data --help``) imports neither torch nor ray. The tables list parts only: each adapter's
``name``, ``description`` and ``kind`` are read from its class (docs/plugins.md).
"""

from __future__ import annotations

from hvg_core.hookspecs import Register, hookimpl

DATASETS = (
    "hvg_data.datasets.thuman2:Thuman2Adapter",
    "hvg_data.datasets.thuman21:Thuman21Adapter",
    "hvg_data.datasets.twok2k:TwoK2KAdapter",
    "hvg_data.datasets.customhuman:CustomHumanAdapter",
    "hvg_data.datasets.mvhumannet:MVHumanNetAdapter",
    "hvg_data.datasets.synthetic:SyntheticAdapter",
)

SCAN_RENDERERS = (
    "hvg_data.renderers.embree:EmbreeScanRenderer",
    "hvg_data.renderers.reference:ReferenceScanRenderer",
)


@hookimpl
def hvg_register_datasets(register: Register) -> None:
    """Register the built-in dataset adapters."""
    for adapter in DATASETS:
        register(adapter)


@hookimpl
def hvg_register_scan_renderers(register: Register) -> None:
    """Register the built-in scan renderers."""
    for renderer in SCAN_RENDERERS:
        register(renderer)
