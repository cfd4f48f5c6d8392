"""View windows only.

The paper's static-3D evaluation samples "exclusively along the view dimension" (§4).
"""

from __future__ import annotations

from hvg_sampler.plan import FusionPass
from hvg_sampler.samplers.base import WindowedSampler


class ViewSampler(WindowedSampler):
    """View windows of ``view_window`` views × all frames; frame options unused."""

    name = "view"

    def passes(
        self, num_frames: int, num_views: int, step_index: int, sigma: float
    ) -> tuple[FusionPass, ...]:
        """One view pass."""
        return (self.view_pass(num_frames, num_views),)
