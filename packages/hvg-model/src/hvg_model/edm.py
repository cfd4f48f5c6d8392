"""SVD's EDM preconditioning (v-prediction with c_noise = 0.25·ln σ): the one implementation.

``D(x; σ) = c_skip(σ)·x + c_out(σ)·F(c_in(σ)·x; c_noise(σ))`` with
``c_skip = 1/(σ²+1)``, ``c_out = −σ/√(σ²+1)``, ``c_in = 1/√(σ²+1)``, ``c_noise = 0.25·ln σ``.

Copied from diffusers: these are the coefficients of
``diffusers.schedulers.scheduling_euler_discrete.EulerDiscreteScheduler`` with
``prediction_type="v_prediction"`` and ``timestep_type="continuous"`` (``scale_model_input``
gives c_in, ``step``'s ``pred_original_sample`` gives c_skip and c_out, ``timesteps`` gives
c_noise), which are sgm's ``VScalingWithEDMcNoise``. Tests compare them with diffusers.

Used by the trainer (loss, network input, sample videos), the ReferenceNet (σ_min input) and,
through :func:`denoise`, the training-time sampler. ``hvg-sampler`` keeps its own scalar copy
(``hvg_sampler.schedulers``; it does not depend on hvg-model); a test checks that it gives the
same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class EDMScalings:
    """Preconditioning coefficients, each with the shape (and floating dtype) of ``sigma``."""

    c_skip: torch.Tensor
    c_out: torch.Tensor
    c_in: torch.Tensor
    c_noise: torch.Tensor


def edm_scalings(sigma: torch.Tensor | float) -> EDMScalings:
    """SVD's EDM coefficients for noise levels ``sigma``.

    Args:
        sigma: Noise levels, any shape, σ > 0. A float tensor keeps its dtype (float64 for
            oracles); a Python number or an integer tensor becomes float32.

    Raises:
        ValueError: A σ ≤ 0 (c_noise = ¼ ln σ is undefined there).
    """
    if not isinstance(sigma, torch.Tensor):  # (as_tensor would follow a default-device context)
        sigma = torch.as_tensor(sigma)
    if not sigma.is_floating_point():
        sigma = sigma.to(torch.float32)
    if bool((sigma <= 0).any()):
        raise ValueError("sigma must be positive")
    variance = sigma.square() + 1.0
    return EDMScalings(
        c_skip=1.0 / variance,
        c_out=-sigma / variance.sqrt(),
        c_in=1.0 / variance.sqrt(),
        c_noise=0.25 * sigma.log(),
    )


def per_row(values: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """Reshape per-row values ``(B,)`` to broadcast against ``like`` ``(B, ...)``, in its dtype."""
    return values.reshape(values.shape[0], *([1] * (like.ndim - 1))).to(like.dtype)


def denoise(x_sigma: torch.Tensor, output: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    """The denoiser ``D = c_skip·x_σ + c_out·F`` for per-row noise levels.

    Args:
        x_sigma: Noisy latents ``(B, ...)``.
        output: Network output F, same shape.
        sigma: ``(B,)`` noise levels.

    Returns:
        ``(B, ...)`` x0 estimate in the dtype of ``x_sigma``.
    """
    scalings = edm_scalings(sigma)
    return per_row(scalings.c_skip, x_sigma) * x_sigma + per_row(scalings.c_out, x_sigma) * output
