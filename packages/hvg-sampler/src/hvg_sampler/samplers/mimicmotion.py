"""MimicMotion's progressive latent fusion: reference frame in every tile, triangle weights."""

from __future__ import annotations

from typing import Any

from hvg_sampler.options import MimicMotionOptions
from hvg_sampler.plan import FusionPass
from hvg_sampler.planners.anchored import AnchoredPlanner
from hvg_sampler.samplers.base import WindowedSampler


class MimicMotionSampler(WindowedSampler):
    """Temporal tiles ``[anchor] + consecutive frames`` of all views, triangular weights.

    MimicMotion (``pipeline_mimicmotion.py``) keeps frame 0 (the reference pose) in every tile
    and weights positions by ``1 - |2k+1-L|/L``. Unlike MimicMotion, ``frame_overlap`` is the
    real number of shared non-anchor frames (its tiles share ``O - 1``, research §8 #9).

    Args:
        anchors: Frames kept in every tile (default ``[0]``), part of the sampler's config
            (:class:`hvg_sampler.options.MimicMotionOptions`).
        **options: :class:`WindowedSampler` options.
    """

    name = "mimicmotion"
    default_fusion_weight = "triangular"
    options_class = MimicMotionOptions

    def default_planner(self, axis: str) -> Any:
        """Anchored tiles in time (the ``anchors`` option), cyclic views."""
        if axis == "frame":
            anchors = self.options.anchors  # type: ignore[attr-defined]
            return AnchoredPlanner(anchors, axis="frame")
        return super().default_planner(axis)

    def passes(
        self, num_frames: int, num_views: int, step_index: int, sigma: float
    ) -> tuple[FusionPass, ...]:
        """One temporal pass of anchored tiles."""
        return (self.time_pass(num_frames, num_views),)
