"""Step plans: which windows run at a step, their fusion weights and how calls are packed."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from hvg_core.errors import InputError

from hvg_sampler.conditioning import WindowGroup
from hvg_sampler.weights._evaluate import evaluate_weights
from hvg_sampler.windows import AxisWindows, Window

NORMALISATIONS = ("separate", "joint")


@dataclass(frozen=True)
class FusionPass:
    """Windows that together cover the grid once, fused with one weight per axis.

    Attributes:
        name: ``"time"`` (temporal windows of all views), ``"view"`` (view windows of all
            frames) or ``"grid"`` (both axes windowed).
        frame_windows: Windows on the time axis.
        view_windows: Windows on the view axis.
        frame_weight: Fusion weight along time (ignored when one frame window covers all).
        view_weight: Fusion weight along views (ignored when one view window covers all).
        blend: Relative weight of this pass when passes are blended (``λ`` for ``"time"``).
        frame_cyclic: Whether frame windows wrap (never for time, kept for symmetry).
        view_cyclic: Whether view windows wrap (360° orbit).
    """

    name: str
    frame_windows: AxisWindows
    view_windows: AxisWindows
    frame_weight: Callable[..., Any]
    view_weight: Callable[..., Any]
    blend: float = 1.0
    frame_cyclic: bool = False
    view_cyclic: bool = True

    @property
    def windows(self) -> tuple[Window, ...]:
        """The product windows, time-major (all views of frame window 0 first)."""
        return tuple(
            Window(frames=frames, views=views, pass_name=self.name)
            for frames in self.frame_windows
            for views in self.view_windows
        )


@dataclass(frozen=True)
class StepPlan:
    """Everything that runs at one step.

    Attributes:
        passes: The fusion passes (one for single-axis samplers, two for ``hvg``).
        normalisation: ``"separate"`` (normalise each pass, then blend by ``blend``; the
            paper) or ``"joint"`` (one weighted average over all windows, Human4DiT).
        sigma: Noise level of the step (weights may depend on it).
    """

    passes: tuple[FusionPass, ...]
    normalisation: str = "separate"
    sigma: float | None = None

    @property
    def windows(self) -> tuple[Window, ...]:
        """All windows in execution (and accumulation) order."""
        return tuple(window for fusion_pass in self.passes for window in fusion_pass.windows)


def _neighbour_overlaps(windows: AxisWindows, cyclic: bool) -> list[tuple[int, int]]:
    """Actual overlap of each window with its previous and next neighbour on the axis."""
    count = len(windows)
    sets = [set(window) for window in windows]
    result = []
    for index in range(count):
        if count == 1:
            result.append((0, 0))
            continue
        previous = index - 1 if index > 0 else (count - 1 if cyclic else None)
        following = index + 1 if index < count - 1 else (0 if cyclic else None)
        before = len(sets[index] & sets[previous]) if previous is not None else 0
        after = len(sets[index] & sets[following]) if following is not None else 0
        result.append((before, after))
    return result


def _axis_weights(
    windows: AxisWindows, function: Callable[..., Any], cyclic: bool, sigma: float | None, axis: str
) -> list[torch.Tensor]:
    if len(windows) == 1:
        # One window covers the axis: its profile cancels in the normalisation of its own pass,
        # so flat weights keep a joint normalisation from favouring central views/frames.
        return [torch.ones(len(windows[0]), dtype=torch.float64)]
    name = getattr(function, "__name__", repr(function))
    return [
        evaluate_weights(
            function,
            len(window),
            overlap_before=before,
            overlap_after=after,
            sigma=sigma,
            name=f"{axis} fusion weight {name}",
        )
        for window, (before, after) in zip(windows, _neighbour_overlaps(windows, cyclic))
    ]


def window_weights(plan: StepPlan, num_frames: int, num_views: int) -> list[torch.Tensor]:
    """Normalised weight ``ω`` of every window of the plan, in ``plan.windows`` order.

    ``ω_W(v, t) = b_p · w_W(v, t) / Σ_{W' in p} w_W'(v, t)`` for ``"separate"`` (with
    ``b_p = blend_p / Σ blend``) and ``blend_p · w_W / Σ_{p'} blend_p' Σ_{W' in p'} w_W'`` for
    ``"joint"``, where ``w_W(v, t) = w_view(v) · w_frame(t)``. So for every image the ``ω`` of
    the windows covering it sum to 1 and the fused value is ``Σ ω · y``.

    Returns:
        One ``(v, t)`` float64 tensor per window.

    Raises:
        InputError: Unknown normalisation, a non-positive blend, or an uncovered image.
    """
    if plan.normalisation not in NORMALISATIONS:
        raise InputError(
            f"normalisation must be one of {NORMALISATIONS}, got {plan.normalisation!r}",
            field="normalisation",
        )
    blends = torch.tensor([p.blend for p in plan.passes], dtype=torch.float64)
    if not bool((blends >= 0).all()) or float(blends.sum()) <= 0:
        raise InputError(f"pass blends must be >= 0 with a positive sum, got {blends.tolist()}")
    raw: list[list[torch.Tensor]] = []
    totals = []
    for fusion_pass in plan.passes:
        frame_w = _axis_weights(
            fusion_pass.frame_windows,
            fusion_pass.frame_weight,
            fusion_pass.frame_cyclic,
            plan.sigma,
            "frame",
        )
        view_w = _axis_weights(
            fusion_pass.view_windows,
            fusion_pass.view_weight,
            fusion_pass.view_cyclic,
            plan.sigma,
            "view",
        )
        weights = [wv[:, None] * wt[None, :] for wt in frame_w for wv in view_w]
        total = torch.zeros(num_views, num_frames, dtype=torch.float64)
        for window, weight in zip(fusion_pass.windows, weights):
            total[_grid(window)] += weight
        if not bool((total > 0).all()):
            raise InputError(f"the {fusion_pass.name!r} pass leaves some (view, frame) uncovered")
        raw.append(weights)
        totals.append(total)
    share = blends / blends.sum()
    result = []
    if plan.normalisation == "separate":
        for p, (weights, total) in enumerate(zip(raw, totals)):
            for window, weight in zip(plan.passes[p].windows, weights):
                result.append(share[p] * weight / total[_grid(window)])
    else:
        joint = sum(b * total for b, total in zip(blends, totals))
        for p, weights in enumerate(raw):
            for window, weight in zip(plan.passes[p].windows, weights):
                result.append(blends[p] * weight / joint[_grid(window)])
    return result


def _grid(window: Window) -> tuple[torch.Tensor, torch.Tensor]:
    views = torch.tensor(window.views, dtype=torch.long)
    frames = torch.tensor(window.frames, dtype=torch.long)
    return views[:, None], frames[None, :]


@dataclass(frozen=True)
class CallPlan:
    """One denoiser call.

    Attributes:
        groups: The call's groups in batch order (each ``B`` rows).
        window_indices: Index in ``StepPlan.windows`` of each group's window.
    """

    groups: tuple[WindowGroup, ...]
    window_indices: tuple[int, ...]

    def num_images(self, batch_size: int) -> int:
        """Images the call evaluates: ``B · Σ_groups v · t``."""
        return batch_size * sum(group.window.num_images for group in self.groups)


def pack_calls(
    windows: Sequence[Window],
    *,
    branches: Sequence[str],
    batch_size: int,
    cfg_batch: bool = True,
    max_images_per_call: int | None = None,
) -> list[CallPlan]:
    """Pack windows into denoiser calls, keeping plan order.

    Consecutive windows of equal shape share a call while the call stays within
    ``max_images_per_call`` images (``None``: one window per call); a window larger than the
    budget runs alone. With ``cfg_batch`` both CFG branches of the chunk share the call
    (cond groups first), otherwise each branch gets its own call. Keeping plan order makes the
    accumulation order, and so the result, independent of the packing.

    Returns:
        The calls, in execution order.
    """
    per_call_branches = len(branches) if cfg_batch else 1
    chunks: list[list[int]] = []
    for index, window in enumerate(windows):
        if chunks and max_images_per_call is not None:
            chunk = chunks[-1]
            same_shape = windows[chunk[0]].shape == window.shape
            images = (len(chunk) + 1) * window.num_images * batch_size * per_call_branches
            if same_shape and images <= max_images_per_call:
                chunk.append(index)
                continue
        chunks.append([index])
    calls = []
    for chunk in chunks:
        branch_sets = [tuple(branches)] if cfg_batch else [(branch,) for branch in branches]
        for branch_set in branch_sets:
            groups = tuple(
                WindowGroup(window=windows[i], branch=branch)
                for branch in branch_set
                for i in chunk
            )
            indices = tuple(i for _ in branch_set for i in chunk)
            calls.append(CallPlan(groups=groups, window_indices=indices))
    return calls
