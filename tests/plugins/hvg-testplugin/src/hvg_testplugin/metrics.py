"""A metric: the largest absolute pixel difference between paired videos (lower is better).

It follows ``hvg_eval``'s metric contract (see ``hvg_eval.metrics.base``): ``update`` takes
``(B, V, T, 3, H, W)`` float videos in [0, 1], memory stays constant, ``compute`` returns a float.
"""

from __future__ import annotations

import torch


class MaxAbsDifference:
    """Largest ``|real - fake|`` over every pixel, channel, frame and view seen so far."""

    name = "testplugin-max-abs"
    higher_is_better = False
    paired = True

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forget every video seen."""
        self.largest = 0.0
        self.count = 0

    def update(self, real: torch.Tensor, fake: torch.Tensor) -> None:
        """Add one batch of paired videos ``(B, V, T, 3, H, W)`` in [0, 1]."""
        if real.shape != fake.shape:
            raise ValueError(f"real {tuple(real.shape)} and fake {tuple(fake.shape)} differ")
        self.largest = max(self.largest, float((real - fake).abs().max()))
        self.count += real.shape[0]

    def compute(self) -> float:
        """The largest absolute difference, in [0, 1]."""
        if self.count == 0:
            raise ValueError("no videos were given to testplugin-max-abs")
        return self.largest
