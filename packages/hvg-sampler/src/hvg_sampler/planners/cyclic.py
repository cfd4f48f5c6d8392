"""Windows on a cyclic axis (views on a 360° orbit): the last windows wrap to the start."""

from __future__ import annotations

import math

from hvg_sampler.windows import AxisWindows, check_window_arguments


def cyclic_window_count(length: int, window: int, overlap: int) -> int:
    """``n_cyc`` of research/sampler.md §5: ⌈L/h⌉, or 1 if ``length <= window``."""
    if length <= window:
        return 1
    return math.ceil(length / (window - overlap))


class CyclicPlanner:
    """Windows start at ``0, h, 2h, ...`` and take indices modulo ``length``.

    On a closed orbit view ``V-1`` neighbours view ``0``, so wrapping is correct here, unlike on
    the time axis. If ``length <= window`` there is one window ``(0, ..., length-1)``.

    Args:
        axis: Name used in error messages.
    """

    cyclic = True

    def __init__(self, axis: str = "view") -> None:
        self.axis = axis

    def __call__(self, length: int, window: int, overlap: int) -> AxisWindows:
        """Plan the windows of an axis of ``length`` elements."""
        check_window_arguments(length, window, overlap, axis=self.axis)
        if length <= window:
            return (tuple(range(length)),)
        hop = window - overlap
        count = cyclic_window_count(length, window, overlap)
        return tuple(
            tuple((index * hop + offset) % length for offset in range(window))
            for index in range(count)
        )

    def __repr__(self) -> str:
        return f"CyclicPlanner(axis={self.axis!r})"
