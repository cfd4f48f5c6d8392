"""SVD's EDM objective: log-normal σ, the loss, CFG dropout, per-row randomness.

EDM with SVD's v-scaling (coefficients from :func:`hvg_model.edm.edm_scalings`, the one
implementation, shared with inference)::

    c_skip = 1 / (σ² + 1)     c_out = −σ / √(σ² + 1)     c_in = 1 / √(σ² + 1)     c_noise = ¼ ln σ
    D(x_σ) = c_skip · x_σ + c_out · F(c_in · x_σ, c_noise)

SVD's loss weight λ(σ) = (1 + σ²) / σ² satisfies λ · c_out² = 1, so the weighted x0 loss
λ ‖D − x0‖² equals the plain v-MSE ‖F − F*‖² with F* = (x0 − c_skip · x_σ) / c_out (research
model.md §4.2). :func:`edm_loss_per_sample` computes the v form; :func:`weighted_x0_loss_reference`
is the x0 form kept as the test oracle.

Every random draw of a batch row (σ, noise, conditioning augmentation, dropout) comes from a
generator seeded by ``(seed, step, row)``, so the draws of a row do not depend on how rows are
split over workers or on whether the run was resumed.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from hvg_model.edm import denoise, edm_scalings, per_row

#: Salt separating the draw streams of one row, so adding a stream never shifts another.
_STREAM_SALT = {"scalars": 1, "noise": 2, "latent": 3, "reference": 4}


def v_target(x0: Tensor, x_sigma: Tensor, sigma: Tensor) -> Tensor:
    """The network output F* for which ``D(x_σ) = x0`` exactly.

    Args:
        x0: Clean latents ``(B, ...)``.
        x_sigma: Noisy latents ``x0 + σ·n``, same shape.
        sigma: ``(B,)`` noise levels.
    """
    scalings = edm_scalings(sigma)
    return (x0 - per_row(scalings.c_skip, x_sigma) * x_sigma) / per_row(scalings.c_out, x_sigma)


def edm_loss_per_sample(prediction: Tensor, x0: Tensor, x_sigma: Tensor, sigma: Tensor) -> Tensor:
    """Per-row EDM loss in its v form, the mean of ``(F − F*)²`` over all but the first axis.

    Args:
        prediction: Network output F ``(B, ...)``.
        x0: Clean latents, same shape.
        x_sigma: Noisy latents, same shape.
        sigma: ``(B,)``.

    Returns:
        ``(B,)`` float32 losses.
    """
    if prediction.shape != x0.shape or x_sigma.shape != x0.shape:
        raise ValueError(
            f"prediction {tuple(prediction.shape)}, x0 {tuple(x0.shape)} and x_sigma "
            f"{tuple(x_sigma.shape)} must have the same shape (B, ...)"
        )
    if sigma.shape != (x0.shape[0],):
        raise ValueError(f"sigma must have shape (B,) = ({x0.shape[0]},), got {tuple(sigma.shape)}")
    target = v_target(x0.float(), x_sigma.float(), sigma.float())
    return (prediction.float() - target).square().flatten(1).mean(dim=1)


def weighted_x0_loss_reference(
    prediction: Tensor, x0: Tensor, x_sigma: Tensor, sigma: Tensor
) -> Tensor:
    """Slow oracle: λ(σ)·mean((D − x0)²) with D = c_skip·x_σ + c_out·F (SVD_Xtend's form)."""
    denoised = denoise(x_sigma.double(), prediction.double(), sigma.double())
    weight = (1.0 + sigma.double().square()) / sigma.double().square()
    return weight * (denoised - x0.double()).square().flatten(1).mean(dim=1)


def row_generator(seed: int, step: int, row: int, stream: str) -> torch.Generator:
    """A CPU generator for one batch row and draw stream, independent of workers and resumes."""
    state = np.random.SeedSequence([seed, step, row, _STREAM_SALT[stream]]).generate_state(2)
    generator = torch.Generator()
    generator.manual_seed(int(state[0]) << 32 | int(state[1]))
    return generator


@dataclass
class RowDraws:
    """Random draws for the rows one worker processes in one micro-step.

    Attributes:
        sigma: ``(B,)`` float32 noise levels, log-normal.
        cond_aug: ``(B,)`` float32 noise-augmentation strength of the reference image.
        drop_reference_image: ``(B,)`` bool, zero CLIP embedding and reference latent.
        drop_reference_net: ``(B,)`` bool, zero ReferenceNet features.
        drop_pose: ``(B,)`` bool, zero pose maps.
        noise: ``(B, V, T, C, h, w)`` float32 standard normal diffusion noise.
        latent_noise: ``(B, V, T, C, h, w)`` float32 noise sampling the VAE posterior.
        reference_noise: ``(B, 3, H, W)`` float32 noise for the reference augmentation.
    """

    sigma: Tensor
    cond_aug: Tensor
    drop_reference_image: Tensor
    drop_reference_net: Tensor
    drop_pose: Tensor
    noise: Tensor
    latent_noise: Tensor
    reference_noise: Tensor


def draw_rows(
    *,
    seed: int,
    step: int,
    rows: list[int],
    latent_shape: tuple[int, ...],
    image_shape: tuple[int, int, int],
    p_mean: float,
    p_std: float,
    cond_aug_mean: float,
    cond_aug_std: float,
    drop_reference_image: float,
    drop_reference_net: float,
    drop_pose: float,
) -> RowDraws:
    """Draw σ, noise, conditioning augmentation and dropout for the given global rows.

    Args:
        seed: Run seed.
        step: Optimiser step (0-based).
        rows: Global row indices within the step's global batch.
        latent_shape: ``(V, T, C, h, w)`` of one row's latents.
        image_shape: ``(3, H, W)`` of the reference image.
        p_mean: Mean of ln σ.
        p_std: Standard deviation of ln σ.
        cond_aug_mean: Mean of ln of the reference noise augmentation.
        cond_aug_std: Its standard deviation.
        drop_reference_image: Probability of dropping CLIP + reference latent.
        drop_reference_net: Probability of dropping ReferenceNet features.
        drop_pose: Probability of dropping the pose maps.
    """
    scalars, noises, latent_noises, reference_noises = [], [], [], []
    for row in rows:
        generator = row_generator(seed, step, row, "scalars")
        scalars.append(
            torch.cat([torch.randn(2, generator=generator), torch.rand(3, generator=generator)])
        )
        noises.append(torch.randn(latent_shape, generator=row_generator(seed, step, row, "noise")))
        latent_noises.append(
            torch.randn(latent_shape, generator=row_generator(seed, step, row, "latent"))
        )
        reference_noises.append(
            torch.randn(image_shape, generator=row_generator(seed, step, row, "reference"))
        )
    values = torch.stack(scalars)
    return RowDraws(
        sigma=(p_mean + p_std * values[:, 0]).exp(),
        cond_aug=(cond_aug_mean + cond_aug_std * values[:, 1]).exp(),
        drop_reference_image=values[:, 2] < drop_reference_image,
        drop_reference_net=values[:, 3] < drop_reference_net,
        drop_pose=values[:, 4] < drop_pose,
        noise=torch.stack(noises),
        latent_noise=torch.stack(latent_noises),
        reference_noise=torch.stack(reference_noises),
    )


def sigma_bin_labels(edges: list[float]) -> list[str]:
    """Names of the σ bins delimited by ``edges``: ``"<0.1"``, ``"0.1-0.5"``, ..., ``">=20"``."""
    labels = [f"<{edges[0]:g}"] if edges else ["all"]
    labels += [f"{low:g}-{high:g}" for low, high in itertools.pairwise(edges)]
    if edges:
        labels.append(f">={edges[-1]:g}")
    return labels


def sigma_binned_sums(sigma: Tensor, losses: Tensor, edges: list[float]) -> tuple[Tensor, Tensor]:
    """Sum of losses and counts per σ bin (summable over workers and micro-steps).

    Args:
        sigma: ``(B,)`` noise levels.
        losses: ``(B,)`` per-row losses.
        edges: Increasing bin edges (``len(edges) + 1`` bins).

    Returns:
        ``(sums, counts)``, each ``(len(edges) + 1,)`` float64.
    """
    index = torch.bucketize(sigma.double(), torch.tensor(edges, dtype=torch.float64), right=True)
    bins = len(edges) + 1
    sums = torch.zeros(bins, dtype=torch.float64).index_add_(0, index, losses.double().cpu())
    counts = torch.zeros(bins, dtype=torch.float64).index_add_(
        0, index, torch.ones_like(losses, dtype=torch.float64).cpu()
    )
    return sums, counts
