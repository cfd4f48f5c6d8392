"""Configurations: SVD-xt's full-size UNet (documentation, parameter counts) and tiny CPU ones.

The tiny configs follow diffusers' own SVD tests (research/model.md §8) with the pitfalls of
§8.3 respected: every width a multiple of 32 (GroupNorm(32)), heads dividing widths,
``projection_class_embeddings_input_dim = 3 · addition_time_embed_dim``, CLIP projection width =
``cross_attention_dim``. The tiny VAE keeps SVD's factor 8 (four encoder blocks) so that pose
guiders, crops and latent sizes behave as at full size: a 64×64 image gives an 8×8 latent.
"""

from __future__ import annotations

import math
from typing import Any

from hvg_core.errors import InputError

SVD_XT_UNET_CONFIG: dict[str, Any] = {
    "sample_size": 96,
    "in_channels": 8,
    "out_channels": 4,
    "down_block_types": (
        "CrossAttnDownBlockSpatioTemporal",
        "CrossAttnDownBlockSpatioTemporal",
        "CrossAttnDownBlockSpatioTemporal",
        "DownBlockSpatioTemporal",
    ),
    "up_block_types": (
        "UpBlockSpatioTemporal",
        "CrossAttnUpBlockSpatioTemporal",
        "CrossAttnUpBlockSpatioTemporal",
        "CrossAttnUpBlockSpatioTemporal",
    ),
    "block_out_channels": (320, 640, 1280, 1280),
    "addition_time_embed_dim": 256,
    "projection_class_embeddings_input_dim": 768,
    "layers_per_block": 2,
    "cross_attention_dim": 1024,
    "transformer_layers_per_block": 1,
    "num_attention_heads": (5, 10, 20, 20),
    "num_frames": 25,
}
"""The UNet of ``stabilityai/stable-video-diffusion-img2vid-xt`` (diffusers defaults)."""

SVD_SCHEDULER_CONFIG: dict[str, Any] = {
    "beta_start": 0.00085,
    "beta_end": 0.012,
    "beta_schedule": "scaled_linear",
    "interpolation_type": "linear",
    "num_train_timesteps": 1000,
    "prediction_type": "v_prediction",
    "sigma_max": 700.0,
    "sigma_min": 0.002,
    "steps_offset": 1,
    "timestep_spacing": "leading",
    "timestep_type": "continuous",
    "use_karras_sigmas": True,
}
"""SVD's ``EulerDiscreteScheduler`` config (EDM: σ ∈ [0.002, 700], v-prediction)."""


def svd_xt_unet_config(**overrides: Any) -> dict[str, Any]:
    """Full-size SVD-xt UNet arguments (plus HVG options given as overrides)."""
    return {**SVD_XT_UNET_CONFIG, **overrides}


def tiny_unet_config(**overrides: Any) -> dict[str, Any]:
    """A tiny HVGDenoisingNet config: widths (32, 64), one layer per block, 8×8 latents.

    Args:
        **overrides: Any ``HVGDenoisingNet`` argument (e.g. ``pose_signal="depth"``).
    """
    config: dict[str, Any] = {
        "sample_size": 8,
        "in_channels": 8,
        "out_channels": 4,
        "down_block_types": ("CrossAttnDownBlockSpatioTemporal", "DownBlockSpatioTemporal"),
        "up_block_types": ("UpBlockSpatioTemporal", "CrossAttnUpBlockSpatioTemporal"),
        "block_out_channels": (32, 64),
        "addition_time_embed_dim": 32,
        "projection_class_embeddings_input_dim": 96,
        "layers_per_block": 1,
        "cross_attention_dim": 32,
        "num_attention_heads": (2, 4),
        "num_frames": 4,
        "pose_guider_channels": (8, 8, 16, 32),
        "pose_guider_strides": (2, 2, 2, 1),
        "pose_fusion_heads": 2,
        "camera_frequencies": 4,
    }
    return {**config, **overrides}


def tiny_vae_config() -> dict[str, Any]:
    """A tiny ``AutoencoderKLTemporalDecoder``: 4 blocks of 32 channels (factor 8), 4 latents."""
    return {
        "in_channels": 3,
        "out_channels": 3,
        "down_block_types": ("DownEncoderBlock2D",) * 4,
        "block_out_channels": (32, 32, 32, 32),
        "layers_per_block": 1,
        "latent_channels": 4,
        "sample_size": 64,
    }


def demo_vae_config(latent_channels: int = 16, downsample: int = 8) -> dict[str, Any]:
    """The tiny VAE with more latent channels (``hvg demo`` trains it from nothing).

    Four channels per 8×8 patch (SVD's 48:1 compression) is more than a tiny VAE trained for
    minutes can learn; 16 channels (12:1) reconstruct recognisable people at 64².

    Args:
        latent_channels: Channels of the latent (SVD: 4).
        downsample: Spatial factor of the latent, a power of two ≥ 2 (SVD: 8); one encoder
            block of 32 channels per factor of two, plus the full-resolution block.
    """
    blocks = int(math.log2(downsample)) + 1
    if downsample < 2 or 2 ** (blocks - 1) != downsample:
        raise InputError(f"downsample {downsample} is not a power of two ≥ 2", field="downsample")
    return {
        **tiny_vae_config(),
        "latent_channels": latent_channels,
        "down_block_types": ("DownEncoderBlock2D",) * blocks,
        "block_out_channels": (32,) * blocks,
    }


def tiny_clip_vision_config() -> dict[str, Any]:
    """A tiny ``CLIPVisionConfig``: 32×32 input, patch 4, projection 32 (= cross-attention)."""
    return {
        "hidden_size": 32,
        "projection_dim": 32,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "image_size": 32,
        "intermediate_size": 37,
        "patch_size": 4,
    }
