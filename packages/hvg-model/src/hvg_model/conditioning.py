"""Reference-image conditioning: CLIP embedding, VAE latent, ReferenceNet bank; VAE coding of frames.

SVD's conventions, checked against diffusers' ``StableVideoDiffusionPipeline`` (research/model.md
§1.3): the conditioning latent is ``vae.encode(image + a·ε).mode()`` **without** the 0.18215
scaling, noise-augmented with strength ``a`` that is also fed as the third ``added_time_ids``
entry; ``added_time_ids = [fps − 1, motion_bucket_id, a]``; the denoised latents are scaled by
0.18215 and divided by it before decoding.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

OPENAI_CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
OPENAI_CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


@dataclass
class ReferenceConditioning:
    """Everything the DenoisingNet needs from the reference image, computed once per sample.

    Attributes:
        clip_embedding: ``(B, 1, D)`` CLIP image embedding (D = cross-attention width).
        image_latents: ``(B, 4, h, w)`` unscaled, noise-augmented VAE latent (SVD's concat input).
        added_time_ids: ``(B, 3)`` float: fps − 1, motion bucket id, noise-augmentation strength.
        reference_features: ReferenceNet bank ``{layer key: (B, S, C)}``, or None without one.
    """

    clip_embedding: torch.Tensor
    image_latents: torch.Tensor
    added_time_ids: torch.Tensor
    reference_features: dict[str, torch.Tensor] | None = None


def check_images(images: torch.Tensor, name: str = "images") -> torch.Tensor:
    """Check a ``(B, 3, H, W)`` float image batch in [0, 1] (small overshoot tolerated)."""
    if images.ndim != 4 or images.shape[1] != 3:
        raise ValueError(f"{name} must have shape (B, 3, H, W), got {tuple(images.shape)}")
    if not images.is_floating_point():
        raise ValueError(f"{name} must be float in [0, 1], got dtype {images.dtype}")
    return images


def clip_image_embedding(
    image_encoder: Any, images: torch.Tensor, feature_extractor: Any | None = None
) -> torch.Tensor:
    """CLIP image embedding of ``(B, 3, H, W)`` images in [0, 1] → ``(B, 1, D)``.

    Images are resized (bicubic, antialiased) to the encoder's ``image_size``, as SVD resizes to
    224 for ViT-H/14, then normalised with the feature extractor's mean/std.
    """
    check_images(images)
    size = int(image_encoder.config.image_size)
    mean = getattr(feature_extractor, "image_mean", None) or OPENAI_CLIP_MEAN
    std = getattr(feature_extractor, "image_std", None) or OPENAI_CLIP_STD
    parameter = next(image_encoder.parameters())
    pixels = F.interpolate(
        images.float(), size=(size, size), mode="bicubic", antialias=True, align_corners=False
    ).clamp(0, 1)
    mean_t = torch.tensor(mean, device=pixels.device).view(1, 3, 1, 1)
    std_t = torch.tensor(std, device=pixels.device).view(1, 3, 1, 1)
    pixels = ((pixels - mean_t) / std_t).to(parameter.device, parameter.dtype)
    return image_encoder(pixel_values=pixels).image_embeds.unsqueeze(1)


def vae_conditioning_latents(
    vae: Any,
    images: torch.Tensor,
    noise_aug_strength: float = 0.02,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """SVD's concat latent: ``vae.encode(2x − 1 + a·ε).latent_dist.mode()``, unscaled, ``(B, 4, h, w)``."""
    check_images(images)
    parameter = next(vae.parameters())
    pixels = images.float() * 2.0 - 1.0
    if noise_aug_strength > 0:
        noise = torch.randn(pixels.shape, generator=generator, device=pixels.device)
        pixels = pixels + noise_aug_strength * noise
    return vae.encode(pixels.to(parameter.device, parameter.dtype)).latent_dist.mode()


def encode_frames(vae: Any, frames: torch.Tensor, *, chunk_size: int = 8) -> torch.Tensor:
    """Scaled VAE latents of frames: ``(..., 3, H, W)`` in [0, 1] → ``(..., 4, H/8, W/8)``.

    This is the diffusion target space (``mode() · scaling_factor``), encoded ``chunk_size``
    images at a time.
    """
    if frames.ndim < 4 or frames.shape[-3] != 3:
        raise ValueError(f"frames must have shape (..., 3, H, W), got {tuple(frames.shape)}")
    parameter = next(vae.parameters())
    flat = frames.reshape(-1, *frames.shape[-3:])
    latents = [
        vae.encode((chunk.float() * 2 - 1).to(parameter.device, parameter.dtype)).latent_dist.mode()
        for chunk in flat.split(chunk_size)
    ]
    out = torch.cat(latents) * vae.config.scaling_factor
    return out.reshape(*frames.shape[:-3], *out.shape[-3:])


def decode_latents(vae: Any, latents: torch.Tensor, *, chunk_size: int = 8) -> torch.Tensor:
    """Decode scaled latents ``(B, V, T, 4, h, w)`` to frames ``(B, V, T, 3, H, W)`` in [0, 1].

    Each view's clip goes through SVD's temporal decoder ``chunk_size`` frames at a time
    (``num_frames`` = the chunk length, as ``decode_chunk_size`` in diffusers).
    """
    if latents.ndim != 6:
        raise ValueError(f"latents must have shape (B, V, T, 4, h, w), got {tuple(latents.shape)}")
    batch, views, frames = latents.shape[:3]
    parameter = next(vae.parameters())
    clips = (latents / vae.config.scaling_factor).flatten(0, 1)  # (B·V, T, 4, h, w)
    decoded = []
    for clip in clips:
        pieces = [
            vae.decode(
                chunk.to(parameter.device, parameter.dtype), num_frames=chunk.shape[0]
            ).sample
            for chunk in clip.split(chunk_size)
        ]
        decoded.append(torch.cat(pieces))
    images = torch.stack(decoded).float()
    images = ((images + 1.0) / 2.0).clamp(0.0, 1.0)
    return images.reshape(batch, views, frames, *images.shape[-3:])


def make_added_time_ids(
    batch: int,
    *,
    fps: int = 7,
    motion_bucket_id: int = 127,
    noise_aug_strength: float = 0.02,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """SVD's ``added_time_ids``: ``(B, 3)`` rows ``[fps − 1, motion_bucket_id, noise_aug]``."""
    row = torch.tensor([fps - 1, motion_bucket_id, noise_aug_strength], dtype=torch.float32)
    return row.to(device).expand(batch, 3).clone()


def encode_reference(
    images: torch.Tensor,
    *,
    vae: Any,
    image_encoder: Any,
    reference_net: Any | None = None,
    feature_extractor: Any | None = None,
    noise_aug_strength: float = 0.02,
    fps: int = 7,
    motion_bucket_id: int = 127,
    generator: torch.Generator | None = None,
) -> ReferenceConditioning:
    """Compute the reference conditioning of ``(B, 3, H, W)`` images in [0, 1].

    CLIP and VAE run without gradients (they are frozen); the ReferenceNet runs with autograd
    as the caller's mode allows, so a trainer can train it. Its input is the *clean* latent.
    """
    check_images(images)
    with torch.no_grad():
        clip = clip_image_embedding(image_encoder, images, feature_extractor)
        latents = vae_conditioning_latents(vae, images, noise_aug_strength, generator)
        clean = vae_conditioning_latents(vae, images, 0.0) if noise_aug_strength > 0 else latents
    ids = make_added_time_ids(
        images.shape[0],
        fps=fps,
        motion_bucket_id=motion_bucket_id,
        noise_aug_strength=noise_aug_strength,
        device=latents.device,
    )
    bank = None
    if reference_net is not None:
        bank = reference_net(clean, clip, ids)
    return ReferenceConditioning(clip, latents, ids, bank)
