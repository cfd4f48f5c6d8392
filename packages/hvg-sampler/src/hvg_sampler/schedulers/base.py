"""The schedule interface every scheduler implements (built by ``schedulers.factory``)."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import torch


@runtime_checkable
class Schedule(Protocol):
    """What the loop needs from a noise schedule, for ``num_steps`` steps.

    Attributes:
        sigmas: ``(S + 1,)`` float32 noise levels, ending with 0.
        timesteps: ``(S,)`` the network's time input at each step (SVD: ``0.25·log σ``).
        init_noise_sigma: Scale of the initial noise (SVD-xt: ``sqrt(σ_max² + 1)``).
        prediction_type: ``"v_prediction"``, ``"epsilon"`` or ``"sample"``.
    """

    sigmas: torch.Tensor
    timesteps: torch.Tensor
    init_noise_sigma: float
    prediction_type: str

    def scale_model_input(self, sample: torch.Tensor, step_index: int) -> torch.Tensor:
        """The network input for ``sample`` at ``step_index`` (EDM: ``c_in · x``)."""
        ...

    def to_denoised(
        self, model_output: torch.Tensor, sample: torch.Tensor, step_index: int
    ) -> torch.Tensor:
        """The ``x0`` estimate implied by a network output."""
        ...

    def step(
        self, model_output: torch.Tensor, sample: torch.Tensor, step_index: int
    ) -> torch.Tensor:
        """``x`` at ``sigmas[step_index + 1]``."""
        ...


def denoised_from_output(
    model_output: torch.Tensor, sample: torch.Tensor, sigma: float, prediction_type: str
) -> torch.Tensor:
    """``x0`` from a network output under the EDM parameterisation of Euler-family schedulers.

    Args:
        model_output: The (fused, guided) network output.
        sample: The current noisy latents ``x_σ`` (not scaled by ``c_in``).
        sigma: The current noise level.
        prediction_type: ``"v_prediction"`` (SVD-xt), ``"epsilon"`` or ``"sample"``.
    """
    if prediction_type == "v_prediction":
        return model_output * (-sigma / (sigma**2 + 1) ** 0.5) + sample / (sigma**2 + 1)
    if prediction_type == "epsilon":
        return sample - sigma * model_output
    return model_output
