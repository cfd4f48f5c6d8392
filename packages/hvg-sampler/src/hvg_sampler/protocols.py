"""The small contracts the sampler is built on: denoisers, fusion weights, planners."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    import torch

    from hvg_sampler.conditioning import WindowConditioning
    from hvg_sampler.windows import AxisWindows


@runtime_checkable
class Denoiser(Protocol):
    """A network call on one batch of windows.

    Args:
        latents: ``(N, v, t, C, h, w)`` network input: the noisy latents of the windows,
            already scaled by the schedule (SVD/EDM: ``c_in · x``). ``N = G · B``: ``G`` groups
            (window × CFG branch, see ``conditioning.groups``) of the ``B`` batch items.
        sigma: 0-d float tensor, the noise level σ of this step.
        conditioning: The per-window slice of the conditioning
            (:class:`hvg_sampler.conditioning.WindowConditioning`), with the network's time
            input in ``conditioning.timestep``.

    Returns:
        ``(N, v, t, C, h, w)`` raw network output, read with the schedule's
        ``prediction_type`` (``"v_prediction"`` for SVD).
    """

    def __call__(
        self, latents: torch.Tensor, sigma: torch.Tensor, conditioning: WindowConditioning
    ) -> torch.Tensor:
        """Denoise one batch of windows."""
        ...


@runtime_checkable
class FusionWeight(Protocol):
    """``weights(length) -> Tensor (length,)`` of finite positive weights.

    May also declare keyword-only ``overlap_before``, ``overlap_after`` and ``sigma``.
    """

    def __call__(self, length: int) -> torch.Tensor:
        """Per-position weights of a window of ``length``."""
        ...


@runtime_checkable
class WindowPlanner(Protocol):
    """Splits one axis into windows; ``cyclic`` says whether indices may wrap."""

    cyclic: bool

    def __call__(self, length: int, window: int, overlap: int) -> AxisWindows:
        """Windows (tuples of indices) covering ``range(length)``."""
        ...
