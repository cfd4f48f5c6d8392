"""Run the windowed loop with a diffusers scheduler object (e.g. ``EulerDiscreteScheduler``)."""

from __future__ import annotations

import copy
from typing import Any

import torch

from hvg_sampler.schedulers.base import denoised_from_output


class DiffusersSchedule:
    """Adapter from a diffusers scheduler to :class:`hvg_sampler.schedulers.Schedule`.

    The scheduler is deep-copied so its step counter is private to one sampling run; its
    ``step`` receives the *fused* model output once per step, as in SVD's pipeline.

    Args:
        scheduler: A diffusers scheduler with ``set_timesteps``, ``scale_model_input``, ``step``
            and ``sigmas`` (Euler-family schedulers).
        num_steps: Number of steps.
    """

    def __init__(self, scheduler: Any, num_steps: int) -> None:
        self.scheduler = copy.deepcopy(scheduler)
        self.scheduler.set_timesteps(num_steps)
        self.num_steps = int(num_steps)
        self.timesteps = torch.as_tensor(self.scheduler.timesteps)
        sigmas = getattr(self.scheduler, "sigmas", None)
        if sigmas is None:
            raise TypeError(
                f"{type(scheduler).__name__} has no `sigmas`; only σ-parameterised (Euler-"
                "family) diffusers schedulers are supported"
            )
        self.sigmas = torch.as_tensor(sigmas, dtype=torch.float32)
        self.init_noise_sigma = float(self.scheduler.init_noise_sigma)
        self.prediction_type = str(self.scheduler.config.prediction_type)

    def scale_model_input(self, sample: torch.Tensor, step_index: int) -> torch.Tensor:
        """Delegate to the scheduler (it needs its step index set)."""
        self._sync(step_index)
        return self.scheduler.scale_model_input(sample, self.timesteps[step_index])

    def to_denoised(
        self, model_output: torch.Tensor, sample: torch.Tensor, step_index: int
    ) -> torch.Tensor:
        """``x0`` with the EDM parameterisation of Euler-family schedulers."""
        return denoised_from_output(
            model_output, sample, float(self.sigmas[step_index]), self.prediction_type
        )

    def step(
        self, model_output: torch.Tensor, sample: torch.Tensor, step_index: int
    ) -> torch.Tensor:
        """One scheduler step on the fused output."""
        self._sync(step_index)
        return self.scheduler.step(
            model_output, self.timesteps[step_index], sample, return_dict=False
        )[0]

    def _sync(self, step_index: int) -> None:
        # diffusers keeps its own counter; pin it so a skipped or repeated call cannot desync.
        if hasattr(self.scheduler, "_step_index"):
            self.scheduler._step_index = step_index

    def __repr__(self) -> str:
        return f"DiffusersSchedule({type(self.scheduler).__name__}, num_steps={self.num_steps})"
