"""The training forward pass and loss: SVD's conditioning, the network call, the EDM loss.

Used by the training loop (:mod:`hvg_model.training.loop`), the evaluation loss and the sample
videos (:mod:`hvg_model.training.samples`); it imports neither, so none of them import each
other. The conditioning is built from the same functions as inference
(:mod:`hvg_model.conditioning`) and the preconditioning from :mod:`hvg_model.edm`.
"""

from __future__ import annotations

import contextlib
from typing import Any

import torch
from torch import Tensor, nn

from hvg_model.conditioning import denoiser_sample
from hvg_model.edm import edm_scalings
from hvg_model.training.components import FrozenEncoders
from hvg_model.training.config import TrainConfig
from hvg_model.training.data import TrainBatch
from hvg_model.training.objective import RowDraws, edm_loss_per_sample


def pose_maps_of(batch: TrainBatch, variant: str, drop: Tensor) -> Tensor:
    """Pose-modulator input ``(B, V, T, C_pose, H, W)`` in [0, 1], zero for dropped rows.

    The sources made ``batch.pose`` with ``hvg_bonemap.pose_codec`` under the run's pose spec,
    the same code the inference pipeline uses; it is checked against ``variant`` here.
    """
    from hvg_model.pose_input import check_pose_maps, pose_spec_for

    maps = batch.pose
    check_pose_maps(pose_spec_for(variant), maps[:1, :1, :1])
    keep = (~drop).to(maps.dtype).reshape(-1, *([1] * (maps.ndim - 1)))
    return maps * keep


def micro_step_losses(
    module: nn.Module,
    encoders: FrozenEncoders,
    batch: TrainBatch,
    draws: RowDraws,
    config: TrainConfig,
    autocast: contextlib.AbstractContextManager,
) -> Tensor:
    """Per-row EDM losses ``(B,)`` of one micro-batch (graph attached for backward).

    Args:
        module: The (possibly DDP/FSDP-wrapped) :class:`TrainableDenoiser`.
        encoders: Frozen VAE and CLIP.
        batch: ``rgb (B, V, T, 3, H, W)`` etc. on the training device.
        draws: This micro-batch's rows' random draws (on the training device).
        config: Training config (objective and model sections).
        autocast: Mixed-precision context for the trainable module.
    """
    b, v, t = batch.rgb.shape[:3]
    x0 = encoders.latents(batch.rgb.flatten(0, 2), draws.latent_noise.flatten(0, 2))
    x0 = x0.reshape(b, v, t, *x0.shape[1:])
    x_sigma = x0 + draws.sigma.reshape(b, 1, 1, 1, 1, 1) * draws.noise
    prediction = network_prediction(
        module,
        encoders,
        batch,
        x_sigma,
        draws.sigma,
        config,
        cond_aug=draws.cond_aug,
        reference_noise=draws.reference_noise,
        drop_reference_image=draws.drop_reference_image,
        drop_reference_net=draws.drop_reference_net,
        drop_pose=draws.drop_pose,
        autocast=autocast,
    )
    return edm_loss_per_sample(prediction, x0, x_sigma, draws.sigma)


def network_prediction(
    module: nn.Module,
    encoders: FrozenEncoders,
    batch: TrainBatch,
    x_sigma: Tensor,
    sigma: Tensor,
    config: TrainConfig,
    *,
    cond_aug: Tensor,
    reference_noise: Tensor,
    drop_reference_image: Tensor,
    drop_reference_net: Tensor,
    drop_pose: Tensor,
    autocast: contextlib.AbstractContextManager | None = None,
) -> Tensor:
    """The network output F ``(B, V, T, C, h, w)`` for noisy latents, with SVD's conditioning.

    Args:
        module: The trainable module (possibly wrapped).
        encoders: Frozen VAE and CLIP.
        batch: Conditioning images, bone maps and cameras.
        x_sigma: ``(B, V, T, C, h, w)`` noisy latents.
        sigma: ``(B,)`` noise levels.
        config: Training config.
        cond_aug: ``(B,)`` reference noise-augmentation strengths.
        reference_noise: ``(B, 3, H, W)`` noise of that augmentation.
        drop_reference_image: ``(B,)`` bool: zero CLIP embedding and concatenated latent.
        drop_reference_net: ``(B,)`` bool: zero the ReferenceNet features.
        drop_pose: ``(B,)`` bool: zero the pose maps.
        autocast: Mixed-precision context (default none).
    """
    b, v, t = x_sigma.shape[:3]
    reference = encoders.reference_conditioning(
        batch.reference,
        cond_aug,
        reference_noise,
        fps=config.objective.fps,
        motion_bucket_id=config.objective.motion_bucket_id,
    )
    keep_image = (~drop_reference_image).to(x_sigma.dtype)
    conditioning_latent = reference.image_latents * keep_image[:, None, None, None]
    conditioning_clip = reference.clip_embedding * keep_image[:, None, None]
    scalings = edm_scalings(sigma)
    sample = denoiser_sample(scalings.c_in.reshape(b, 1, 1, 1, 1, 1) * x_sigma, conditioning_latent)
    time_ids = reference.added_time_ids
    kwargs: dict[str, Any] = {"num_views": v}
    if config.model.architecture == "hvg":
        from hvg_model.embeddings import relative_rotations

        kwargs["pose_maps"] = pose_maps_of(batch, config.model.variant, drop_pose).flatten(0, 1)
        kwargs["cameras"] = relative_rotations(batch.rotation).flatten(0, 1)
        if config.model.reference_net:
            # The ReferenceNet reads the clean latent, as at inference (encode_reference).
            kwargs["reference_latent"] = encoders.reference_latent(
                batch.reference, torch.zeros_like(cond_aug), reference_noise
            )
        kwargs["reference_clip"] = reference.clip_embedding
        kwargs["reference_time_ids"] = time_ids
        kwargs["reference_keep"] = (~drop_reference_net).to(x_sigma.dtype)
        kwargs["image_only"] = config.data.stage == 1
    with autocast or contextlib.nullcontext():
        prediction = module(
            sample,
            scalings.c_noise.repeat_interleave(v),
            conditioning_clip.repeat_interleave(v, dim=0),
            time_ids.repeat_interleave(v, dim=0),
            **kwargs,
        )
    return prediction.reshape(b, v, t, *prediction.shape[2:]).float()


