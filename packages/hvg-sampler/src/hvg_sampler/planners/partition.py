"""Non-overlapping partition (Human4DiT as the HVG paper describes it)."""

from __future__ import annotations

import math

from hvg_sampler.windows import AxisWindows, check_window_arguments


class PartitionPlanner:
    """Chunks of ``window`` indices with hop ``window``; the overlap argument is ignored.

    When ``window`` does not divide ``length`` the last chunk is shifted back to end at the
    last index (it then overlaps its neighbour) instead of being shortened: the model keeps its
    trained length and no index is left uncovered (Human4DiT's script leaves zero-weight frames
    for T != 96, research/sampler.md §8 #8).

    Args:
        axis: Name used in error messages.
    """

    cyclic = False

    def __init__(self, axis: str = "frame") -> None:
        self.axis = axis

    def __call__(self, length: int, window: int, overlap: int = 0) -> AxisWindows:
        """Plan the windows of an axis of ``length`` elements."""
        check_window_arguments(length, window, 0, axis=self.axis)
        if length <= window:
            return (tuple(range(length)),)
        count = math.ceil(length / window)
        starts = [min(index * window, length - window) for index in range(count)]
        return tuple(tuple(range(start, start + window)) for start in starts)

    def __repr__(self) -> str:
        return f"PartitionPlanner(axis={self.axis!r})"
