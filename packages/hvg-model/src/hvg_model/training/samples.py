"""Sample videos during training: a few-step EDM Euler sampling of one fixed evaluation sample."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import torch
from torch import nn

from hvg_model.edm import denoise
from hvg_model.training.components import FrozenEncoders
from hvg_model.training.config import TrainConfig
from hvg_model.training.data import DataOrder, StepRowDataset, collate, layout_for_step
from hvg_model.training.forward import network_prediction

#: Seed of the fixed sample shown at every interval (independent of the training draws).
SAMPLE_SEED = 4321


def karras_sigmas(
    steps: int, sigma_min: float = 0.002, sigma_max: float = 700.0, rho: float = 7.0
) -> torch.Tensor:
    """SVD's Karras schedule (``steps`` values from σ_max down to σ_min) followed by 0.

    The ρ-ramp of diffusers' ``EulerDiscreteScheduler._convert_to_karras``
    (``diffusers.schedulers.scheduling_euler_discrete``), with SVD-xt's σ range.
    """
    ramp = torch.linspace(0, 1, steps, dtype=torch.float64)
    inv = sigma_max ** (1 / rho) + ramp * (sigma_min ** (1 / rho) - sigma_max ** (1 / rho))
    return torch.cat([inv**rho, torch.zeros(1, dtype=torch.float64)])


@torch.no_grad()
def write_sample_video(
    module: nn.Module,
    encoders: FrozenEncoders,
    source: Any,
    config: TrainConfig,
    out_dir: str | Path,
    *,
    device: torch.device | str = "cpu",
    steps: int = 12,
) -> list[Path]:
    """Denoise one fixed evaluation sample and write ``target`` and ``sample`` videos + sheets.

    Uses deterministic Euler on SVD's Karras σ schedule with the same conditioning as training
    (no CFG), then the VAE decoder; files come from ``hvg_model.video_io.write_video_outputs``.

    Returns:
        Written paths.
    """
    from hvg_model.video_io import write_video_outputs

    device = torch.device(device)
    layouts = config.data.views_frames or [[config.data.views, config.data.frames]]
    views, frames = layout_for_step(layouts, SAMPLE_SEED, 0)
    dataset = StepRowDataset(source, DataOrder(len(source), 1, SAMPLE_SEED), SAMPLE_SEED)
    batch = collate([dataset[(0, 0, views, frames)]]).to(device)
    generator = torch.Generator().manual_seed(SAMPLE_SEED)
    latent_hw = config.data.image_size // encoders.vae_factor
    shape = (1, views, frames, encoders.vae.config.latent_channels, latent_hw, latent_hw)
    sigmas = karras_sigmas(steps)
    latents = (
        (torch.randn(shape, generator=generator, dtype=torch.float64) * sigmas[0])
        .float()
        .to(device)
    )
    no_drop = torch.zeros(1, dtype=torch.bool, device=device)
    was_training = module.training
    module.eval()
    for index in range(steps):
        sigma = torch.full((1,), float(sigmas[index]), device=device)
        prediction = network_prediction(
            module,
            encoders,
            batch,
            latents,
            sigma,
            config,
            cond_aug=torch.full((1,), 0.02, device=device),
            reference_noise=torch.zeros_like(batch.reference),
            drop_reference_image=no_drop,
            drop_reference_net=no_drop,
            drop_pose=no_drop,
        )
        denoised = denoise(latents, prediction, sigma)
        derivative = (latents - denoised) / float(sigmas[index])
        latents = latents + derivative * float(sigmas[index + 1] - sigmas[index])
    module.train(was_training)
    flat = latents.flatten(0, 1) / encoders.scaling_factor  # (V, T, C, h, w)
    images = torch.stack(
        [encoders.vae.decode(clip, num_frames=frames).sample for clip in flat]
    )  # (V, T, 3, H, W)
    images = ((images + 1) / 2).clamp(0, 1)[None]
    if not math.isfinite(float(images.sum())):
        raise FloatingPointError("sampling produced non-finite values")
    written = write_video_outputs(
        images.cpu(), out_dir, fps=config.objective.fps, prefix="sample", write_pngs=False
    )
    written += write_video_outputs(
        batch.rgb.cpu(), out_dir, fps=config.objective.fps, prefix="target", write_pngs=False
    )
    return written
