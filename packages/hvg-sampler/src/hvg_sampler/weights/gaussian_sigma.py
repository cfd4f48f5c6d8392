"""σ-dependent Gaussian weights (ADE's experimental ``gauss-sigma``), correct for odd lengths."""

from __future__ import annotations

import torch


def gaussian_sigma_weights(length: int, *, sigma: float | None = None) -> torch.Tensor:
    """``w_k = exp(-½ (a_k / s)²)`` with ``a_k = k - (length-1)/2`` and ``s = 1 + 2·min(4, σ)``.

    ADE's ``gauss-sigma`` (research/sampler.md §4): nearly flat at high noise, peaked on the
    window centre at low noise, so early steps blend windows broadly and late steps keep each
    image's most central window. ADE's ``s = 1 + 8·min(4, σ̄)/4`` is the same ``s``; its final
    rescaling to a fixed norm cancels in the fusion and is left out. Without ``sigma`` (e.g.
    on the command line) it uses the widest profile, ``σ = 4``.

    Returns:
        ``(length,)`` float64, values in ``(0, 1]``.
    """
    level = 4.0 if sigma is None else min(4.0, max(0.0, float(sigma)))
    spread = 1.0 + 2.0 * level
    k = torch.arange(length, dtype=torch.float64)
    return torch.exp(-0.5 * ((k - (length - 1) / 2) / spread) ** 2)
