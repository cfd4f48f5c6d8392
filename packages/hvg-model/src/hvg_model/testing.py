"""Tiny random SVD / HVG model directories for tests and demos without real weights.

``build_tiny_svd_dir`` writes a complete diffusers-format SVD directory (unet, vae,
image_encoder, feature_extractor, scheduler) with random weights, so that tests exercise the
real loading code. Everything is deterministic given ``seed``.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch


def build_tiny_svd_dir(
    path: str | os.PathLike[str], *, seed: int = 0, latent_channels: int = 4
) -> Path:
    """Write a tiny random SVD-xt-layout directory (≈ 2 M parameters in all) and return it.

    The UNet follows ``hvg_model.configs.tiny_unet_config`` (without HVG's options), the VAE
    has SVD's factor 8 (64×64 images → 8×8 latents), CLIP takes 32×32 images.

    Args:
        path: Output directory.
        seed: Seed of every random weight.
        latent_channels: Latent channels C of the VAE; the UNet takes 2·C and gives C (SVD: 4).
    """
    from diffusers import (
        AutoencoderKLTemporalDecoder,
        EulerDiscreteScheduler,
        UNetSpatioTemporalConditionModel,
    )
    from transformers import CLIPImageProcessor, CLIPVisionConfig, CLIPVisionModelWithProjection

    from hvg_model.configs import (
        SVD_SCHEDULER_CONFIG,
        tiny_clip_vision_config,
        tiny_unet_config,
        tiny_vae_config,
    )

    root = Path(path)
    root.mkdir(parents=True, exist_ok=True)
    generator_state = torch.random.get_rng_state()
    try:
        torch.manual_seed(seed)
        hvg_only = set(_hvg_argument_names()) - set(_svd_argument_names())
        unet_config = {k: v for k, v in tiny_unet_config().items() if k not in hvg_only}
        unet_config.update(in_channels=2 * latent_channels, out_channels=latent_channels)
        UNetSpatioTemporalConditionModel(**unet_config).save_pretrained(root / "unet")
        vae_config = {**tiny_vae_config(), "latent_channels": latent_channels}
        AutoencoderKLTemporalDecoder(**vae_config).save_pretrained(root / "vae")
        clip = CLIPVisionModelWithProjection(CLIPVisionConfig(**tiny_clip_vision_config()))
        clip.save_pretrained(root / "image_encoder")
        size = tiny_clip_vision_config()["image_size"]
        CLIPImageProcessor(crop_size=size, size=size).save_pretrained(root / "feature_extractor")
        EulerDiscreteScheduler(**SVD_SCHEDULER_CONFIG).save_pretrained(root / "scheduler")
    finally:
        torch.random.set_rng_state(generator_state)
    return root


def build_tiny_hvg_dir(
    path: str | os.PathLike[str], *, seed: int = 0, live: bool = True, **hvg_options: object
) -> Path:
    """Write a tiny HVG checkpoint directory (``HVGPipeline.save_pretrained`` layout).

    Args:
        path: Output directory; a tiny SVD directory is written to ``path/_svd`` first.
        seed: Random seed.
        live: Give the zero-initialised HVG modules small random weights, as after training,
            so that pose, camera, view and reference inputs change the output.
        **hvg_options: ``HVGDenoisingNet`` options (e.g. ``pose_signal="depth"``).
    """
    from hvg_model.pipeline import HVGPipeline

    root = Path(path)
    svd = build_tiny_svd_dir(root / "_svd", seed=seed)
    pipeline = HVGPipeline.from_svd(svd, **hvg_options)
    if live:
        randomise_new_modules(pipeline.denoising_net, seed=seed)
    pipeline.save_pretrained(root)
    return root


def randomise_new_modules(net: torch.nn.Module, *, seed: int = 0, std: float = 0.05) -> None:
    """Give HVG's zero-initialised modules (and reference gates) small random values.

    Tests use this to check that each new input reaches the output once trained.
    """
    from hvg_model.denoising_net import is_new_parameter

    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, parameter in net.named_parameters():
            if is_new_parameter(name):
                noise = torch.randn(parameter.shape, generator=generator) * std
                parameter.add_(noise.to(parameter.device, parameter.dtype))


def _svd_argument_names() -> list[str]:
    import inspect

    from diffusers import UNetSpatioTemporalConditionModel

    return list(inspect.signature(UNetSpatioTemporalConditionModel.__init__).parameters)


def _hvg_argument_names() -> list[str]:
    import inspect

    from hvg_model.denoising_net import HVGDenoisingNet

    return list(inspect.signature(HVGDenoisingNet.__init__).parameters)
