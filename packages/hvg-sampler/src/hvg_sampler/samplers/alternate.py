"""Axes alternate step by step (SV4D / CAT4D-style): about half HVG's cost."""

from __future__ import annotations

from hvg_sampler.plan import FusionPass
from hvg_sampler.samplers.base import WindowedSampler


class AlternateSampler(WindowedSampler):
    """Even steps run the temporal pass, odd steps the view pass."""

    name = "alternate"

    def passes(
        self, num_frames: int, num_views: int, step_index: int, sigma: float
    ) -> tuple[FusionPass, ...]:
        """The temporal pass on even steps, the view pass on odd steps."""
        if step_index % 2 == 0:
            return (self.time_pass(num_frames, num_views),)
        return (self.view_pass(num_frames, num_views),)
