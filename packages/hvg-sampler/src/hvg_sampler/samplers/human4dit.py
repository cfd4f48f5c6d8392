"""Human4DiT as the HVG paper describes it: a non-overlapping partition of frames and views."""

from __future__ import annotations

from typing import Any

from hvg_sampler.plan import FusionPass
from hvg_sampler.samplers.base import WindowedSampler


class Human4DiTSampler(WindowedSampler):
    """Grid of ``frame_window × view_window`` blocks, no overlap, flat weights.

    "Human4DiT employs a multi-view multi-frame sampling strategy by partitioning views and
    frames into non-overlapping segments" (HVG paper §2). Overlaps are ignored; where a window
    does not divide the axis, the last block is shifted back (see
    :class:`~hvg_sampler.planners.PartitionPlanner`). The released long-video script differs
    (overlapping temporal windows plus a view-packed pass, T = 96 only; research §2.5).
    """

    name = "human4dit"
    default_fusion_weight = "flat"

    def default_planner(self, axis: str) -> Any:
        """Non-overlapping partitions on both axes."""
        return "partition"

    def passes(
        self, num_frames: int, num_views: int, step_index: int, sigma: float
    ) -> tuple[FusionPass, ...]:
        """One grid pass."""
        return (
            FusionPass(
                name="grid",
                frame_windows=self.frame_windows(num_frames),
                view_windows=self._budget_view_windows(num_frames, num_views),
                frame_weight=self.frame_fusion_weight,
                view_weight=self.view_fusion_weight,
                frame_cyclic=bool(self.frame_planner.cyclic),
                view_cyclic=bool(self.view_planner.cyclic),
            ),
        )

    def _budget_view_windows(self, num_frames: int, num_views: int) -> tuple[tuple[int, ...], ...]:
        """View blocks, narrowed so that a block of frames × views stays within the budget."""
        cap = self.views_per_time_window(num_frames)
        if cap is None or cap >= min(self.view_window, num_views):
            return self.view_windows(num_views)
        return tuple(self.view_planner(num_views, cap, 0))
