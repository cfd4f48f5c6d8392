"""The training budget of a window: how many images and frames one denoiser window may hold.

A network sees at inference what it saw in training only if no window is larger than a training
sample. HVG's stage 2 trains on samples of 72 images (views × frames layouts such as 8 × 9 or
3 × 24, at most 24 frames), so by default every window keeps ``v · t <= 72`` and ``t <= 24``
(paper §4 "Implementation"; the layouts are this project's, docs/deviations.md). A temporal
window of 24 frames then holds 3 views, and a view window of 6 views holds 12 frames: the
windows along the *other* axis are split by the same planners, with the overlap scaled to the
window (:func:`scaled_overlap`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from hvg_core.errors import InputError

__all__ = ["PAPER_BUDGET", "WindowBudget", "budget_from_layouts", "scaled_overlap"]


@dataclass(frozen=True)
class WindowBudget:
    """Largest window one denoiser window may hold.

    Attributes:
        max_images: Images ``v · t`` per window and per sample (``None``: no limit).
        max_frames: Frames ``t`` per window, the temporal attention length (``None``: no limit).
        source: Where the numbers come from (``"paper"`` or the model's training config).
    """

    max_images: int | None = 72
    max_frames: int | None = 24
    source: str = "paper"

    def __post_init__(self) -> None:
        for name in ("max_images", "max_frames"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value < 1):
                raise InputError(
                    f"{name} must be an integer >= 1 or None, got {value!r}", field=name
                )

    def views_for(self, frames: int) -> int | None:
        """Most views a window of ``frames`` frames may hold (``None``: unlimited)."""
        if self.max_images is None:
            return None
        return max(1, self.max_images // max(1, frames))

    def frames_for(self, views: int) -> int | None:
        """Most frames a window of ``views`` views may hold (``None``: unlimited)."""
        limits = [self.max_frames] if self.max_frames is not None else []
        if self.max_images is not None:
            limits.append(max(1, self.max_images // max(1, views)))
        return min(limits) if limits else None

    def to_json(self) -> dict[str, int | str | None]:
        """``{"max_images_per_window", "max_frames_per_window", "source"}``."""
        return {
            "max_images_per_window": self.max_images,
            "max_frames_per_window": self.max_frames,
            "source": self.source,
        }


#: The paper's stage-2 sample (72 images) with this project's longest layout (3 views × 24).
PAPER_BUDGET = WindowBudget(max_images=72, max_frames=24, source="paper")


def budget_from_layouts(
    layouts: Iterable[Sequence[int]], *, source: str = "training layout"
) -> WindowBudget:
    """The budget of a training run: the largest ``views × frames`` and the most frames.

    Args:
        layouts: ``(views, frames)`` pairs a run trained on (stage 1: ``[(48, 1)]``).
        source: Recorded in the budget.

    Raises:
        InputError: No layout, or a layout that is not two positive integers.
    """
    pairs = [tuple(int(x) for x in layout) for layout in layouts]
    if not pairs or any(len(p) != 2 or min(p) < 1 for p in pairs):
        raise InputError(
            f"training layouts must be (views, frames) pairs of positive integers, got {pairs}",
            field="views_frames",
        )
    return WindowBudget(
        max_images=max(v * t for v, t in pairs),
        max_frames=max(t for _, t in pairs),
        source=source,
    )


def scaled_overlap(cap: int, window: int, overlap: int) -> int:
    """Overlap for a window shrunk to ``cap``: the same fraction of it, at least 1 if any.

    ``24/8`` split to 12 frames gives 4; ``6/2`` split to 3 views gives 1.
    """
    if cap <= 1:
        return 0
    if overlap <= 0:
        return 0
    scaled = round(cap * overlap / max(window, 1))
    return max(1, min(scaled, cap - 1))
