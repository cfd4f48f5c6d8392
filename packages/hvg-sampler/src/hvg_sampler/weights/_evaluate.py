"""Call fusion weights through their contract and check what they return."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

import torch
from hvg_core.errors import HVGError, InputError

OPTIONAL_ARGUMENTS = ("overlap_before", "overlap_after", "sigma")


@functools.lru_cache(maxsize=256)
def _accepted(function: Callable[..., Any]) -> frozenset[str]:
    try:
        parameters = inspect.signature(function).parameters
    except (TypeError, ValueError):  # builtins without a signature take only the length
        return frozenset()
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return frozenset(OPTIONAL_ARGUMENTS)
    return frozenset(name for name in OPTIONAL_ARGUMENTS if name in parameters)


def accepts_sigma(function: Callable[..., Any]) -> bool:
    """Whether the weight depends on the noise level (then plans are rebuilt every step)."""
    return "sigma" in _accepted(function)


def evaluate_weights(
    function: Callable[..., Any],
    length: int,
    *,
    overlap_before: int = 0,
    overlap_after: int = 0,
    sigma: float | None = None,
    name: str = "fusion weight",
) -> torch.Tensor:
    """Call ``function(length, **those optional keywords it declares)`` and validate the result.

    Returns:
        ``(length,)`` float64 tensor of finite, positive weights.

    Raises:
        HVGError: The weight broke its contract (wrong shape, non-finite or non-positive value),
            naming the weight and the length.
    """
    offered = {"overlap_before": overlap_before, "overlap_after": overlap_after, "sigma": sigma}
    keywords = {key: offered[key] for key in _accepted(function)}
    values = torch.as_tensor(function(length, **keywords), dtype=torch.float64)
    if values.shape != (length,):
        raise HVGError(
            f"{name} returned shape {tuple(values.shape)} for length {length}; the contract is "
            f"weights(length) -> Tensor ({length},)"
        )
    if not bool(torch.isfinite(values).all()) or not bool((values > 0).all()):
        raise HVGError(
            f"{name} returned non-finite or non-positive weights for length {length}: "
            f"{values.tolist()}; every position needs a weight > 0"
        )
    return values


def fusion_weight_by_name(weight: str | Callable[..., Any]) -> Callable[..., Any]:
    """Resolve a registered fusion-weight name (or pass a callable through).

    Raises:
        hvg_core.errors.UnknownPartError: Unknown name, listing the registered ones.
        InputError: ``weight`` is neither a name nor a callable.
    """
    if callable(weight):
        return weight
    if not isinstance(weight, str):
        raise InputError(
            f"a fusion weight is a registered name or a callable, got {type(weight).__name__}",
            field="fusion_weight",
        )
    from hvg_core.registry import get_registry

    return get_registry().load("fusion_weights", weight)
