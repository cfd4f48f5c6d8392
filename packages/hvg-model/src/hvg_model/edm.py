"""SVD's EDM preconditioning (v-prediction with c_noise = 0.25·ln σ), shared by sampling and training.

``D(x; σ) = c_skip(σ)·x + c_out(σ)·F(c_in(σ)·x; c_noise(σ))`` with
``c_skip = 1/(σ²+1)``, ``c_out = −σ/√(σ²+1)``, ``c_in = 1/√(σ²+1)``, ``c_noise = 0.25·ln σ``
(diffusers ``EulerDiscreteScheduler`` with ``prediction_type="v_prediction"``,
``timestep_type="continuous"``; sgm ``VScalingWithEDMcNoise``).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class EDMScalings:
    """Preconditioning coefficients, each with the shape of ``sigma``."""

    c_skip: torch.Tensor
    c_out: torch.Tensor
    c_in: torch.Tensor
    c_noise: torch.Tensor


def edm_scalings(sigma: torch.Tensor) -> EDMScalings:
    """SVD's EDM coefficients for noise levels ``sigma`` (any shape, σ > 0)."""
    sigma = torch.as_tensor(sigma, dtype=torch.float32)
    if bool((sigma <= 0).any()):
        raise ValueError("sigma must be positive")
    variance = sigma**2 + 1.0
    return EDMScalings(
        c_skip=1.0 / variance,
        c_out=-sigma / variance.sqrt(),
        c_in=1.0 / variance.sqrt(),
        c_noise=0.25 * sigma.log(),
    )
