"""The metric contract and the shared machinery of the built-in metrics.

**Contract** (what ``hvg-eval run --metric NAME`` relies on, for built-ins and plugins alike):

- A class registered through ``hvg_register_metrics``, constructible with no arguments; the
  command line passes whichever of ``protocol=`` (name), ``weights_dir=``, ``device=`` and
  ``allow_unverified_weights=`` its ``__init__`` accepts.
- Class attributes ``name: str`` and ``higher_is_better: bool``; optional ``requires_weights:
  tuple[str, ...]`` (keys of :data:`hvg_eval.weights.WEIGHT_FILES`, or free text for a
  plugin's own files) and ``paired: bool`` (default ``True``: real and fake are matched by name).
- ``update(real, fake)``: float tensors ``(B, V, T, C, H, W)`` in [0, 1], ``C = 3``, with the
  same shape when ``paired``; each call adds one batch of videos. Memory must not grow with the
  number of videos beyond per-view / per-frame tallies.
- ``compute() -> float`` or a mapping with a float under ``"value"``; ``reset()`` forgets all.
- Optional: ``breakdown() -> {"per_view": {v: value}, "per_frame": {t: value}}``,
  ``conventions() -> dict`` and ``weight_records() -> list[dict]`` for the report.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import torch
from hvg_core.errors import InputError

from hvg_eval.protocols import Protocol, get_protocol


def as_video_batch(value: Any, argument: str) -> torch.Tensor:
    """Bring images to ``(B, V, T, C, H, W)`` float in [0, 1].

    Accepts torch tensors or numpy arrays of rank 4 ``(B, C, H, W)``, 5 ``(B, T, C, H, W)`` or 6;
    missing axes get size 1. uint8 values are divided by 255; float values must lie in [0, 1].

    Raises:
        InputError: Wrong rank, channel count or value range (argument named).
    """
    tensor = torch.as_tensor(value) if not isinstance(value, torch.Tensor) else value
    if tensor.ndim == 4:
        tensor = tensor[:, None, None]
    elif tensor.ndim == 5:
        tensor = tensor[:, None]
    if tensor.ndim != 6 or tensor.shape[3] != 3:
        raise InputError(
            f"expected (B, V, T, 3, H, W) images (or (B, T, 3, H, W) / (B, 3, H, W)); got "
            f"{tuple(torch.as_tensor(value).shape)}",
            field=argument,
        )
    if tensor.dtype == torch.uint8:
        return tensor.to(torch.float32) / 255.0
    if not tensor.is_floating_point():
        raise InputError(f"expected uint8 or float images; got {tensor.dtype}", field=argument)
    if tensor.numel() and (tensor.min() < 0 or tensor.max() > 1):
        raise InputError(
            f"float images must lie in [0, 1]; got [{float(tensor.min()):.4g}, "
            f"{float(tensor.max()):.4g}]",
            field=argument,
        )
    return tensor


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """``round(x * 255)`` as uint8: exact for frames that came from uint8 files."""
    return torch.round(images * 255.0).clamp_(0, 255).to(torch.uint8)


def check_pair(real: torch.Tensor, fake: torch.Tensor) -> None:
    """Paired metrics need identical shapes.

    Raises:
        InputError: Naming both shapes.
    """
    if real.shape != fake.shape:
        raise InputError(
            f"real {tuple(real.shape)} and fake {tuple(fake.shape)} must have the same "
            "(B, V, T, C, H, W) shape for a paired metric",
            field="fake",
        )


class BreakdownTally:
    """Sums and counts per view index and per frame index (memory ``O(V + T)``)."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forget everything."""
        self.total = 0.0
        self.count = 0
        self.view_sum = np.zeros(0)
        self.view_count = np.zeros(0, dtype=np.int64)
        self.frame_sum = np.zeros(0)
        self.frame_count = np.zeros(0, dtype=np.int64)

    @staticmethod
    def _grow(array: np.ndarray, size: int) -> np.ndarray:
        if array.shape[0] >= size:
            return array
        return np.concatenate([array, np.zeros(size - array.shape[0], dtype=array.dtype)])

    def add(self, values: torch.Tensor, view_offset: int = 0) -> None:
        """Add per-frame values ``(B, V, T)`` (float64 accumulation)."""
        array = values.detach().to(torch.float64).cpu().numpy()
        _, views, frames = array.shape
        self.total += float(array.sum())
        self.count += array.size
        self.view_sum = self._grow(self.view_sum, view_offset + views)
        self.view_count = self._grow(self.view_count, view_offset + views)
        self.frame_sum = self._grow(self.frame_sum, frames)
        self.frame_count = self._grow(self.frame_count, frames)
        self.view_sum[view_offset : view_offset + views] += array.sum(axis=(0, 2))
        self.view_count[view_offset : view_offset + views] += array.shape[0] * frames
        self.frame_sum[:frames] += array.sum(axis=(0, 1))
        self.frame_count[:frames] += array.shape[0] * views

    def mean(self) -> float:
        """Mean over every frame seen."""
        if self.count == 0:
            raise InputError("no frames were given to the metric (call update first)")
        return self.total / self.count

    def breakdown(self) -> dict[str, dict[int, float]]:
        """Means per view index and per frame index."""
        return {
            "per_view": {
                int(v): float(self.view_sum[v] / self.view_count[v])
                for v in np.flatnonzero(self.view_count)
            },
            "per_frame": {
                int(t): float(self.frame_sum[t] / self.frame_count[t])
                for t in np.flatnonzero(self.frame_count)
            },
        }


