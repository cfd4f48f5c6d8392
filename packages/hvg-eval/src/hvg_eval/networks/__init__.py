"""Feature networks in plain torch whose ``state_dict`` matches the reference weight files.

Importing this package does not import torch or torchvision; each network lives in its own
module. Metrics never import a network directly: they name one (``feature_network=...``) and
:func:`load_feature_network` finds it in the ``feature_networks`` registry kind, so a network a
plugin registers is used exactly like a built-in one.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hvg_eval.weights.loading import WeightRecord


def feature_network_names() -> list[str]:
    """Registered feature-network names (built-ins and plug-ins)."""
    from hvg_core.registry import get_registry

    return get_registry().names("feature_networks")


def load_feature_network(
    name: str,
    *,
    metric: str,
    weights_dir: str | os.PathLike[str] | None = None,
    allow_unverified: bool = False,
    **options: Any,
) -> tuple[Any, list[WeightRecord]]:
    """Build the feature network registered as ``name`` and load its weight files.

    The registration's ``weights`` metadata lists the files: a weight-registry key loaded into
    the whole network, or ``{"file": key, "module": attribute, "keep_prefix": prefix}`` for one
    submodule. A network registered without ``weights`` is used as its constructor leaves it.

    Args:
        name: Registry name, e.g. ``"fid-inception-v3"``.
        metric: Metric label for messages about missing weight files.
        weights_dir: Highest-priority weight directory.
        allow_unverified: Accept checksum mismatches (recorded as unverified).
        **options: Constructor keywords of the network.

    Returns:
        ``(network in eval mode, weight records)``.

    Raises:
        hvg_core.errors.InputError: ``name`` is not registered (field ``feature_network``).
    """
    from hvg_core.errors import InputError
    from hvg_core.registry import get_registry

    registry = get_registry()
    if ("feature_networks", name) not in registry:
        raise InputError(
            f"{metric}: unknown feature network {name!r}; available: "
            f"{', '.join(registry.names('feature_networks'))}",
            field="feature_network",
        )
    entry = registry.entry("feature_networks", name)
    network = entry.load()(**options)
    records = []
    if entry.metadata.get("weights"):
        from hvg_eval.weights.loading import load_network

        for spec in entry.metadata["weights"]:
            spec = {"file": spec} if isinstance(spec, str) else dict(spec)
            module = getattr(network, spec["module"]) if spec.get("module") else network
            records.append(
                load_network(
                    spec["file"],
                    module,
                    metric=metric,
                    weights_dir=weights_dir,
                    allow_unverified=allow_unverified,
                    keep_prefix=spec.get("keep_prefix"),
                )
            )
    return (network.eval() if hasattr(network, "eval") else network), records


__all__ = ["feature_network_names", "load_feature_network"]