@torch.no_grad()
def evaluation_loss(
    module: nn.Module,
    encoders: FrozenEncoders,
    source: Any,
    config: TrainConfig,
    *,
    seed: int,
    num_batches: int,
    device: torch.device | str = "cpu",
) -> float:
    """Mean EDM loss on a fixed evaluation set: the same samples, σ and noise for any weights.

    The draws use ``seed`` (pick one different from the training seed) and steps
    ``0 .. num_batches − 1``, so comparing two sets of weights compares models, not σ samples.
    No dropout of conditions is applied.
    """
    from dataclasses import replace

    from hvg_model.training.data import DataOrder, StepRowDataset, collate, layout_for_step

    device = torch.device(device)
    objective = replace(
        config.objective, drop_reference_image=0.0, drop_reference_net=0.0, drop_pose=0.0
    )
    evaluation_config = replace(config, objective=objective)
    layouts = config.data.views_frames or [[config.data.views, config.data.frames]]
    order = DataOrder(len(source), config.schedule.global_batch_size, seed)
    dataset = StepRowDataset(source, order, seed)
    was_training = module.training
    module.eval()
    total, count = 0.0, 0
    for step in range(num_batches):
        views, frames = layout_for_step(layouts, seed, step)
        rows = list(range(config.schedule.global_batch_size))
        batch = collate([dataset[(step, row, views, frames)] for row in rows]).to(device)
        draws = step_draws(evaluation_config, encoders, seed, step, rows, (views, frames), device)
        losses = micro_step_losses(
            module, encoders, batch, draws, evaluation_config, contextlib.nullcontext()
        )
        total += float(losses.double().sum())
        count += len(rows)
    module.train(was_training)
    return total / count


def step_draws(
    config: TrainConfig,
    encoders: FrozenEncoders,
    seed: int,
    step: int,
    rows: list[int],
    layout: tuple[int, int],
    device: torch.device,
) -> RowDraws:
    """The random draws of ``rows`` at ``step`` (σ, noise, augmentation, dropout) on ``device``.

    Args:
        config: Training config (objective section: σ distribution, dropout probabilities).
        encoders: Frozen encoders (latent channels and downsampling factor).
        seed: Run seed.
        step: Optimiser step (0-based).
        rows: Global row indices.
        layout: ``(views, frames)`` of the step.
        device: Where the draws go.
    """
    from hvg_model.training.objective import draw_rows

    objective = config.objective
    views, frames = layout
    latent_hw = config.data.image_size // encoders.vae_factor
    draws = draw_rows(
        seed=seed,
        step=step,
        rows=rows,
        latent_shape=(views, frames, encoders.vae.config.latent_channels, latent_hw, latent_hw),
        image_shape=(3, config.data.image_size, config.data.image_size),
        p_mean=objective.p_mean,
        p_std=objective.p_std,
        cond_aug_mean=objective.cond_aug_mean,
        cond_aug_std=objective.cond_aug_std,
        drop_reference_image=objective.drop_reference_image,
        drop_reference_net=objective.drop_reference_net,
        drop_pose=objective.drop_pose,
    )
    return RowDraws(*(getattr(draws, f).to(device) for f in RowDraws.__dataclass_fields__))
