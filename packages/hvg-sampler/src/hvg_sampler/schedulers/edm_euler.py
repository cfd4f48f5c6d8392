"""SVD-xt's sampler: Karras σ schedule, EDM preconditioning with v-prediction, Euler steps."""

from __future__ import annotations

import math

import torch
from hvg_core.errors import InputError

from hvg_sampler.schedulers.base import denoised_from_output


class EDMEulerSchedule:
    """The schedule diffusers' ``EulerDiscreteScheduler`` runs with SVD-xt's config.

    SVD-xt ships ``use_karras_sigmas=True, sigma_min=0.002, sigma_max=700,
    timestep_type="continuous", prediction_type="v_prediction", timestep_spacing="leading"``.
    That gives (a test checks equality with diffusers):

    - ``σ_i = (σ_max^{1/ρ} + i/(S-1) · (σ_min^{1/ρ} - σ_max^{1/ρ}))^ρ``, ``ρ = 7``, then 0;
    - network time input ``0.25 · log σ_i``; input scaling ``c_in = 1/sqrt(σ² + 1)``;
    - ``x0 = x/(σ² + 1) - σ/sqrt(σ² + 1) · v`` (v-prediction);
    - Euler: ``x_{i+1} = x_i + (σ_{i+1} - σ_i) · (x_i - x0)/σ_i``;
    - initial noise scale ``sqrt(σ_max² + 1)``.

    Args:
        num_steps: Number of steps ``S``.
        sigma_min: Smallest non-zero σ.
        sigma_max: Largest σ.
        rho: Karras exponent.
        prediction_type: ``"v_prediction"`` (SVD), ``"epsilon"`` or ``"sample"``.
    """

    def __init__(
        self,
        num_steps: int = 25,
        *,
        sigma_min: float = 0.002,
        sigma_max: float = 700.0,
        rho: float = 7.0,
        prediction_type: str = "v_prediction",
    ) -> None:
        if num_steps < 1:
            raise InputError(f"num_steps must be >= 1, got {num_steps}", field="num_steps")
        if not 0 < sigma_min < sigma_max:
            raise InputError(
                f"need 0 < sigma_min < sigma_max, got {sigma_min}, {sigma_max}", field="sigma_min"
            )
        if prediction_type not in {"v_prediction", "epsilon", "sample"}:
            raise InputError(
                f"unknown prediction_type {prediction_type!r}", field="prediction_type"
            )
        self.num_steps = int(num_steps)
        self.sigma_min = float(sigma_min)
        self.sigma_max = float(sigma_max)
        self.rho = float(rho)
        self.prediction_type = prediction_type
        ramp = torch.linspace(0, 1, self.num_steps, dtype=torch.float64)
        low, high = self.sigma_min ** (1 / rho), self.sigma_max ** (1 / rho)
        sigmas = (high + ramp * (low - high)) ** rho
        self.timesteps = (0.25 * sigmas.log()).to(torch.float32)
        self.sigmas = torch.cat([sigmas, sigmas.new_zeros(1)]).to(torch.float32)
        self.init_noise_sigma = math.sqrt(float(self.sigmas.max()) ** 2 + 1)

    def for_steps(self, num_steps: int) -> EDMEulerSchedule:
        """The same schedule with another number of steps."""
        return EDMEulerSchedule(
            num_steps,
            sigma_min=self.sigma_min,
            sigma_max=self.sigma_max,
            rho=self.rho,
            prediction_type=self.prediction_type,
        )

    def scale_model_input(self, sample: torch.Tensor, step_index: int) -> torch.Tensor:
        """``c_in · x = x / sqrt(σ² + 1)``."""
        sigma = float(self.sigmas[step_index])
        return sample / ((sigma**2 + 1) ** 0.5)

    def to_denoised(
        self, model_output: torch.Tensor, sample: torch.Tensor, step_index: int
    ) -> torch.Tensor:
        """``x0`` from the network output (see the class docstring)."""
        return denoised_from_output(
            model_output, sample, float(self.sigmas[step_index]), self.prediction_type
        )

    def step(
        self, model_output: torch.Tensor, sample: torch.Tensor, step_index: int
    ) -> torch.Tensor:
        """One Euler step from ``σ_i`` to ``σ_{i+1}`` (no churn, deterministic).

        With ``x0 = a·out + b·x`` the step ``x + dt·(x - x0)/σ`` is the affine map
        ``(1 + dt(1 - b)/σ)·x - (dt·a/σ)·out``, computed in two fused passes instead of six
        (equal to diffusers' sequence up to float rounding; a test checks the trajectory).
        """
        sigma = float(self.sigmas[step_index])
        dt = float(self.sigmas[step_index + 1]) - sigma
        if self.prediction_type == "v_prediction":
            a, b = -sigma / (sigma**2 + 1) ** 0.5, 1 / (sigma**2 + 1)
        elif self.prediction_type == "epsilon":
            a, b = -sigma, 1.0
        else:
            a, b = 1.0, 0.0
        sample32 = sample.to(torch.float32)
        result = torch.mul(sample32, 1 + dt * (1 - b) / sigma)
        result.add_(model_output.to(torch.float32), alpha=-dt * a / sigma)
        return result.to(model_output.dtype)

    def __repr__(self) -> str:
        return (
            f"EDMEulerSchedule(num_steps={self.num_steps}, sigma_min={self.sigma_min}, "
            f"sigma_max={self.sigma_max}, rho={self.rho}, "
            f"prediction_type={self.prediction_type!r})"
        )
