"""Conditioning and how it is sliced per window.

The caller builds one :class:`Conditioning` per CFG branch. The sampler slices it for every
window (and stacks slices when windows share a call) into a :class:`WindowConditioning`:

- ``per_frame[k]``: ``(B, T, ...)`` → ``(N, t, ...)`` (e.g. a per-frame pose embedding);
- ``per_view[k]``: ``(B, V, ...)`` → ``(N, v, ...)`` (e.g. cameras ``K``, ``R``, ``t``);
- ``per_image[k]``: ``(B, V, T, ...)`` → ``(N, v, t, ...)`` (e.g. bone maps);
- ``shared[k]``: window-independent features computed once (CLIP image embedding, VAE
  reference latent, ReferenceNet features). Passed unchanged when a call holds one group;
  tensor values with a leading batch dim ``B`` are concatenated per group when a call stacks
  several (windows or CFG branches). Non-tensor values are passed as they are.

``N = G · B`` where the ``G`` groups are listed in ``WindowConditioning.groups``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from hvg_core.errors import InputError

from hvg_sampler.windows import Window, contiguous_runs


@dataclass(frozen=True)
class Conditioning:
    """All conditioning of one CFG branch, before slicing.

    Attributes:
        per_frame: Name → ``(B, T, ...)`` tensor.
        per_view: Name → ``(B, V, ...)`` tensor.
        per_image: Name → ``(B, V, T, ...)`` tensor.
        shared: Name → window-independent value (tensor ``(B, ...)`` or anything else).
    """

    per_frame: Mapping[str, torch.Tensor] = field(default_factory=dict)
    per_view: Mapping[str, torch.Tensor] = field(default_factory=dict)
    per_image: Mapping[str, torch.Tensor] = field(default_factory=dict)
    shared: Mapping[str, Any] = field(default_factory=dict)

    def check(self, batch: int, views: int, frames: int, *, branch: str = "cond") -> None:
        """Check every sliced tensor's leading dims against ``(B, V, T)``.

        Raises:
            InputError: Naming the branch, the field and the expected shape.
        """
        expected = {
            "per_frame": ((batch, frames), "(B, T, ...)"),
            "per_view": ((batch, views), "(B, V, ...)"),
            "per_image": ((batch, views, frames), "(B, V, T, ...)"),
        }
        for group, (lead, letters) in expected.items():
            for name, value in getattr(self, group).items():
                if not isinstance(value, torch.Tensor):
                    raise InputError(
                        f"{branch} conditioning {group}[{name!r}] must be a tensor, got "
                        f"{type(value).__name__}",
                        field=f"{group}.{name}",
                    )
                if tuple(value.shape[: len(lead)]) != lead:
                    raise InputError(
                        f"{branch} conditioning {group}[{name!r}] has shape "
                        f"{tuple(value.shape)}; expected {letters} with leading dims {lead}",
                        field=f"{group}.{name}",
                    )


@dataclass(frozen=True)
class WindowGroup:
    """One group of ``B`` batch items in a denoiser call.

    Attributes:
        window: The window (frames, views) this group covers.
        branch: ``"cond"`` or ``"uncond"``.
    """

    window: Window
    branch: str


@dataclass(frozen=True)
class WindowConditioning:
    """What a denoiser receives besides the latents: the conditioning of its windows.

    Attributes:
        groups: ``G`` groups; batch rows ``g·B … (g+1)·B - 1`` belong to ``groups[g]``.
        frames: ``(G, t)`` int64 frame indices of each group's window (on the latents' device).
        views: ``(G, v)`` int64 view indices of each group's window.
        per_frame: Name → ``(N, t, ...)``.
        per_view: Name → ``(N, v, ...)``.
        per_image: Name → ``(N, v, t, ...)``.
        shared: Name → window-independent value (see the module docstring).
        timestep: 0-d tensor, the network's time input at this step (SVD: ``0.25·log σ``).
        step_index: Index of the denoising step, from 0.
        batch_size: ``B``.
    """

    groups: tuple[WindowGroup, ...]
    frames: torch.Tensor
    views: torch.Tensor
    per_frame: dict[str, torch.Tensor]
    per_view: dict[str, torch.Tensor]
    per_image: dict[str, torch.Tensor]
    shared: dict[str, Any]
    timestep: torch.Tensor
    step_index: int
    batch_size: int

    @property
    def branches(self) -> tuple[str, ...]:
        """The CFG branch of each group."""
        return tuple(group.branch for group in self.groups)


def take(tensor: torch.Tensor, dim: int, indices: Sequence[int]) -> torch.Tensor:
    """``tensor`` indexed by ``indices`` along ``dim``, as a view when they are one run."""
    runs = contiguous_runs(indices)
    if len(runs) == 1:
        _, start, stop = runs[0]
        return tensor.narrow(dim, start, stop - start)
    return torch.cat([tensor.narrow(dim, start, stop - start) for _, start, stop in runs], dim)


def _slice_one(conditioning: Conditioning, window: Window) -> dict[str, dict[str, Any]]:
    return {
        "per_frame": {k: take(v, 1, window.frames) for k, v in conditioning.per_frame.items()},
        "per_view": {k: take(v, 1, window.views) for k, v in conditioning.per_view.items()},
        "per_image": {
            k: take(take(v, 1, window.views), 2, window.frames)
            for k, v in conditioning.per_image.items()
        },
    }


def slice_conditioning(
    conditionings: Mapping[str, Conditioning],
    groups: Sequence[WindowGroup],
    *,
    timestep: torch.Tensor,
    step_index: int,
    batch_size: int,
    device: torch.device,
) -> WindowConditioning:
    """Slice and stack the conditioning of ``groups`` for one denoiser call.

    Args:
        conditionings: ``{"cond": ..., "uncond": ...}`` (uncond only with CFG).
        groups: The call's groups, in batch order.
        timestep: The network's time input.
        step_index: Step index.
        batch_size: ``B``.
        device: Device of the index tensors.

    Returns:
        The :class:`WindowConditioning` for the call.
    """
    sliced = [_slice_one(conditionings[group.branch], group.window) for group in groups]
    stacked: dict[str, dict[str, torch.Tensor]] = {}
    for kind in ("per_frame", "per_view", "per_image"):
        names = sliced[0][kind].keys()
        stacked[kind] = {
            name: sliced[0][kind][name]
            if len(sliced) == 1
            else torch.cat([part[kind][name] for part in sliced], 0)
            for name in names
        }
    shared = _stack_shared(conditionings, groups)
    return WindowConditioning(
        groups=tuple(groups),
        frames=torch.tensor([g.window.frames for g in groups], dtype=torch.long, device=device),
        views=torch.tensor([g.window.views for g in groups], dtype=torch.long, device=device),
        per_frame=stacked["per_frame"],
        per_view=stacked["per_view"],
        per_image=stacked["per_image"],
        shared=shared,
        timestep=timestep,
        step_index=step_index,
        batch_size=batch_size,
    )


def _stack_shared(
    conditionings: Mapping[str, Conditioning], groups: Sequence[WindowGroup]
) -> dict[str, Any]:
    first = conditionings[groups[0].branch].shared
    if len(groups) == 1:
        return dict(first)
    result: dict[str, Any] = {}
    for name in first:
        values = [conditionings[group.branch].shared[name] for group in groups]
        if all(isinstance(value, torch.Tensor) for value in values):
            result[name] = torch.cat(values, 0)
        elif all(value is values[0] for value in values):
            result[name] = values[0]
        else:
            raise InputError(
                f"shared conditioning {name!r} is not a tensor and differs between the cond "
                "and uncond branches, so they cannot share a call; pass cfg_batch=False",
                field=f"shared.{name}",
            )
    return result
