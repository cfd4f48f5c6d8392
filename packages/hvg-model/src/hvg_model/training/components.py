"""What the trainer builds from an SVD-xt directory: frozen encoders and the trainable module.

The VAE and the CLIP image encoder are frozen and live outside the distributed wrapper;
everything that trains (the DenoisingNet and, where present, the ReferenceNet) sits in one
:class:`TrainableDenoiser` so that DDP/FSDP wrap a single module (research model.md §4.3).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor, nn

from hvg_model.conditioning import (
    ReferenceConditioning,
    clip_image_embedding,
    make_added_time_ids,
    vae_conditioning_latents,
)


@dataclass
class FrozenEncoders:
    """SVD's frozen VAE and CLIP image encoder with SVD's conditioning conventions.

    Attributes:
        vae: ``AutoencoderKLTemporalDecoder``.
        image_encoder: ``CLIPVisionModelWithProjection``.
        clip_size: Input side of the image encoder.
        clip_mean: ``(3,)`` CLIP normalisation mean.
        clip_std: ``(3,)`` CLIP normalisation std.
    """

    vae: nn.Module
    image_encoder: nn.Module
    clip_size: int
    clip_mean: Tensor
    clip_std: Tensor

    @property
    def scaling_factor(self) -> float:
        """Latent scale of the diffusion space (0.18215 for SVD)."""
        return float(self.vae.config.scaling_factor)

    @property
    def vae_factor(self) -> int:
        """Image pixels per latent pixel."""
        return 2 ** (len(self.vae.config.block_out_channels) - 1)

    def to(self, device: torch.device) -> FrozenEncoders:
        """Move both networks to ``device``."""
        self.vae.to(device)
        self.image_encoder.to(device)
        self.clip_mean = self.clip_mean.to(device)
        self.clip_std = self.clip_std.to(device)
        return self

    @torch.no_grad()
    def latents(self, images: Tensor, noise: Tensor) -> Tensor:
        """Scaled diffusion latents of target images, sampling the VAE posterior with ``noise``.

        Args:
            images: ``(N, 3, H, W)`` in [0, 1].
            noise: ``(N, C, H/f, W/f)`` standard normal.

        Returns:
            ``(N, C, H/f, W/f)`` latents times ``scaling_factor``.
        """
        posterior = self.vae.encode(images * 2 - 1).latent_dist
        return (posterior.mean + posterior.std * noise) * self.scaling_factor

    @torch.no_grad()
    def reference_latent(self, reference: Tensor, cond_aug: Tensor, noise: Tensor) -> Tensor:
        """SVD's conditioning latent: ``vae.encode(ref + a·ε).mode()``, NOT scaled.

        The same function as inference (:func:`hvg_model.conditioning.vae_conditioning_latents`).

        Args:
            reference: ``(B, 3, H, W)`` in [0, 1].
            cond_aug: ``(B,)`` augmentation strengths a.
            noise: ``(B, 3, H, W)`` standard normal ε.
        """
        return vae_conditioning_latents(self.vae, reference, cond_aug, noise=noise)

    @torch.no_grad()
    def clip_embedding(self, reference: Tensor) -> Tensor:
        """CLIP image embedding ``(B, 1, D)`` of ``(B, 3, H, W)`` images in [0, 1] (SVD's resize).

        The same function as inference (:func:`hvg_model.conditioning.clip_image_embedding`).
        """
        return clip_image_embedding(
            self.image_encoder, reference, mean=self.clip_mean, std=self.clip_std
        )

    def reference_conditioning(
        self,
        reference: Tensor,
        cond_aug: Tensor,
        noise: Tensor,
        *,
        fps: int,
        motion_bucket_id: int,
    ) -> ReferenceConditioning:
        """SVD's conditioning of a training batch: CLIP, concat latent and added time ids.

        Built from the functions inference's :func:`hvg_model.conditioning.encode_reference`
        calls (a test checks that both give identical tensors); no ReferenceNet bank (the
        trainable module computes it under autograd).

        Args:
            reference: ``(B, 3, H, W)`` in [0, 1].
            cond_aug: ``(B,)`` noise-augmentation strengths.
            noise: ``(B, 3, H, W)`` standard normal noise of the augmentation.
            fps: SVD's fps conditioning (fed as ``fps − 1``).
            motion_bucket_id: SVD's motion conditioning.
        """
        latents = self.reference_latent(reference, cond_aug, noise)
        return ReferenceConditioning(
            clip_embedding=self.clip_embedding(reference),
            image_latents=latents,
            added_time_ids=make_added_time_ids(
                reference.shape[0],
                fps=fps,
                motion_bucket_id=motion_bucket_id,
                noise_aug_strength=cond_aug,
                device=latents.device,
            ),
        )


def load_frozen_encoders(svd_dir: str | Path, vae_dir: str | Path | None = None) -> FrozenEncoders:
    """Load the frozen VAE and CLIP image encoder of a local SVD-xt directory.

    Args:
        svd_dir: The SVD-xt directory (``model.svd_dir``).
        vae_dir: A separate VAE directory (``model.vae_dir``) used instead of ``svd_dir/vae``.

    Raises:
        MissingResourceError: The directory or one of its components is missing (from
            :func:`hvg_model.loading.check_model_dir`, naming what is expected).
        InputError: ``vae_dir`` is not a loadable ``AutoencoderKLTemporalDecoder`` directory.
    """
    from hvg_model.loading import load_frozen_components

    components = load_frozen_components(svd_dir, vae_dir=vae_dir)
    processor = components.feature_extractor
    return FrozenEncoders(
        vae=components.vae,
        image_encoder=components.image_encoder,
        clip_size=int(components.image_encoder.config.image_size),
        clip_mean=torch.tensor(processor.image_mean, dtype=torch.float32),
        clip_std=torch.tensor(processor.image_std, dtype=torch.float32),
    )


class TrainableDenoiser(nn.Module):
    """Everything that trains, as one module: the DenoisingNet and an optional ReferenceNet.

    ``architecture = "svd"`` wraps a plain SVD UNet (views folded into the batch, no pose, no
    cameras); ``"hvg"`` wraps :class:`hvg_model.HVGDenoisingNet`, which reads pose maps,
    cameras, the number of views and ReferenceNet features.

    Args:
        net: The denoising UNet.
        reference_net: A ReferenceNet producing the bank ``{key: (B, S, C)}``, or None.
        architecture: ``"hvg"`` or ``"svd"``.
    """

    def __init__(self, net: nn.Module, reference_net: nn.Module | None, architecture: str) -> None:
        super().__init__()
        self.net = net
        self.reference_net = reference_net
        self.architecture = architecture

    def forward(
        self,
        sample: Tensor,
        c_noise: Tensor,
        clip: Tensor,
        time_ids: Tensor,
        *,
        num_views: int,
        pose_maps: Tensor | None = None,
        cameras: Tensor | None = None,
        reference_latent: Tensor | None = None,
        reference_clip: Tensor | None = None,
        reference_time_ids: Tensor | None = None,
        reference_keep: Tensor | None = None,
        image_only: bool = False,
    ) -> Tensor:
        """Network output F for ``B·V`` rows of ``T`` frames.

        Args:
            sample: ``(B·V, T, 8, h, w)`` = cat(c_in·x_σ, reference latent).
            c_noise: ``(B·V,)`` = ¼ ln σ.
            clip: ``(B·V, 1, D)`` CLIP embeddings (zeros where dropped).
            time_ids: ``(B·V, 3)`` SVD's added time ids.
            num_views: V.
            pose_maps: ``(B·V, T, C_pose, H, W)`` or None.
            cameras: ``(B·V, 3, 3)`` rotations relative to the first view, or None.
            reference_latent: ``(B, 4, h, w)`` unscaled reference latent for the ReferenceNet.
            reference_clip: ``(B, 1, D)`` CLIP embedding for the ReferenceNet.
            reference_time_ids: ``(B, 3)`` added time ids for the ReferenceNet.
            reference_keep: ``(B,)`` float, 0 drops a row's ReferenceNet features (CFG).
            image_only: Flag every frame image-only (stage 1, T = 1: temporal mixing off).

        Returns:
            ``(B·V, T, 4, h, w)``.
        """
        if self.architecture == "svd":
            return self.net(sample, c_noise, clip, time_ids).sample
        features = None
        if self.reference_net is not None and reference_latent is not None:
            features = self.reference_net(reference_latent, reference_clip, reference_time_ids)
            if reference_keep is not None:
                features = {
                    key: value * reference_keep.to(value.dtype).reshape(-1, 1, 1)
                    for key, value in features.items()
                }
        indicator = None
        if image_only:
            indicator = torch.ones(sample.shape[:2], dtype=sample.dtype, device=sample.device)
        return self.net(
            sample,
            c_noise,
            clip,
            time_ids,
            pose_maps=pose_maps,
            cameras=cameras,
            num_views=num_views,
            reference_features=features,
            image_only_indicator=indicator,
        ).sample
