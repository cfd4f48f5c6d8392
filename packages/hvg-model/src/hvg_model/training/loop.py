"""The training loop one worker runs: single process, or one rank of a Ray Train / torchrun job.

Per optimiser step: choose the step's (views, frames) layout, read this worker's rows of the
global batch, encode them with the frozen VAE and CLIP, draw σ, noise and dropout per row from
``(seed, step, row)``, run the trainable module, backpropagate the EDM loss scaled so that the
gradient averaged by DDP/FSDP is the gradient of the global-batch mean, clip, step AdamW, the
schedule and the EMA, log one line, and checkpoint at intervals.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from hvg_core.errors import HVGError
from torch import Tensor, nn

from hvg_model.training import checkpoint as ckpt
from hvg_model.training.components import FrozenEncoders, TrainableDenoiser, load_frozen_encoders
from hvg_model.training.config import TrainConfig, images_per_sample, per_worker_batch
from hvg_model.training.data import (
    DataOrder,
    MicroBatchKeys,
    StepRowDataset,
    TrainBatch,
    collate,
    layout_for_step,
    worker_rows,
)
from hvg_model.training.metrics_log import (
    METRICS_FILE,
    MetricsWriter,
    plot_loss_curve,
    truncate_metrics,
)
from hvg_model.training.objective import (
    RowDraws,
    draw_rows,
    edm_loss_per_sample,
    edm_scalings,
    sigma_bin_labels,
    sigma_binned_sums,
)
from hvg_model.training.optim import (
    ExponentialMovingAverage,
    build_optimizer,
    build_scheduler,
    select_trainable,
)

logger = logging.getLogger(__name__)

#: The loss curve is redrawn at a checkpoint at most this often (and always at the end).
PLOT_INTERVAL_S = 300.0


class NonFiniteLossError(HVGError):
    """Training stopped on a NaN or infinite loss or gradient norm (exit code 1).

    The step's update is not applied and no checkpoint is written after it, so the newest
    checkpoint of the run (if any) holds the last good weights.

    Args:
        step: The step (1-based) whose loss or gradient was not finite.
        loss: Its mean loss.
        grad_norm: Its global gradient norm.
        last_good: The newest checkpoint directory, or ``None``.
    """

    def __init__(self, step: int, loss: float, grad_norm: float, last_good: Path | None) -> None:
        self.step, self.loss, self.grad_norm, self.last_good = step, loss, grad_norm, last_good
        kept = (
            f"the last good checkpoint is {last_good} (continue with --resume)"
            if last_good is not None
            else "no checkpoint was written before it"
        )
        super().__init__(
            f"training stopped at step {step}: loss {loss} / gradient norm {grad_norm} is not "
            f"finite, so the update was not applied; {kept}. Lower optim.lr, keep "
            "optim.grad_clip on, or check the data (hvg-data verify)"
        )


@dataclass
class WorkerContext:
    """Where this process sits in the job.

    Attributes:
        rank: Global rank.
        world_size: Number of training processes.
        local_rank: Rank on this node (selects the GPU).
        distributed: Whether a ``torch.distributed`` process group is initialised.
    """

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    distributed: bool = False


@dataclass
class TrainSummary:
    """What a finished (or resumed-and-finished) run did.

    Attributes:
        run_dir: Run directory.
        start_step: Step the run started from (0, or the resumed checkpoint's step).
        end_step: Last step completed.
        final_loss: Loss of the last step.
        samples_per_s: Mean training throughput in samples (subjects) per second.
        images_per_s: Same in images (views × frames) per second.
        seconds: Wall time of the loop.
        optimizer: Which optimiser ran.
        checkpoints: Checkpoint directories written.
    """

    run_dir: str
    start_step: int
    end_step: int
    final_loss: float
    samples_per_s: float
    images_per_s: float
    seconds: float
    optimizer: str
    checkpoints: list[str] = field(default_factory=list)


def build_trainable(config: TrainConfig, svd_dir: str) -> TrainableDenoiser:
    """The DenoisingNet (+ ReferenceNet) from ``svd_dir``, initialised as the config says."""
    from hvg_model.training.network import build_networks

    net, reference_net = build_networks(config, svd_dir)
    module = TrainableDenoiser(net, reference_net, config.model.architecture)
    if config.model.init_from:
        weights = ckpt.load_model_weights(config.model.init_from)
        missing, unexpected = module.load_state_dict(weights, strict=False)
        if missing or unexpected:
            from hvg_core.errors import InputError

            raise InputError(
                f"weights do not match this network: missing {missing[:5]}, unexpected "
                f"{unexpected[:5]}",
                path=config.model.init_from,
                field="model.init_from",
            )
    return module


def _autocast(config: TrainConfig, device: torch.device) -> contextlib.AbstractContextManager:
    precision = config.optim.precision
    if precision == "bf16" or (precision == "auto" and device.type == "cuda"):
        return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def pose_maps_of(batch: TrainBatch, variant: str, drop: Tensor) -> Tensor:
    """Pose-modulator input ``(B, V, T, C_pose, H, W)`` in [0, 1], zero for dropped rows.

    Encoded by :func:`hvg_model.pose_input.encode_stored_bonemap`, the same code the inference
    pipeline's pose signals produce (depth code relative to the pelvis distance, normal code).
    """
    from hvg_model.pose_input import encode_stored_bonemap

    maps = encode_stored_bonemap(
        batch.depth, batch.normal, batch.pelvis_distance, pose_signal=variant
    )
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
    objective = config.objective
    b, v, t = x_sigma.shape[:3]
    reference_latent = encoders.reference_latent(batch.reference, cond_aug, reference_noise)
    clip = encoders.clip_embedding(batch.reference)
    keep_image = (~drop_reference_image).to(x_sigma.dtype)
    conditioning_latent = reference_latent * keep_image[:, None, None, None]
    conditioning_clip = clip * keep_image[:, None, None]
    _, _, c_in, c_noise = edm_scalings(sigma)
    sample = torch.cat(
        [
            c_in.reshape(b, 1, 1, 1, 1, 1) * x_sigma,
            conditioning_latent[:, None, None].expand(b, v, t, *conditioning_latent.shape[1:]),
        ],
        dim=3,
    ).flatten(0, 1)
    time_ids = torch.stack(
        [
            torch.full_like(sigma, objective.fps - 1),
            torch.full_like(sigma, objective.motion_bucket_id),
            cond_aug,
        ],
        dim=1,
    )
    kwargs: dict[str, Any] = {"num_views": v}
    if config.model.architecture == "hvg":
        from hvg_model.embeddings import relative_rotations

        kwargs["pose_maps"] = pose_maps_of(batch, config.model.variant, drop_pose).flatten(0, 1)
        kwargs["cameras"] = relative_rotations(batch.rotation).flatten(0, 1)
        kwargs["reference_latent"] = reference_latent
        kwargs["reference_clip"] = clip
        kwargs["reference_time_ids"] = time_ids
        kwargs["reference_keep"] = (~drop_reference_net).to(x_sigma.dtype)
        kwargs["image_only"] = config.data.stage == 1
    with autocast or contextlib.nullcontext():
        prediction = module(
            sample,
            c_noise.repeat_interleave(v),
            conditioning_clip.repeat_interleave(v, dim=0),
            time_ids.repeat_interleave(v, dim=0),
            **kwargs,
        )
    return prediction.reshape(b, v, t, *prediction.shape[2:]).float()


def _seed_everything(seed: int) -> None:
    torch.manual_seed(seed)
    np.random.seed(seed % 2**32)
    random.seed(seed)


def _weights_finite(wrapped: nn.Module, context: WorkerContext, device: torch.device) -> bool:
    """Whether every parameter (this rank's shard under FSDP) is finite, agreed over ranks."""
    finite = all(
        bool(torch.isfinite(p).all()) for p in wrapped.parameters() if p.is_floating_point()
    )
    if not context.distributed:
        return finite
    import torch.distributed as dist

    flag = torch.tensor([1.0 if finite else 0.0], device=device)
    dist.all_reduce(flag, op=dist.ReduceOp.MIN)
    return bool(flag.item() > 0)


def _wrap(
    module: nn.Module, config: TrainConfig, context: WorkerContext, device: torch.device
) -> nn.Module:
    if not context.distributed:
        return module
    if config.distributed.strategy == "fsdp":
        # One FSDP unit per spatio-temporal block: only one block's full weights are gathered at
        # a time. (FSDP needs CUDA; config validation refuses it on CPU.)
        from diffusers.models.resnet import SpatioTemporalResBlock
        from diffusers.models.transformers.transformer_temporal import (
            TransformerSpatioTemporalModel,
        )
        from torch.distributed.fsdp import FullyShardedDataParallel
        from torch.distributed.fsdp.wrap import ModuleWrapPolicy

        return FullyShardedDataParallel(
            module,
            auto_wrap_policy=ModuleWrapPolicy(
                {TransformerSpatioTemporalModel, SpatioTemporalResBlock}
            ),
            device_id=device,
            use_orig_params=True,
        )
    from torch.nn.parallel import DistributedDataParallel

    return DistributedDataParallel(module, device_ids=[device] if device.type == "cuda" else None)


def _is_sharded(module: nn.Module) -> bool:
    """Whether the module is wrapped by FSDP (its state must be gathered to save it)."""
    from torch.distributed.fsdp import FullyShardedDataParallel

    return isinstance(module, FullyShardedDataParallel)


def _full_model_state(
    wrapped: nn.Module, module: nn.Module, config: TrainConfig
) -> dict[str, Tensor]:
    if _is_sharded(wrapped):
        from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict

        return get_model_state_dict(
            wrapped, options=StateDictOptions(full_state_dict=True, cpu_offload=True)
        )
    return {key: value.detach().cpu() for key, value in module.state_dict().items()}


def _full_optimizer_state(
    wrapped: nn.Module, module: nn.Module, optimizer: torch.optim.Optimizer, config: TrainConfig
) -> dict[str, Any]:
    if _is_sharded(wrapped):
        from torch.distributed.checkpoint.state_dict import (
            StateDictOptions,
            get_optimizer_state_dict,
        )

        return get_optimizer_state_dict(
            wrapped, optimizer, options=StateDictOptions(full_state_dict=True, cpu_offload=True)
        )
    return optimizer.state_dict()


def train_worker(
    config: TrainConfig,
    run_dir: str | Path,
    *,
    resume: str | Path | None = None,
    lineage: ckpt.Lineage | None = None,
    context: WorkerContext | None = None,
    show_progress: bool = False,
) -> TrainSummary:
    """Run (or continue) training in this process.

    The run directory must have been prepared by :func:`hvg_model.training.run.prepare_run`
    (resolved config, tiny SVD directory or synthetic data when asked for).

    Args:
        config: Resolved training config.
        run_dir: Run directory (metrics, checkpoints, plots).
        resume: Checkpoint or run directory to continue from.
        lineage: This session's lineage, recorded in its checkpoints (default: the run's
            ``lineage.json``, as :func:`hvg_model.training.run.train` wrote it).
        context: Rank information (default: single process).
        show_progress: Show a progress bar on rank 0.
    """
    from hvg_core.cli_utils import progress

    from hvg_model.training.sources import build_source

    context = context or WorkerContext()
    run_dir = Path(run_dir)
    is_main = context.rank == 0
    if config.schedule.num_threads > 0:
        torch.set_num_threads(config.schedule.num_threads)
    if config.distributed.use_gpu:
        device = torch.device("cuda", context.local_rank)
        torch.cuda.set_device(device)
    else:
        device = torch.device("cpu")
    seed = config.schedule.seed
    if lineage is None:
        lineage = ckpt.read_lineage(run_dir)

    svd_dir = str(config.model.svd_dir)
    encoders = load_frozen_encoders(svd_dir).to(device)
    # Same initial weights on every rank and in every run of this seed.
    _seed_everything(seed)
    module = build_trainable(config, svd_dir)
    select_trainable(module, config.model.trainable, config.model.frozen)
    if module.reference_net is not None and hasattr(module.reference_net, "trainable_parameters"):
        # Parameters that cannot reach the bank would get no gradient (DDP rejects those).
        reachable = {id(p) for p in module.reference_net.trainable_parameters()}
        for parameter in module.reference_net.parameters():
            if id(parameter) not in reachable:
                parameter.requires_grad_(False)
    if config.model.gradient_checkpointing:
        module.net.enable_gradient_checkpointing()
        if module.reference_net is not None:
            module.reference_net.enable_gradient_checkpointing()
    module.to(device)

    payload = (
        ckpt.load_checkpoint(ckpt.resolve_resume(resume), num_ranks=context.world_size)
        if resume
        else None
    )
    if payload is not None:
        module.load_state_dict(payload.model, strict=True)
    start_step = payload.step if payload is not None else 0

    wrapped = _wrap(module, config, context, device)
    named_trainable = [(n, p) for n, p in wrapped.named_parameters() if p.requires_grad]
    trainable_names = [name.removeprefix("module.") for name, _ in named_trainable]
    optimizer, optimizer_name = build_optimizer(
        [p for _, p in named_trainable],
        lr=config.optim.lr,
        betas=(config.optim.betas[0], config.optim.betas[1]),
        weight_decay=config.optim.weight_decay,
        eps=config.optim.eps,
        use_8bit=config.optim.use_8bit,
        on_cuda=device.type == "cuda",
    )
    scheduler = build_scheduler(
        optimizer,
        warmup_steps=config.optim.warmup_steps,
        max_steps=config.schedule.max_steps,
        schedule=config.optim.schedule,
        min_ratio=config.optim.min_lr_ratio,
    )
    ema = (
        ExponentialMovingAverage(
            ((n.removeprefix("module."), p) for n, p in named_trainable), config.optim.ema_decay
        )
        if config.optim.ema_decay > 0
        else None
    )
    if payload is not None:
        if config.distributed.strategy == "fsdp" and context.distributed:
            from torch.distributed.checkpoint.state_dict import (
                StateDictOptions,
                set_optimizer_state_dict,
            )

            set_optimizer_state_dict(
                wrapped,
                optimizer,
                payload.optimizer,
                options=StateDictOptions(full_state_dict=True),
            )
        else:
            if payload.optimizer_names != trainable_names:
                from hvg_core.errors import InputError

                raise InputError(
                    "the checkpoint's optimiser trained other parameters than this config "
                    "(model.trainable/model.frozen changed?)",
                    field="model.trainable",
                )
            optimizer.load_state_dict(payload.optimizer)
        scheduler.load_state_dict(payload.scheduler)
        if ema is not None and payload.ema is not None:
            ema.load_state_dict(payload.ema)
        tensors, values = payload.rng[context.rank]
        ckpt.restore_rng_state(tensors, values)
    else:
        _seed_everything(seed + context.rank)

    source = build_source(config, run_dir)
    order = DataOrder(len(source), config.schedule.global_batch_size, seed)
    layouts = config.data.views_frames or [[config.data.views, config.data.frames]]
    sampler = MicroBatchKeys(
        start_step=start_step,
        max_steps=config.schedule.max_steps,
        global_batch_size=config.schedule.global_batch_size,
        grad_accumulation=config.optim.grad_accumulation,
        rank=context.rank,
        world_size=context.world_size,
        layouts=layouts,
        seed=seed,
    )
    loader = torch.utils.data.DataLoader(
        StepRowDataset(source, order, seed),
        batch_sampler=sampler,
        collate_fn=collate,
        num_workers=config.data.loader_workers,
        persistent_workers=False,
    )

    metrics_path = run_dir / METRICS_FILE
    writer = None
    tensorboard = None
    if is_main:
        resume_metrics = None
        if resume is not None:
            resumed_run = ckpt.resolve_resume(resume).parent.parent
            if resumed_run.resolve() != run_dir.resolve():
                resume_metrics = resumed_run / METRICS_FILE
        if payload is not None:
            truncate_metrics(metrics_path, keep_through_step=start_step, source=resume_metrics)
        writer = MetricsWriter(metrics_path)
        if config.schedule.tensorboard:
            tensorboard = _tensorboard_writer(run_dir)
    if is_main:
        ckpt.remove_stale_temporaries(run_dir)

    autocast = _autocast(config, device)
    labels = sigma_bin_labels(list(config.objective.sigma_bins))
    local_batch = per_worker_batch(config)
    image_count = images_per_sample(config)
    global_batch = config.schedule.global_batch_size
    loss_scale = context.world_size / global_batch
    written: list[str] = []
    final_loss = float("nan")
    wrapped.train()
    loop_start = time.perf_counter()
    last_plot = time.monotonic()
    steps = range(start_step, config.schedule.max_steps)
    iterator = iter(loader)
    for step in progress(
        steps,
        desc=f"train stage {config.data.stage}",
        total=len(steps),
        unit="step",
        disable=None if show_progress and is_main else True,
    ):
        step_start = time.perf_counter()
        views, frames = layout_for_step(layouts, seed, step)
        totals = torch.zeros(2 + 2 * len(labels), dtype=torch.float64)
        for micro in range(config.optim.grad_accumulation):
            batch = next(iterator).to(device)
            rows = worker_rows(
                global_batch,
                config.optim.grad_accumulation,
                context.world_size,
                micro,
                context.rank,
            )
            if len(rows) != local_batch or batch.rgb.shape[1:3] != (views, frames):
                raise RuntimeError(f"data loader out of step at step {step}, micro-step {micro}")
            latent_hw = config.data.image_size // encoders.vae_factor
            draws = draw_rows(
                seed=seed,
                step=step,
                rows=rows,
                latent_shape=(
                    views,
                    frames,
                    encoders.vae.config.latent_channels,
                    latent_hw,
                    latent_hw,
                ),
                image_shape=(3, config.data.image_size, config.data.image_size),
                p_mean=config.objective.p_mean,
                p_std=config.objective.p_std,
                cond_aug_mean=config.objective.cond_aug_mean,
                cond_aug_std=config.objective.cond_aug_std,
                drop_reference_image=config.objective.drop_reference_image,
                drop_reference_net=config.objective.drop_reference_net,
                drop_pose=config.objective.drop_pose,
            )
            draws = RowDraws(*(getattr(draws, f).to(device) for f in RowDraws.__dataclass_fields__))
            last_micro = micro == config.optim.grad_accumulation - 1
            sync = contextlib.nullcontext()
            if context.distributed and not last_micro and hasattr(wrapped, "no_sync"):
                sync = wrapped.no_sync()
            with sync:
                losses = micro_step_losses(wrapped, encoders, batch, draws, config, autocast)
                (losses.sum() * loss_scale).backward()
            detached = losses.detach().cpu()
            sums, counts = sigma_binned_sums(
                draws.sigma.cpu(), detached, list(config.objective.sigma_bins)
            )
            totals[0] += detached.double().sum()
            totals[1] += len(rows)
            totals[2 : 2 + len(labels)] += sums
            totals[2 + len(labels) :] += counts
        if context.distributed:
            import torch.distributed as dist

            reduced = totals.to(device)
            dist.all_reduce(reduced)
            totals = reduced.cpu()
        parameters = [p for _, p in named_trainable]
        if config.optim.grad_clip > 0 and _is_sharded(wrapped):
            grad_norm = wrapped.clip_grad_norm_(config.optim.grad_clip)  # global norm over shards
        elif config.optim.grad_clip > 0:
            grad_norm = torch.nn.utils.clip_grad_norm_(parameters, config.optim.grad_clip)
        else:
            grad_norm = torch.linalg.vector_norm(
                torch.stack([p.grad.detach().norm() for p in parameters if p.grad is not None])
            )
        lr = scheduler.get_last_lr()[0]
        final_loss = float(totals[0] / totals[1])
        if not (math.isfinite(final_loss) and math.isfinite(float(grad_norm))):
            # Every rank sees the same reduced loss and global norm, so all stop here together,
            # before the optimiser could write non-finite values into the weights.
            raise NonFiniteLossError(
                step + 1, final_loss, float(grad_norm), ckpt.latest_checkpoint(run_dir)
            )
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        if ema is not None:
            ema.update((n.removeprefix("module."), p) for n, p in named_trainable)
        elapsed = time.perf_counter() - step_start
        if is_main and writer is not None:
            counts = totals[2 + len(labels) :]
            record = {
                "step": step + 1,
                "loss": final_loss,
                "lr": lr,
                "grad_norm": float(grad_norm),
                "sigma_loss": {
                    label: (float(totals[2 + i] / counts[i]) if counts[i] > 0 else None)
                    for i, label in enumerate(labels)
                },
                "views": views,
                "frames": frames,
                "samples_per_s": global_batch / elapsed,
                "images_per_s": global_batch * image_count / elapsed,
                "time": time.time(),
            }
            writer.write(record)
            if tensorboard is not None:
                tensorboard.add_scalar("loss", final_loss, step + 1)
                tensorboard.add_scalar("lr", lr, step + 1)
        done = step + 1
        if done % config.schedule.checkpoint_every == 0 or done == config.schedule.max_steps:
            if not _weights_finite(wrapped, context, device):
                raise HVGError(
                    f"training stopped at step {done}: the weights hold NaN or infinite values "
                    "after the update, so no checkpoint was written; the last good checkpoint "
                    f"is {ckpt.latest_checkpoint(run_dir)}. Lower optim.lr or keep "
                    "optim.grad_clip on"
                )
            written.append(
                _write_checkpoint(
                    run_dir,
                    config,
                    context,
                    wrapped,
                    module,
                    optimizer,
                    scheduler,
                    ema,
                    done,
                    order.samples_consumed(done),
                    lineage,
                )
            )
            if is_main and time.monotonic() - last_plot > PLOT_INTERVAL_S:
                plot_loss_curve(metrics_path, run_dir / "loss_curve.png")
                last_plot = time.monotonic()
        if (
            is_main
            and config.schedule.sample_every > 0
            and done % config.schedule.sample_every == 0
        ):
            from hvg_model.training.samples import write_sample_video

            write_sample_video(
                module,
                encoders,
                source,
                config,
                run_dir / "samples" / f"step-{done:08d}",
                device=device,
            )
    seconds = time.perf_counter() - loop_start
    if writer is not None:
        writer.close()
        plot_loss_curve(metrics_path, run_dir / "loss_curve.png")
    if tensorboard is not None:
        tensorboard.close()
    done_steps = config.schedule.max_steps - start_step
    return TrainSummary(
        run_dir=str(run_dir),
        start_step=start_step,
        end_step=config.schedule.max_steps,
        final_loss=final_loss,
        samples_per_s=done_steps * global_batch / seconds if seconds > 0 else float("nan"),
        images_per_s=done_steps * global_batch * image_count / seconds
        if seconds > 0
        else float("nan"),
        seconds=seconds,
        optimizer=optimizer_name,
        checkpoints=written,
    )


def _write_checkpoint(
    run_dir: Path,
    config: TrainConfig,
    context: WorkerContext,
    wrapped: nn.Module,
    module: nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler,
    ema: ExponentialMovingAverage | None,
    step: int,
    samples_consumed: int,
    lineage: ckpt.Lineage | None,
) -> str:
    model_state = _full_model_state(wrapped, module, config)
    optimizer_state = _full_optimizer_state(wrapped, module, optimizer, config)
    rng = ckpt.capture_rng_state()
    if context.distributed:
        import torch.distributed as dist

        gathered: list[Any] = [None] * context.world_size
        dist.all_gather_object(gathered, rng)
        rng_states = gathered
    else:
        rng_states = [rng]
    path = ""
    if context.rank == 0:
        names = [
            n.removeprefix("module.") for n, p in wrapped.named_parameters() if p.requires_grad
        ]
        payload = ckpt.CheckpointPayload(
            step=step,
            samples_consumed=samples_consumed,
            model=model_state,
            ema=ema.state_dict() if ema is not None else None,
            optimizer=optimizer_state,
            optimizer_names=names,
            scheduler=scheduler.state_dict(),
            rng=rng_states,
            extra={"config": config.to_dict(), "lineage": lineage},
        )
        path = str(ckpt.save_checkpoint(run_dir, payload, keep=config.schedule.keep_checkpoints))
    if context.distributed:
        import torch.distributed as dist

        dist.barrier()
    return path


def _tensorboard_writer(run_dir: Path) -> Any:
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError as error:
        from hvg_core.errors import MissingResourceError

        raise MissingResourceError(
            "schedule.tensorboard=true needs TensorBoard: install hvg-model[tensorboard]",
            field="schedule.tensorboard",
        ) from error
    return SummaryWriter(log_dir=str(run_dir / "tensorboard"))


def summary_json(summary: TrainSummary) -> str:
    """The summary as one JSON line (what the CLI prints last)."""
    return json.dumps(summary.__dict__)


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
            drop_reference_image=0.0,
            drop_reference_net=0.0,
            drop_pose=0.0,
        )
        draws = RowDraws(*(getattr(draws, f).to(device) for f in RowDraws.__dataclass_fields__))
        losses = micro_step_losses(
            module, encoders, batch, draws, evaluation_config, contextlib.nullcontext()
        )
        total += float(losses.double().sum())
        count += len(rows)
    module.train(was_training)
    return total / count
