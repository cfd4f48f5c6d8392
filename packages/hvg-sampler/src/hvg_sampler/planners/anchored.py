"""Sliding windows that keep anchor indices (e.g. the reference frame 0) in every window."""

from __future__ import annotations

from collections.abc import Sequence

from hvg_core.errors import InputError

from hvg_sampler.planners.sliding import SlidingPlanner
from hvg_sampler.windows import AxisWindows, check_window_arguments


class AnchoredPlanner:
    """MimicMotion-style tiles: the anchors plus ``window - len(anchors)`` consecutive frames.

    The non-anchor indices are planned with :class:`SlidingPlanner` using the *given* overlap,
    so neighbouring windows share ``overlap`` real frames. MimicMotion's tiles share only
    ``overlap - 1`` because the anchor takes one of the overlapping slots (research/sampler.md
    §8 #9); here the overlap means what it says.

    Args:
        anchors: Indices kept in every window.
        axis: Name used in error messages.
    """

    cyclic = False

    def __init__(self, anchors: Sequence[int] = (0,), axis: str = "frame") -> None:
        self.anchors = tuple(int(anchor) for anchor in anchors)
        if len(set(self.anchors)) != len(self.anchors):
            raise InputError(f"anchors repeat an index: {self.anchors}", field="anchors")
        self.axis = axis

    def __call__(self, length: int, window: int, overlap: int) -> AxisWindows:
        """Plan the windows of an axis of ``length`` elements."""
        check_window_arguments(length, window, overlap, axis=self.axis)
        if any(not 0 <= anchor < length for anchor in self.anchors):
            raise InputError(f"anchors {self.anchors} must lie in [0, {length})", field="anchors")
        if length <= window:
            return (tuple(range(length)),)
        span = window - len(self.anchors)
        if span < 1 or overlap >= span:
            raise InputError(
                f"{self.axis} window {window} leaves {span} slots beside {len(self.anchors)} "
                f"anchor(s); it needs more than the overlap ({overlap})",
                field=f"{self.axis}_window",
            )
        rest = [index for index in range(length) if index not in self.anchors]
        inner = SlidingPlanner(self.axis)(len(rest), span, overlap)
        # Sorted, so an anchor at frame 0 sits in slot 0 as MimicMotion's reference pose does and
        # the no-wrap invariant (increasing indices) holds wherever the anchors are.
        return tuple(
            tuple(sorted(self.anchors + tuple(rest[k] for k in positions))) for positions in inner
        )

    def __repr__(self) -> str:
        return f"AnchoredPlanner(anchors={self.anchors}, axis={self.axis!r})"
