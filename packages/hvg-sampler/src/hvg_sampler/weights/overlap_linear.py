"""Overlap-only linear crossfade (ADE / ComfyUI ``overlap-linear``, from WanVideoWrapper)."""

from __future__ import annotations

import torch


def overlap_linear_weights(
    length: int, *, overlap_before: int = 0, overlap_after: int = 0
) -> torch.Tensor:
    """1 in the window's own part, linear ramps over its *actual* overlaps.

    The first ``overlap_before`` positions ramp up as ``(j + 1)/(O + 1)`` and the last
    ``overlap_after`` ramp down symmetrically, so two windows sharing ``O`` positions crossfade
    with weights summing to 1 at every shared position. The ramp length follows the overlap
    the sampler measured (research/sampler.md §7.2), not the nominal one; ramps never reach 0.

    Args:
        length: Window size.
        overlap_before: Positions shared with the previous window on this axis.
        overlap_after: Positions shared with the next window on this axis.

    Returns:
        ``(length,)`` float64, values in ``(0, 1]``.
    """
    weights = torch.ones(length, dtype=torch.float64)
    before = max(0, min(int(overlap_before), length))
    after = max(0, min(int(overlap_after), length))
    if before:
        ramp = torch.arange(1, before + 1, dtype=torch.float64) / (before + 1)
        weights[:before] = torch.minimum(weights[:before], ramp)
    if after:
        ramp = torch.arange(after, 0, -1, dtype=torch.float64) / (after + 1)
        weights[length - after :] = torch.minimum(weights[length - after :], ramp)
    return weights
