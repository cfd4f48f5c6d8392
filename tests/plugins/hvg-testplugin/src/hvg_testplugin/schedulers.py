"""A noise schedule from outside hvg-sampler: linear σ, ε-prediction, Euler steps."""

from __future__ import annotations

import torch


class LinearEulerSchedule:
    """``σ_i`` falls linearly from ``sigma_max`` to ``sigma_min``, then 0 (test plugin).

    The network predicts the noise ε (``x0 = x - σ·ε``), its time input is ``σ`` itself and its
    input is not scaled; each step is ``x ← x + (σ_{i+1} - σ_i)·ε``.

    Args:
        num_steps: Steps ``S``.
        sigma_min: Last non-zero σ.
        sigma_max: First σ.
    """

    prediction_type = "epsilon"

    def __init__(self, num_steps: int, sigma_min: float = 0.05, sigma_max: float = 5.0) -> None:
        sigmas = torch.linspace(sigma_max, sigma_min, num_steps, dtype=torch.float32)
        self.sigmas = torch.cat([sigmas, sigmas.new_zeros(1)])
        self.timesteps = sigmas.clone()
        self.init_noise_sigma = float(sigma_max)

    def scale_model_input(self, sample: torch.Tensor, step_index: int) -> torch.Tensor:
        """The sample unchanged."""
        return sample

    def to_denoised(
        self, model_output: torch.Tensor, sample: torch.Tensor, step_index: int
    ) -> torch.Tensor:
        """``x0 = x - σ·ε``."""
        return sample - float(self.sigmas[step_index]) * model_output

    def step(
        self, model_output: torch.Tensor, sample: torch.Tensor, step_index: int
    ) -> torch.Tensor:
        """``x + (σ_{i+1} - σ_i)·ε``."""
        dt = float(self.sigmas[step_index + 1] - self.sigmas[step_index])
        return sample + dt * model_output
