"""Fuse window outputs into one full-grid output: the fast kernel and its slow oracle.

For each image ``(v, t)`` the fused value is ``Σ_W ω_W(v, t) · y_W(v, t)`` over the windows
covering it, with ``Σ_W ω_W = 1`` (:func:`hvg_sampler.plan.window_weights`). The fast path
computes it as ``base + Σ_W ω_W · (y_W - base)`` where ``base`` is the first covering window's
output: analytically the same, but exact when all windows agree (an identity denoiser gives
its input back bit for bit) and better conditioned than a weighted sum divided by a count.
Reads and writes go through views of contiguous runs, so wrapped cyclic windows need no
scatter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from hvg_sampler.windows import Window, contiguous_runs


@dataclass(frozen=True)
class _Block:
    """One contiguous sub-block of a window: positions in the window and in the grid.

    Blocks are split until each is uniformly *fresh* (no earlier window covered it: its output
    becomes the base) or uniformly *seen* (it adds ``ω·(y - base)``), so no masked select runs.
    """

    view_pos: int
    view_start: int
    view_size: int
    frame_pos: int
    frame_start: int
    frame_size: int
    omega: torch.Tensor  # (1, v, t, 1, 1, 1)
    fresh: bool


class WindowFusion:
    """Accumulate window outputs of one CFG branch at one step.

    Args:
        windows: The step's windows in accumulation order.
        omegas: Their normalised weights, ``(v, t)`` each.
        shape: ``(B, V, T, C, h, w)`` of the full grid.
        device: Accumulator device.
        dtype: Accumulator dtype (float32 or wider).
        workspace: Optional ``{"base", "delta", "scratch"}`` buffers of ``shape`` to reuse
            across steps (the loop passes them: large allocations cost page faults every step).
        blocks: Precomputed :func:`plan_blocks` of ``windows`` (cached by the sampler).
    """

    def __init__(
        self,
        windows: Sequence[Window],
        omegas: Sequence[torch.Tensor],
        shape: Sequence[int],
        *,
        device: torch.device,
        dtype: torch.dtype,
        workspace: dict[str, torch.Tensor] | None = None,
        blocks: list[list[_Block]] | None = None,
    ) -> None:
        self.shape = tuple(int(size) for size in shape)
        self.dtype = dtype
        if blocks is None:
            blocks = plan_blocks(windows, omegas, self.shape[1], self.shape[2], device, dtype)
        self.blocks = blocks
        buffers = workspace if workspace is not None else {}
        for name in ("base", "delta", "scratch"):
            buffer = buffers.get(name)
            if buffer is None or buffer.shape != self.shape or buffer.dtype != dtype:
                buffers[name] = torch.empty(self.shape, device=device, dtype=dtype)
        self.base, self.delta, self.scratch = buffers["base"], buffers["delta"], buffers["scratch"]
        self.delta.zero_()

    def add(self, window_index: int, output: torch.Tensor) -> None:
        """Accumulate the output ``(B, v, t, C, h, w)`` of window ``window_index``."""
        for block in self.blocks[window_index]:
            y = output[
                :,
                block.view_pos : block.view_pos + block.view_size,
                block.frame_pos : block.frame_pos + block.frame_size,
            ]
            grid = (
                slice(None),
                slice(block.view_start, block.view_start + block.view_size),
                slice(block.frame_start, block.frame_start + block.frame_size),
            )
            if block.fresh:
                self.base[grid].copy_(y)  # its term ω·(y - base) is exactly 0
                continue
            difference = self.scratch[:, : block.view_size, : block.frame_size]
            torch.sub(y, self.base[grid], out=difference)
            self.delta[grid].addcmul_(difference, block.omega)

    def result(self) -> torch.Tensor:
        """The fused ``(B, V, T, C, h, w)`` output, in the ``base`` buffer."""
        return self.base.add_(self.delta)


def _runs_of_equal(values: Sequence[object]) -> list[tuple[int, int]]:
    """``(start, stop)`` of maximal runs of equal consecutive values."""
    runs, start = [], 0
    for index in range(1, len(values) + 1):
        if index == len(values) or values[index] != values[start]:
            runs.append((start, index))
            start = index
    return runs


def plan_blocks(
    windows: Sequence[Window],
    omegas: Sequence[torch.Tensor],
    num_views: int,
    num_frames: int,
    device: torch.device,
    dtype: torch.dtype,
) -> list[list[_Block]]:
    """Split every window into contiguous blocks that are uniformly fresh or seen.

    Returns:
        Per window, its blocks.
    """
    seen = torch.zeros(num_views, num_frames, dtype=torch.bool)
    plan = []
    for window, omega in zip(windows, omegas):
        blocks = []
        for view_pos, view_start, view_stop in contiguous_runs(window.views):
            for frame_pos, frame_start, frame_stop in contiguous_runs(window.frames):
                region = seen[view_start:view_stop, frame_start:frame_stop]
                # Columns (frames) with equal freshness patterns, then rows within them: each
                # resulting rectangle is uniform.
                columns = [tuple(region[:, j].tolist()) for j in range(region.shape[1])]
                for f0, f1 in _runs_of_equal(columns):
                    for v0, v1 in _runs_of_equal(list(columns[f0])):
                        blocks.append(
                            _Block(
                                view_pos=view_pos + v0,
                                view_start=view_start + v0,
                                view_size=v1 - v0,
                                frame_pos=frame_pos + f0,
                                frame_start=frame_start + f0,
                                frame_size=f1 - f0,
                                omega=omega[
                                    view_pos + v0 : view_pos + v1, frame_pos + f0 : frame_pos + f1
                                ].to(device=device, dtype=dtype)[None, :, :, None, None, None],
                                fresh=not columns[f0][v0],
                            )
                        )
                region.fill_(True)
        plan.append(blocks)
    return plan


def fuse_reference(
    windows: Sequence[Window],
    omegas: Sequence[torch.Tensor],
    outputs: Sequence[torch.Tensor],
    shape: Sequence[int],
) -> torch.Tensor:
    """Slow, obviously correct oracle: ``Σ ω · y`` image by image, in float64.

    Args:
        windows: Windows.
        omegas: ``(v, t)`` normalised weight per window.
        outputs: ``(B, v, t, C, h, w)`` output per window.
        shape: ``(B, V, T, C, h, w)``.

    Returns:
        ``(B, V, T, C, h, w)`` float64 fused output.
    """
    fused = torch.zeros(tuple(shape), dtype=torch.float64)
    for window, omega, output in zip(windows, omegas, outputs):
        for i, view in enumerate(window.views):
            for j, frame in enumerate(window.frames):
                fused[:, view, frame] += float(omega[i, j]) * output[:, i, j].double()
    return fused
