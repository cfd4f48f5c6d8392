"""Hooks into the sampling loop: per step, per call and per window."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

    from hvg_sampler.conditioning import WindowGroup
    from hvg_sampler.plan import StepPlan


class SamplerCallback:
    """Base class with no-op hooks; override the ones you need.

    Raise from any hook to interrupt sampling between calls (the exception propagates).
    """

    def on_plan(self, step_index: int, plan: StepPlan) -> None:
        """Called once per step with the step's plan, before any denoiser call."""

    def on_window(self, step_index: int, group: WindowGroup, output: torch.Tensor) -> None:
        """Called per window and branch with its raw output ``(B, v, t, C, h, w)``."""

    def on_step_end(self, step_index: int, sigma: float, latents: torch.Tensor) -> None:
        """Called after the scheduler step with the new latents ``(B, V, T, C, h, w)``."""
