"""Sliding windows on a non-cyclic axis, the last one shifted back to end at the last index."""

from __future__ import annotations

import math

from hvg_sampler.windows import AxisWindows, check_window_arguments


def sliding_window_count(length: int, window: int, overlap: int) -> int:
    """``n_lin`` of research/sampler.md §5: 1 if ``length <= window`` else ⌈(L-w)/h⌉ + 1."""
    if length <= window:
        return 1
    return math.ceil((length - window) / (window - overlap)) + 1


class SlidingPlanner:
    """Windows start at ``0, h, 2h, ...``; the last starts at ``length - window``.

    The last window is shifted back rather than wrapped or shortened, so every window keeps the
    size the model was trained on and the end of a video never blends with its start
    (research/sampler.md §8 #1). If ``length <= window`` there is one window covering the axis.

    Args:
        axis: Name used in error messages.
    """

    cyclic = False

    def __init__(self, axis: str = "frame") -> None:
        self.axis = axis

    def __call__(self, length: int, window: int, overlap: int) -> AxisWindows:
        """Plan the windows of an axis of ``length`` elements."""
        check_window_arguments(length, window, overlap, axis=self.axis)
        if length <= window:
            return (tuple(range(length)),)
        hop = window - overlap
        count = sliding_window_count(length, window, overlap)
        starts = [index * hop for index in range(count - 1)] + [length - window]
        return tuple(tuple(range(start, start + window)) for start in starts)

    def __repr__(self) -> str:
        return f"SlidingPlanner(axis={self.axis!r})"
