"""The schedule interface and the factory that accepts names or diffusers objects."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import torch
from hvg_core.errors import InputError


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


def make_schedule(scheduler: Any, num_steps: int) -> Schedule:
    """Build the schedule for one sampling run.

    Args:
        scheduler: ``"edm-euler"`` or ``None`` (SVD-xt's schedule), a :class:`Schedule`-like
            factory object with ``for_steps(num_steps)``, or a diffusers scheduler instance
            (anything with ``set_timesteps`` and ``step``, e.g. ``EulerDiscreteScheduler``).
        num_steps: Number of denoising steps.

    Raises:
        InputError: Unknown name or unsupported object.
    """
    from hvg_sampler.schedulers.diffusers_adapter import DiffusersSchedule
    from hvg_sampler.schedulers.edm_euler import EDMEulerSchedule

    if num_steps < 1:
        raise InputError(f"num_steps must be >= 1, got {num_steps}", field="num_steps")
    if scheduler is None or scheduler == "edm-euler":
        return EDMEulerSchedule(num_steps)
    if isinstance(scheduler, str):
        raise InputError(
            f"unknown scheduler {scheduler!r}; use 'edm-euler' or pass a diffusers scheduler",
            field="scheduler",
        )
    if hasattr(scheduler, "for_steps"):
        return scheduler.for_steps(num_steps)
    if hasattr(scheduler, "set_timesteps") and hasattr(scheduler, "step"):
        return DiffusersSchedule(scheduler, num_steps)
    raise InputError(
        f"unsupported scheduler object {type(scheduler).__name__}: expected 'edm-euler', an "
        "EDMEulerSchedule or a diffusers scheduler",
        field="scheduler",
    )
