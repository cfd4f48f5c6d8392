"""HVG's progressive spatio-temporal sampling (paper §3.3)."""

from __future__ import annotations

from hvg_sampler.plan import FusionPass
from hvg_sampler.samplers.base import WindowedSampler


class HVGSampler(WindowedSampler):
    """Temporal windows of all views *and* view windows of all frames at every step.

    Each pass is fused with centre-heavy weights ("overlapping frames … are assigned higher
    weights if they are closer to the segment", paper §3.3), then the temporal- and
    view-dimension results are blended: ``ε = λ(σ)·ε_T + (1 - λ(σ))·ε_V`` with
    ``normalisation="separate"`` (the paper), or jointly normalised over all windows with
    ``"joint"``. The paper's example sizes are ``frame_window=24`` and ``view_window=6``.
    """

    name = "hvg"

    def passes(
        self, num_frames: int, num_views: int, step_index: int, sigma: float
    ) -> tuple[FusionPass, ...]:
        """Temporal pass with weight ``λ(σ)`` and view pass with ``1 - λ(σ)``."""
        blend = self.blend_at(sigma)
        passes = []
        if blend > 0:
            passes.append(self.time_pass(num_frames, num_views, blend))
        if blend < 1:
            passes.append(self.view_pass(num_frames, num_views, 1.0 - blend))
        return tuple(passes)
