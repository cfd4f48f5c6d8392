"""Reference-image conditioning: CLIP embedding, VAE latent, ReferenceNet bank; VAE coding of frames.

SVD's conventions, checked against diffusers' ``StableVideoDiffusionPipeline`` (research/model.md
§1.3): the conditioning latent is ``vae.encode(image + a·ε).mode()`` **without** the 0.18215
scaling, noise-augmented with strength ``a`` that is also fed as the third ``added_time_ids``
entry; ``added_time_ids = [fps − 1, motion_bucket_id, a]``; the denoised latents are scaled by
0.18215 and divided by it before decoding.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from hvg_core.errors import InputError

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
        raise InputError(
            f"{name} must have shape (B, 3, H, W), got {tuple(images.shape)}", field=name
        )
    if not images.is_floating_point():
        raise InputError(f"{name} must be float in [0, 1], got dtype {images.dtype}", field=name)
    return images


def clip_image_embedding(
    image_encoder: Any,
    images: torch.Tensor,
    feature_extractor: Any | None = None,
    *,
    mean: Sequence[float] | torch.Tensor | None = None,
    std: Sequence[float] | torch.Tensor | None = None,
) -> torch.Tensor:
    """CLIP image embedding of ``(B, 3, H, W)`` images in [0, 1] → ``(B, 1, D)``.

    Images are resized (bicubic, antialiased) to the encoder's ``image_size``, as SVD resizes to
    224 for ViT-H/14, then normalised with ``mean``/``std`` (default: the feature extractor's,
    else OpenAI CLIP's). Training and inference both call this function. Follows diffusers'
    ``StableVideoDiffusionPipeline._encode_image``
    (``diffusers.pipelines.stable_video_diffusion.pipeline_stable_video_diffusion``), with
    torch's antialiased bicubic resize in place of its ``_resize_with_antialiasing``.
    """
    check_images(images)
    size = int(image_encoder.config.image_size)
    if mean is None:
        mean = getattr(feature_extractor, "image_mean", None) or OPENAI_CLIP_MEAN
    if std is None:
        std = getattr(feature_extractor, "image_std", None) or OPENAI_CLIP_STD
    parameter = next(image_encoder.parameters())
    pixels = F.interpolate(
        images.float(), size=(size, size), mode="bicubic", antialias=True, align_corners=False
    ).clamp(0, 1)
    mean_t = torch.as_tensor(mean, dtype=torch.float32, device=pixels.device).view(1, 3, 1, 1)
    std_t = torch.as_tensor(std, dtype=torch.float32, device=pixels.device).view(1, 3, 1, 1)
    pixels = ((pixels - mean_t) / std_t).to(parameter.device, parameter.dtype)
    return image_encoder(pixel_values=pixels).image_embeds.unsqueeze(1)


def vae_conditioning_latents(
    vae: Any,
    images: torch.Tensor,
    noise_aug_strength: float | torch.Tensor = 0.02,
    generator: torch.Generator | None = None,
    *,
    noise: torch.Tensor | None = None,
) -> torch.Tensor:
    """SVD's concat latent: ``vae.encode(2x − 1 + a·ε).latent_dist.mode()``, unscaled, ``(B, 4, h, w)``.

    Training and inference both call this function. Follows diffusers'
    ``StableVideoDiffusionPipeline._encode_vae_image`` and the noise augmentation of its
    ``__call__`` (``diffusers.pipelines.stable_video_diffusion.pipeline_stable_video_diffusion``).

    Args:
        vae: SVD's VAE.
        images: ``(B, 3, H, W)`` in [0, 1].
        noise_aug_strength: ``a``: one number, or ``(B,)`` per image (training draws it per row).
        generator: Draws ``ε`` when ``noise`` is not given.
        noise: ``(B, 3, H, W)`` standard normal ``ε`` (training's per-row draws).
    """
    check_images(images)
    parameter = next(vae.parameters())
    pixels = images.float() * 2.0 - 1.0
    strength = torch.as_tensor(noise_aug_strength, dtype=torch.float32, device=pixels.device)
    if strength.ndim == 1:
        strength = strength[:, None, None, None]
    if bool((strength > 0).any()):
        if noise is None:
            noise = torch.randn(pixels.shape, generator=generator, device=pixels.device)
        pixels = pixels + strength * noise
    return vae.encode(pixels.to(parameter.device, parameter.dtype)).latent_dist.mode()


def encode_frames(vae: Any, frames: torch.Tensor, *, chunk_size: int = 8) -> torch.Tensor:
    """Scaled VAE latents of frames: ``(..., 3, H, W)`` in [0, 1] → ``(..., 4, H/8, W/8)``.

    This is the diffusion target space (``mode() · scaling_factor``), encoded ``chunk_size``
    images at a time.
    """
    if frames.ndim < 4 or frames.shape[-3] != 3:
        raise InputError(
            f"frames must have shape (..., 3, H, W), got {tuple(frames.shape)}", field="frames"
        )
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
    Follows diffusers' ``StableVideoDiffusionPipeline.decode_latents``
    (``diffusers.pipelines.stable_video_diffusion.pipeline_stable_video_diffusion``).
    """
    if latents.ndim != 6:
        raise InputError(
            f"latents must have shape (B, V, T, 4, h, w), got {tuple(latents.shape)}",
            field="latents",
        )
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
    noise_aug_strength: float | torch.Tensor = 0.02,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """SVD's ``added_time_ids``: ``(B, 3)`` float32 rows ``[fps − 1, motion_bucket_id, noise_aug]``.

    Follows diffusers' ``StableVideoDiffusionPipeline._get_add_time_ids``
    (``diffusers.pipelines.stable_video_diffusion.pipeline_stable_video_diffusion``), which
    passes ``fps − 1`` as SVD-xt was trained; ``noise_aug_strength`` may be ``(B,)`` per row
    (training). Training and inference both call this function.
    """
    strength = torch.as_tensor(noise_aug_strength, dtype=torch.float32, device=device)
    strength = strength.expand(batch) if strength.ndim == 0 else strength
    if strength.shape != (batch,):
        raise InputError(
            f"noise_aug_strength must be a number or ({batch},), got {tuple(strength.shape)}",
            field="noise_aug_strength",
        )
    return torch.stack(
        [torch.full_like(strength, fps - 1), torch.full_like(strength, motion_bucket_id), strength],
        dim=1,
    )


def denoiser_sample(scaled_latents: torch.Tensor, image_latents: torch.Tensor) -> torch.Tensor:
    """SVD's UNet input: each frame's latents with the reference latent concatenated.

    Training and inference both build the network input with this function.

    Args:
        scaled_latents: ``(B, V, T, C, h, w)`` noisy latents already multiplied by c_in.
        image_latents: ``(B, C', h, w)`` conditioning latents (zeros where dropped).

    Returns:
        ``(B·V, T, C + C', h, w)`` in the dtype of ``scaled_latents``.
    """
    b, v, t = scaled_latents.shape[:3]
    repeated = image_latents.to(scaled_latents.dtype)[:, None, None]
    return torch.cat(
        [scaled_latents, repeated.expand(b, v, t, *image_latents.shape[1:])], dim=3
    ).flatten(0, 1)


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


# --------------------------------------------------------------------------- temporal alignment


def border_colour(images: torch.Tensor) -> torch.Tensor:
    """Median colour of the one-pixel border of ``(B, 3, H, W)`` images → ``(B, 3)``.

    The background of a person photo or a dataset render (white, grey, a studio wall).
    """
    check_images(images)
    border = torch.cat(
        [images[..., 0, :], images[..., -1, :], images[..., :, 0], images[..., :, -1]], dim=-1
    )
    return border.median(dim=-1).values


def reference_foreground_mask(
    images: torch.Tensor, *, alpha: torch.Tensor | None = None, threshold: float = 0.12
) -> torch.Tensor:
    """Person mask of reference images ``(B, 3, H, W)`` → ``(B, H, W)`` bool.

    With an alpha channel (``(B, H, W)`` in [0, 1], e.g. an RGBA PNG with the background cut
    out) the mask is ``alpha > 0.5``. Otherwise the background is taken to be the border's
    median colour (:func:`border_colour`) and a pixel belongs to the person when any channel
    differs from it by more than ``threshold``; this suits photos on a plain background and
    dataset renders, not cluttered scenes (cut those out first and pass the alpha).

    Raises:
        InputError: The mask is empty (nothing differs from the background).
    """
    check_images(images)
    if alpha is not None:
        if alpha.shape != (images.shape[0], *images.shape[-2:]):
            raise InputError(
                f"alpha must have shape (B, H, W) = {(images.shape[0], *images.shape[-2:])}, "
                f"got {tuple(alpha.shape)}",
                field="alpha",
            )
        mask = alpha > 0.5
    else:
        background = border_colour(images)[..., None, None]
        mask = (images - background).abs().amax(dim=-3) > threshold
    if not bool(mask.flatten(1).any(dim=1).all()):
        raise InputError(
            "no person found in the reference image: nothing differs from the border colour "
            "(give an RGBA image with the background cut out)",
            field="reference_image",
        )
    return mask


def pose_silhouette(pose_maps: torch.Tensor) -> torch.Tensor:
    """Where a pose map shows the body: ``(..., C, H, W)`` → ``(..., H, W)`` bool (non-zero)."""
    return pose_maps.abs().amax(dim=-3) > 0


def align_reference(
    images: torch.Tensor,
    target_mask: torch.Tensor,
    reference_mask: torch.Tensor | None = None,
    *,
    match_scale: bool = True,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Move and scale the person of reference images onto a target silhouette (paper §3.3).

    The reference person's bounding box is centred on the target's and scaled to the same
    height (``hvg_bonemap.alignment.temporal_alignment_boxes``); the reference is resampled to
    the target's size, with the border colour outside the photo.

    Args:
        images: ``(B, 3, H_r, W_r)`` in [0, 1], any size.
        target_mask: ``(B, H, W)`` silhouette of the first pose frame (view 0).
        reference_mask: ``(B, H_r, W_r)`` person mask (None: :func:`reference_foreground_mask`).
        match_scale: Also equalise the person heights.

    Returns:
        ``(aligned (B, 3, H, W), boxes (B, 4))``, the boxes in reference pixels.

    Raises:
        ValueError: An empty mask or mismatched batch sizes.
    """
    from hvg_bonemap.alignment import crop_images, temporal_alignment_boxes

    check_images(images)
    if reference_mask is None:
        reference_mask = reference_foreground_mask(images)
    if target_mask.ndim != 3 or target_mask.shape[0] != images.shape[0]:
        raise InputError(
            f"target_mask must have shape (B, H, W) with B = {images.shape[0]}, "
            f"got {tuple(target_mask.shape)}",
            field="target_mask",
        )
    # An empty mask raises hvg_bonemap's BoneMapInputError, a ValueError.
    boxes = temporal_alignment_boxes(
        reference_mask.to(images.device), target_mask.to(images.device), match_scale=match_scale
    )
    background = border_colour(images)[..., None, None]
    size = (int(target_mask.shape[-2]), int(target_mask.shape[-1]))
    aligned = crop_images(images.float() - background, boxes.to(images.device), size) + background
    return aligned.clamp(0, 1), boxes
