"""Windows over the (view, frame) grid and the invariants every planner must keep.

A *window* is the set of latent images one denoiser call sees: a tuple of frame indices and a
tuple of view indices (the call covers their product). A *pass* is a list of windows that covers
every image of the grid; the fused result of a pass is a weighted average over the windows that
cover each image. Names: ``window`` (size), ``overlap``, ``hop = window - overlap``. Never
"stride".
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from hvg_core.errors import InputError

__all__ = [
    "AxisWindows",
    "Window",
    "check_axis_windows",
    "check_window_arguments",
    "contiguous_runs",
]

#: One axis split into windows: a tuple of windows, each a tuple of indices on that axis.
AxisWindows = tuple[tuple[int, ...], ...]


@dataclass(frozen=True)
class Window:
    """One denoiser call's share of the latent grid.

    Attributes:
        frames: Frame indices ``(t,)`` in the order the denoiser sees them.
        views: View indices ``(v,)`` in the order the denoiser sees them.
        pass_name: The pass this window belongs to (``"time"``, ``"view"``, ``"grid"``).
    """

    frames: tuple[int, ...]
    views: tuple[int, ...]
    pass_name: str

    @property
    def num_images(self) -> int:
        """Images in the window, ``len(frames) * len(views)``."""
        return len(self.frames) * len(self.views)

    @property
    def shape(self) -> tuple[int, int]:
        """``(v, t)``: windows of equal shape can share one batched denoiser call."""
        return len(self.views), len(self.frames)


def check_window_arguments(length: int, window: int, overlap: int, *, axis: str) -> None:
    """Reject meaningless window sizes with a message naming the axis.

    Raises:
        InputError: ``length < 1``, ``window < 1`` or ``overlap`` outside ``[0, window)``.
    """
    if length < 1:
        raise InputError(f"the {axis} axis must have at least 1 element, got {length}", field=axis)
    if window < 1:
        raise InputError(f"{axis} window must be >= 1, got {window}", field=f"{axis}_window")
    if not 0 <= overlap < window:
        raise InputError(
            f"{axis} overlap must satisfy 0 <= overlap < window ({window}), got {overlap}",
            field=f"{axis}_overlap",
        )


def check_axis_windows(
    windows: Sequence[Sequence[int]], length: int, window: int, *, cyclic: bool, axis: str
) -> None:
    """Enforce the planner invariants on one axis.

    Invariants: at least one window; full coverage of ``range(length)``; every window has size
    ``min(window, length)``; no duplicate index inside a window; indices in range; and, on a
    non-cyclic axis, strictly increasing indices (so nothing wraps from the end to the start,
    the bug of the "uniform" context scheduler, research/sampler.md §8 #1).

    Raises:
        InputError: Naming the axis, the window and the broken invariant.
    """
    if not windows:
        raise InputError(f"the {axis} planner returned no window", field=axis)
    size = min(window, length)
    covered: set[int] = set()
    for number, indices in enumerate(windows):
        where = f"{axis} window {number} {tuple(indices)}"
        if len(indices) != size:
            raise InputError(f"{where} has {len(indices)} indices, expected {size}", field=axis)
        if len(set(indices)) != len(indices):
            raise InputError(f"{where} repeats an index", field=axis)
        if any(not 0 <= index < length for index in indices):
            raise InputError(f"{where} has an index outside [0, {length})", field=axis)
        if not cyclic and any(b <= a for a, b in itertools.pairwise(indices)):
            raise InputError(
                f"{where} is not increasing: it wraps on the non-cyclic {axis} axis", field=axis
            )
        covered.update(indices)
    missing = sorted(set(range(length)) - covered)
    if missing:
        raise InputError(f"{axis} windows leave indices {missing} uncovered", field=axis)


def contiguous_runs(indices: Sequence[int]) -> tuple[tuple[int, int, int], ...]:
    """Split indices into runs of consecutive values.

    Returns:
        ``(position, start, stop)`` per run: ``indices[position:position + stop - start]`` equals
        ``range(start, stop)``. A wrapped cyclic window ``(6, 7, 0, 1)`` gives two runs, so the
        sampler reads and writes it through views instead of gathered copies.
    """
    runs: list[tuple[int, int, int]] = []
    position = 0
    while position < len(indices):
        start = indices[position]
        end = position + 1
        while end < len(indices) and indices[end] == indices[end - 1] + 1:
            end += 1
        runs.append((position, start, start + end - position))
        position = end
    return tuple(runs)
