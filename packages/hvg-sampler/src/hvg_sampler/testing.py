"""Mock denoisers and contract checks for plugin authors (and hvg-sampler's own tests).

A plugin's fusion weight or sampler proves itself the way the built-ins do::

    from hvg_sampler.testing import FusionWeightContract, check_sampler

    class TestMyWeight(FusionWeightContract):
        weight = staticmethod(my_plugin.weights.hann)

    def test_my_sampler():
        check_sampler(lambda **o: MySampler(**o))
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from hvg_sampler.conditioning import Conditioning, WindowConditioning

__all__ = [
    "CountingDenoiser",
    "FusionWeightContract",
    "IdentityDenoiser",
    "PerImageDenoiser",
    "WindowMeanDenoiser",
    "assert_close",
    "check_fusion_weight",
    "check_sampler",
    "random_conditioning",
]


def assert_close(
    actual: torch.Tensor, expected: torch.Tensor, *, rtol: float = 1.3e-6, atol: float = 1e-5
) -> None:
    """``|actual - expected| <= atol + rtol·|expected|`` elementwise, same shape and dtype.

    A light stand-in for ``torch.testing.assert_close``, whose first call imports for seconds.

    Raises:
        AssertionError: With the largest absolute difference.
    """
    assert actual.shape == expected.shape, (
        f"shapes {tuple(actual.shape)} != {tuple(expected.shape)}"
    )
    assert actual.dtype == expected.dtype, f"dtypes {actual.dtype} != {expected.dtype}"
    difference = (actual - expected).abs()
    bound = atol + rtol * expected.abs()
    if not bool((difference <= bound).all()):
        raise AssertionError(
            f"tensors differ: max |difference| {float(difference.max()):.3g} "
            f"(atol {atol}, rtol {rtol})"
        )


class IdentityDenoiser:
    """Returns its input: fused output must equal the input exactly (partition of unity)."""

    def __call__(
        self, latents: torch.Tensor, sigma: torch.Tensor, conditioning: WindowConditioning
    ) -> torch.Tensor:
        """``latents`` unchanged."""
        return latents.clone()


class PerImageDenoiser:
    """A nonlinear function of each image, its frame, its view and σ, with no cross-image term.

    Any windowing must reproduce one full call exactly, because every window computes the same
    value for an image. Conditioning enters through ``per_image["signal"]`` when present, and
    the uncond branch gives a different result so guidance is exercised.
    """

    def __call__(
        self, latents: torch.Tensor, sigma: torch.Tensor, conditioning: WindowConditioning
    ) -> torch.Tensor:
        """``tanh(x)·(1 + 0.01·frame + 0.02·view) / (1 + σ) + signal``."""
        batch = conditioning.batch_size
        frames = conditioning.frames.repeat_interleave(batch, 0).to(latents.dtype)
        views = conditioning.views.repeat_interleave(batch, 0).to(latents.dtype)
        position = 1 + 0.01 * frames[:, None, :] + 0.02 * views[:, :, None]
        out = torch.tanh(latents) * position[..., None, None, None] / (1 + sigma)
        signal = conditioning.per_image.get("signal")
        if signal is not None:
            out = out + signal.to(latents.dtype)
        branch = torch.tensor(
            [1.0 if b == "cond" else 0.5 for b in conditioning.branches], dtype=latents.dtype
        ).repeat_interleave(batch)
        return out * branch.view(-1, 1, 1, 1, 1, 1).to(latents.device)


class WindowMeanDenoiser:
    """Mixes every image of a window (adds the window mean): windowing changes the result.

    Computed row by row on contiguous copies, so each row's value is bit-identical however rows
    are packed (a batched reduction may sum in another order): the sampler's results must then
    not depend on how windows are packed into calls or how many batch items run together.
    """

    def __call__(
        self, latents: torch.Tensor, sigma: torch.Tensor, conditioning: WindowConditioning
    ) -> torch.Tensor:
        """``0.5·x + 0.5·mean over (v, t) of x``."""
        rows = [row.contiguous() for row in latents]
        return torch.stack([0.5 * row + 0.5 * row.mean(dim=(0, 1), keepdim=True) for row in rows])


class CountingDenoiser:
    """Wraps a denoiser and counts calls and image evaluations.

    Args:
        inner: The wrapped denoiser (default: a near-free ``x * 0``).
    """

    def __init__(self, inner: Callable[..., torch.Tensor] | None = None) -> None:
        self.inner = inner
        self.calls = 0
        self.images = 0
        self.shapes: list[tuple[int, ...]] = []

    def __call__(
        self, latents: torch.Tensor, sigma: torch.Tensor, conditioning: WindowConditioning
    ) -> torch.Tensor:
        """Count, then delegate."""
        self.calls += 1
        self.images += int(latents.shape[0] * latents.shape[1] * latents.shape[2])
        self.shapes.append(tuple(latents.shape))
        if self.inner is None:
            return torch.zeros_like(latents)
        return self.inner(latents, sigma, conditioning)


def random_conditioning(
    batch: int, views: int, frames: int, *, seed: int = 0, channels: int = 4, size: int = 4
) -> Conditioning:
    """A conditioning with one tensor of each kind (for tests of slicing and batching)."""
    generator = torch.Generator().manual_seed(seed)
    return Conditioning(
        per_frame={"pose": torch.randn(batch, frames, 3, generator=generator)},
        per_view={"camera": torch.randn(batch, views, 3, 3, generator=generator)},
        per_image={
            "signal": torch.randn(batch, views, frames, channels, size, size, generator=generator)
        },
        shared={"embedding": torch.randn(batch, 1, 8, generator=generator)},
    )


def check_fusion_weight(weight: Callable[..., Any], lengths: range = range(1, 34)) -> None:
    """Assert the fusion-weight contract for every length in ``lengths``.

    Checks: shape ``(length,)`` (odd lengths included), finite, strictly positive, deterministic
    (same values twice), usable by a sampler: a pass fused with it gives an identity denoiser's
    input back exactly.

    Raises:
        AssertionError: Naming the broken property and the length.
    """
    from hvg_sampler.weights._evaluate import evaluate_weights

    for length in lengths:
        first = evaluate_weights(weight, length, overlap_before=length // 3, overlap_after=1)
        second = evaluate_weights(weight, length, overlap_before=length // 3, overlap_after=1)
        assert first.shape == (length,), f"length {length}: shape {tuple(first.shape)}"
        assert torch.equal(first, second), f"length {length}: not deterministic"
    from hvg_sampler.samplers.temporal import TemporalSampler

    sampler = TemporalSampler(
        frame_window=5, frame_overlap=2, fusion_weight=weight, max_guidance_scale=1.0
    )
    latents = torch.randn(1, 2, 13, 2, 3, 3, generator=torch.Generator().manual_seed(0))
    fused = sampler.predict(IdentityDenoiser(), latents, 1.0)
    assert torch.equal(fused, latents), "identity denoiser not reproduced exactly"


class FusionWeightContract:
    """Pytest mixin: set ``weight`` (a staticmethod) and inherit the contract test."""

    weight: Callable[..., Any]

    def test_fusion_weight_contract(self) -> None:
        """The weight obeys :func:`check_fusion_weight`."""
        check_fusion_weight(type(self).weight)


def check_sampler(factory: Callable[..., Any]) -> None:
    """Assert the sampler contract on small mock problems.

    ``factory(**options)`` builds the sampler with :class:`WindowedSampler` options. Checks:
    partition of unity (identity denoiser → input exactly), a per-image denoiser equals one
    full call, the counted denoiser calls equal the cost planner's, and packing windows into
    batched calls does not change the result.

    Raises:
        AssertionError: Naming the broken property.
    """
    options = dict(frame_window=6, frame_overlap=2, view_window=3, view_overlap=1, num_steps=3)
    generator = torch.Generator().manual_seed(0)
    latents = torch.randn(2, 5, 14, 2, 3, 3, generator=generator)
    cond = random_conditioning(2, 5, 14, channels=2, size=3)
    uncond = random_conditioning(2, 5, 14, seed=1, channels=2, size=3)
    sampler = factory(max_guidance_scale=1.0, **options)
    assert torch.equal(sampler.predict(IdentityDenoiser(), latents, 2.0), latents), (
        "partition of unity: identity denoiser not reproduced exactly"
    )
    guided = factory(min_guidance_scale=1.0, max_guidance_scale=2.5, **options)
    fused = guided.predict(
        PerImageDenoiser(), latents, 2.0, conditioning=cond, uncond_conditioning=uncond
    )
    full = factory(
        min_guidance_scale=1.0,
        max_guidance_scale=2.5,
        **{**options, "frame_window": 14, "view_window": 5, "frame_overlap": 0, "view_overlap": 0},
    ).predict(PerImageDenoiser(), latents, 2.0, conditioning=cond, uncond_conditioning=uncond)
    assert torch.equal(fused, full), "per-image denoiser != one full call"
    counter = CountingDenoiser()
    result = guided.sample(
        counter, (2, 5, 14, 2, 3, 3), conditioning=cond, uncond_conditioning=uncond
    )
    cost = guided.cost(14, 5, batch_size=2, cfg=True, num_steps=3)
    assert counter.calls == cost.calls_total == result.num_denoiser_calls, (
        f"counted {counter.calls} calls, planner predicts {cost.calls_total}"
    )
    assert counter.images == cost.image_evaluations_total, "image evaluations differ from plan"
    packed = factory(
        min_guidance_scale=1.0, max_guidance_scale=2.5, max_images_per_call=10_000, **options
    )
    one = guided.sample(
        WindowMeanDenoiser(), (2, 5, 14, 2, 3, 3), conditioning=cond, uncond_conditioning=uncond
    )
    many = packed.sample(
        WindowMeanDenoiser(), (2, 5, 14, 2, 3, 3), conditioning=cond, uncond_conditioning=uncond
    )
    assert torch.equal(one.latents, many.latents), "result depends on how windows are packed"
