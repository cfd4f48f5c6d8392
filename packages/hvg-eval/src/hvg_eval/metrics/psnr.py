"""PSNR per frame on 0-255 values, batched in torch.

- ``disco`` (DisCo since 2024-04-10): float64 MSE over all H·W·3 values of a frame,
  ``20·log10(255/√MSE)``, 100 dB when the frames are identical; mean over frames.
- ``skimage``: ``peak_signal_noise_ratio(data_range=255)`` per frame (inf when identical).
- ``legacy-uint8``: DisCo before 2024-04-10, kept only to reproduce old tables: ``(a-b)**2`` in
  uint8 wraps modulo 256 twice, so the MSE is at most 255 and PSNR never drops below 24.07 dB
  (research/metrics.md §4.1). Do not use it for new results.
"""

from __future__ import annotations

import functools
from typing import Any

import torch

from hvg_eval.metrics.base import PairedFrameMetric, to_uint8
from hvg_eval.metrics.whole_frame import psnr_whole_frames
from hvg_eval.ops.exact_sum import difference_sums
from hvg_eval.ops.threads import kernel_threads

PEAK = 255.0


def mse_uint8(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """Mean squared error per frame of uint8 ``(N, 3, H, W)`` frames; float64 ``(N,)``.

    The squared differences are summed exactly (float32 runs below 2**24, see
    :mod:`hvg_eval.ops.exact_sum`) and divided once, so the result is the correctly rounded
    mean (numpy's float64 pairwise sum agrees to ~1e-16).
    """
    return difference_sums(real, fake, squared=True) / real[0].numel()


def psnr(real: torch.Tensor, fake: torch.Tensor, *, variant: str = "disco") -> torch.Tensor:
    """PSNR per frame.

    Args:
        real: uint8 ``(N, 3, H, W)`` or float in [0, 1] (quantised with ``round(x*255)``).
        fake: Same shape.
        variant: ``disco``, ``skimage`` or ``legacy-uint8``.

    Returns:
        float64 ``(N,)`` in dB.
    """
    real_u8 = real if real.dtype == torch.uint8 else to_uint8(real)
    fake_u8 = fake if fake.dtype == torch.uint8 else to_uint8(fake)
    if variant == "legacy-uint8":
        wrapped = (real_u8 - fake_u8) ** 2  # uint8 arithmetic wraps modulo 256, as numpy did
        mse = wrapped.to(torch.float64).mean(dim=(1, 2, 3))
    else:
        with kernel_threads(real_u8.device):
            mse = mse_uint8(real_u8, fake_u8)
    if variant == "skimage":
        return 10 * torch.log10(PEAK**2 / mse)
    value = 20 * torch.log10(PEAK / torch.sqrt(mse))
    return torch.where(mse == 0, torch.full_like(value, 100.0), value)


class PSNR(PairedFrameMetric):
    """Streaming PSNR (mean over frames of per-frame PSNR)."""

    name = "psnr"
    higher_is_better = True

    def per_frame(self, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        """PSNR of ``(N, 3, H, W)`` frames in [0, 1]."""
        return psnr(real, fake, variant=self.protocol.psnr_variant)

    def per_frame_kernel(self) -> Any:
        """The whole-frame kernel with this protocol's conventions bound, for ``torch.compile``.

        :func:`~hvg_eval.metrics.whole_frame.psnr_whole_frames`: the eager kernel breaks
        dynamo's graph.
        """
        return functools.partial(psnr_whole_frames, variant=self.protocol.psnr_variant)

    def conventions(self) -> dict[str, Any]:
        """PSNR conventions, for result JSON."""
        return {
            **super().conventions(),
            "variant": self.protocol.psnr_variant,
            "peak": PEAK,
            "mse_over": "H*W*3 values per frame",
            "identical_frames": "100 dB" if self.protocol.psnr_variant != "skimage" else "inf",
            "average": "mean of per-frame PSNR",
        }
