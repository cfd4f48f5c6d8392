"""L1 per frame.

- ``disco`` (the paper's tables): mean absolute difference of the 0-255 values over H·W·3,
  divided by H·W (DisCo ``l1_eval``). Values around 1e-5 at 576²; they depend on resolution, so
  the resolution is recorded with every result.
- ``mae``: the plain mean absolute difference on [0, 1].
"""

from __future__ import annotations

import functools
from typing import Any

import torch

from hvg_eval.metrics.base import PairedFrameMetric, to_uint8
from hvg_eval.metrics.whole_frame import l1_whole_frames
from hvg_eval.ops.exact_sum import difference_sums
from hvg_eval.ops.threads import kernel_threads


def l1(real: torch.Tensor, fake: torch.Tensor, *, variant: str = "disco") -> torch.Tensor:
    """L1 per frame.

    Args:
        real: uint8 ``(N, 3, H, W)`` or float in [0, 1] (quantised with ``round(x*255)``).
        fake: Same shape.
        variant: ``disco`` or ``mae``.

    Returns:
        float64 ``(N,)``.
    """
    real_u8 = real if real.dtype == torch.uint8 else to_uint8(real)
    fake_u8 = fake if fake.dtype == torch.uint8 else to_uint8(fake)
    # Exact integer sum, one division: the correctly rounded mean absolute difference.
    with kernel_threads(real_u8.device):
        total = difference_sums(real_u8, fake_u8, squared=False)
    mae = total / real_u8[0].numel()
    if variant == "mae":
        return mae / 255.0
    height, width = real_u8.shape[-2:]
    return mae / (height * width)


class L1(PairedFrameMetric):
    """Streaming L1 (mean over frames)."""

    name = "l1"
    higher_is_better = False

    def per_frame(self, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        """L1 of ``(N, 3, H, W)`` frames in [0, 1]."""
        return l1(real, fake, variant=self.protocol.l1_variant)

    def per_frame_kernel(self) -> Any:
        """The whole-frame kernel with this protocol's conventions bound, for ``torch.compile``.

        :func:`~hvg_eval.metrics.whole_frame.l1_whole_frames`: the eager kernel breaks
        dynamo's graph.
        """
        return functools.partial(l1_whole_frames, variant=self.protocol.l1_variant)

    def conventions(self) -> dict[str, Any]:
        """L1 conventions, for result JSON."""
        variant = self.protocol.l1_variant
        return {
            **super().conventions(),
            "variant": variant,
            "definition": "MAE(0-255) / (H*W)" if variant == "disco" else "MAE on [0, 1]",
        }
