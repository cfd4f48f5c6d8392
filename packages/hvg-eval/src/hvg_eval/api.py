"""The few calls most users need: list the metrics, compute one on tensors or on files.

::

    import hvg_eval

    hvg_eval.list_metrics()                      # [{"name": "fid", ...}, ...]
    hvg_eval.compute_metric("ssim", real, fake)  # tensors (B, V, T, 3, H, W) in [0, 1]
    hvg_eval.compute_metric("fvd", "gt/", "generated/", weights_dir="weights/")

Everything goes through the ``metrics`` registry kind, so a plugin's metric works the same way.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from hvg_core.errors import InputError

PathLike = str | os.PathLike[str]


def list_metrics() -> list[dict[str, Any]]:
    """Every registered metric (built-in and plug-in), as ``hvg-eval list --json`` shows them.

    Returns:
        One dict per metric: ``name``, ``description``, ``higher_is_better``,
        ``requires_weights`` (weight-file keys, see :data:`hvg_eval.WEIGHT_FILES`) and
        ``provider`` (distribution and version).
    """
    from hvg_core.registry import get_registry

    return [
        {
            "name": entry.name,
            "description": entry.description,
            "higher_is_better": entry.metadata.get("higher_is_better"),
            "requires_weights": list(entry.metadata.get("requires_weights", [])),
            "provider": f"{entry.distribution} {entry.version}",
        }
        for entry in get_registry().entries("metrics")
    ]


def compute_metric(
    name: str,
    real: Any,
    fake: Any,
    *,
    protocol: str = "disco",
    weights_dir: PathLike | None = None,
    device: str = "cpu",
    allow_unverified_weights: bool = False,
    **options: Any,
) -> float:
    """One metric of ``fake`` against ``real``.

    Args:
        name: Registered metric name (:func:`list_metrics`), e.g. ``"fid"`` or ``"ssim"``.
        real: Ground truth: a float tensor ``(B, V, T, 3, H, W)`` in [0, 1], or a path that
            ``hvg-eval run --real`` accepts (frame folders, videos, an HDF5 shard).
        fake: Generated videos, same form as ``real``.
        protocol: ``"disco"`` (default), ``"stylegan-v"`` or ``"clean"``.
        weights_dir: Highest-priority folder for the reference weight files.
        device: Torch device of the metric's network.
        allow_unverified_weights: Accept weight files whose checksum does not match.
        **options: Further constructor options of the metric, for tensors only (e.g.
            ``feature_network="..."`` of the Fréchet metrics and LPIPS).

    Returns:
        The metric's value.

    Raises:
        InputError: Unknown metric, or an option the metric does not take.
        MissingResourceError: A weight file the metric needs is not found.
    """
    from hvg_eval.evaluate import ensure_known, evaluate

    ensure_known([name])
    if isinstance(real, str | os.PathLike) or isinstance(fake, str | os.PathLike):
        if options:
            raise InputError(
                f"{name}: options {sorted(options)} apply to tensors only; for files use "
                "hvg_eval.evaluate",
                field="options",
            )
        document = evaluate(
            [name],
            real,
            fake,
            protocol=protocol,
            weights_dir=weights_dir,
            device=device,
            allow_unverified_weights=allow_unverified_weights,
        )
        return float(document["metrics"][name]["value"])
    metric = _build(name, protocol, weights_dir, device, allow_unverified_weights, options)
    metric.update(real, fake)
    value = metric.compute()
    return float(value["value"] if isinstance(value, Mapping) else value)


def _build(
    name: str,
    protocol: str,
    weights_dir: PathLike | None,
    device: str,
    allow_unverified_weights: bool,
    options: dict[str, Any],
) -> Any:
    import inspect

    from hvg_core.registry import get_registry

    from hvg_eval.evaluate import build_metric
    from hvg_eval.protocols import get_protocol

    chosen = get_protocol(protocol)
    common = {"weights_dir": weights_dir, "device": device}
    if not options:
        return build_metric(
            name, chosen, **common, allow_unverified_weights=allow_unverified_weights
        )
    factory = get_registry().load("metrics", name)
    accepted = inspect.signature(factory).parameters
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise InputError(f"metric {name!r} takes no option {unknown[0]!r}", field=unknown[0])
    candidates = {
        "protocol": chosen,
        **common,
        "allow_unverified_weights": allow_unverified_weights,
        **options,
    }
    return factory(**{key: value for key, value in candidates.items() if key in accepted})