class PairedFrameMetric:
    """Base of per-frame paired metrics: mean of a per-frame value over all frames.

    Subclasses implement :meth:`per_frame` on uint8 ``(N, 3, H, W)`` frames (or float ones
    where the metric works in [0, 1]) returning ``(N,)`` float64 values.

    Args:
        protocol: Protocol name or :class:`~hvg_eval.protocols.Protocol`.
        device: Torch device to compute on.
        batch_frames: Frames per vectorised chunk. Small chunks keep the intermediates in
            cache and avoid re-faulting fresh memory, which measured faster than large ones.
        compile: Run the per-frame kernel through ``torch.compile`` (see
            :mod:`hvg_eval.ops.compiled`).
    """

    name: ClassVar[str] = ""
    higher_is_better: ClassVar[bool] = True
    requires_weights: ClassVar[tuple[str, ...]] = ()
    paired: ClassVar[bool] = True

    def __init__(
        self,
        protocol: str | Protocol = "disco",
        *,
        device: str | torch.device = "cpu",
        batch_frames: int = 2,
        compile: bool = False,
    ) -> None:
        self.protocol = get_protocol(protocol)
        self.device = torch.device(device)
        self.batch_frames = batch_frames
        self.compile = compile
        self._compiled_kernel: Any = None
        self.tally = BreakdownTally()
        self.resolution: tuple[int, int] | None = None
        self.videos = 0

    def reset(self) -> None:
        """Forget every frame seen."""
        self.tally.reset()
        self.resolution = None
        self.videos = 0

    def per_frame(self, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        """Per-frame values of ``(N, 3, H, W)`` float [0, 1] frames; returns ``(N,)``."""
        raise NotImplementedError

    def per_frame_kernel(self) -> Any:
        """A pure function ``(real, fake) -> (N,)`` for ``torch.compile`` (default: unsupported)."""
        raise NotImplementedError(f"{type(self).__name__} has no compilable kernel")

    def update(self, real: Any, fake: Any, *, view_offset: int = 0) -> None:
        """Add a batch of paired videos ``(B, V, T, 3, H, W)`` in [0, 1].

        Args:
            real: Ground-truth frames.
            fake: Generated frames, same shape.
            view_offset: Index of the first view in this batch (for per-view breakdowns).
        """
        real_t = as_video_batch(real, "real")
        fake_t = as_video_batch(fake, "fake")
        check_pair(real_t, fake_t)
        batch, views, frames = real_t.shape[:3]
        height, width = real_t.shape[-2:]
        self.resolution = (int(height), int(width))
        flat_real = real_t.reshape(-1, 3, height, width)
        flat_fake = fake_t.reshape(-1, 3, height, width)
        values = []
        kernel = self.per_frame
        if self.compile:
            if self._compiled_kernel is None:
                from hvg_eval.ops.compiled import compiled

                self._compiled_kernel = compiled(self.per_frame_kernel())
            kernel = self._compiled_kernel
        for start in range(0, flat_real.shape[0], self.batch_frames):
            stop = start + self.batch_frames
            values.append(
                kernel(
                    flat_real[start:stop].to(self.device), flat_fake[start:stop].to(self.device)
                ).cpu()
            )
        self.tally.add(torch.cat(values).reshape(batch, views, frames), view_offset)
        self.videos += batch * views

    def compute(self) -> float:
        """Mean of the per-frame values (DisCo: ``np.mean`` over the list of frames)."""
        return self.tally.mean()

    def breakdown(self) -> dict[str, dict[int, float]]:
        """Per-view and per-frame means."""
        return self.tally.breakdown()

    def conventions(self) -> dict[str, Any]:
        """Conventions this metric applied, for result JSON."""
        return {
            "protocol": self.protocol.name,
            "quantisation": self.protocol.quantisation,
            "resolution": list(self.resolution) if self.resolution else None,
            "frames": self.tally.count,
            "videos": self.videos,
            "compiled": self.compile,
        }

    def weight_records(self) -> list[dict[str, Any]]:
        """Weight files used (none for pixel metrics)."""
        return []


def mean_of(values: Sequence[float]) -> float:
    """Arithmetic mean in float64."""
    return float(np.mean(np.asarray(values, dtype=np.float64)))
