"""What one training worker builds before its first step: device, networks, optimiser, data.

:func:`build_worker_state` loads the frozen encoders, builds and wraps the trainable module,
the optimiser, LR schedule and EMA, and restores them (with the RNG state) from a checkpoint
when resuming; :func:`build_loader` makes the deterministic data loader from the resumed step;
:func:`open_metrics` opens the metrics log (cut back to the resumed step). The loop itself is
:func:`hvg_model.training.loop.train_worker`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from hvg_model.training import checkpoint as ckpt
from hvg_model.training.components import FrozenEncoders, TrainableDenoiser, load_frozen_encoders
from hvg_model.training.config import TrainConfig
from hvg_model.training.data import DataOrder, MicroBatchKeys, StepRowDataset, collate
from hvg_model.training.metrics_log import METRICS_FILE, MetricsWriter, truncate_metrics
from hvg_model.training.optim import (
    ExponentialMovingAverage,
    build_optimizer,
    build_scheduler,
    select_trainable,
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
class WorkerState:
    """Everything that trains or steers training in one worker, ready for the first step.

    Attributes:
        device: Training device.
        encoders: Frozen VAE and CLIP on ``device``.
        module: The unwrapped :class:`TrainableDenoiser`.
        wrapped: ``module`` itself, or its DDP/FSDP wrapper.
        named_trainable: ``(name, parameter)`` of what trains, names as ``wrapped`` gives them.
        optimizer: AdamW (or 8-bit AdamW).
        optimizer_name: Which optimiser it is.
        scheduler: LR schedule.
        ema: EMA of the trainable weights, or None.
        start_step: First step to run (0, or the resumed checkpoint's step).
        resumed: Whether state was restored from a checkpoint.
    """

    device: torch.device
    encoders: FrozenEncoders
    module: TrainableDenoiser
    wrapped: nn.Module
    named_trainable: list[tuple[str, nn.Parameter]]
    optimizer: torch.optim.Optimizer
    optimizer_name: str
    scheduler: torch.optim.lr_scheduler.LRScheduler
    ema: ExponentialMovingAverage | None
    start_step: int
    resumed: bool


def build_trainable(config: TrainConfig, svd_dir: str) -> TrainableDenoiser:
    """The DenoisingNet (+ ReferenceNet) from ``svd_dir``, initialised as the config says.

    Raises:
        InputError: ``model.init_from`` holds weights of another network.
    """
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


def seed_everything(seed: int) -> None:
    """Seed torch, NumPy and Python's ``random``."""
    torch.manual_seed(seed)
    np.random.seed(seed % 2**32)
    random.seed(seed)


def select_device(config: TrainConfig, context: WorkerContext) -> torch.device:
    """This worker's device (its local GPU, or the CPU); also applies ``schedule.num_threads``."""
    if config.schedule.num_threads > 0:
        torch.set_num_threads(config.schedule.num_threads)
    if not config.distributed.use_gpu:
        return torch.device("cpu")
    device = torch.device("cuda", context.local_rank)
    torch.cuda.set_device(device)
    return device


def is_sharded(module: nn.Module) -> bool:
    """Whether the module is wrapped by FSDP (its state must be gathered to save it)."""
    from torch.distributed.fsdp import FullyShardedDataParallel

    return isinstance(module, FullyShardedDataParallel)


def wrap_for_distribution(
    module: nn.Module, config: TrainConfig, context: WorkerContext, device: torch.device
) -> nn.Module:
    """The module wrapped in DDP or FSDP as ``distributed.strategy`` says (itself alone)."""
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


def _trainable_module(config: TrainConfig, device: torch.device) -> TrainableDenoiser:
    """The module with ``requires_grad`` set as the config says, on ``device``."""
    module = build_trainable(config, str(config.model.svd_dir))
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
    return module.to(device)


def build_worker_state(
    config: TrainConfig, context: WorkerContext, resume: str | Path | None
) -> WorkerState:
    """Build (and, with ``resume``, restore) the networks, optimiser, schedule, EMA and RNG.

    Raises:
        InputError: The checkpoint's optimiser trained other parameters than this config.
    """
    device = select_device(config, context)
    seed = config.schedule.seed
    encoders = load_frozen_encoders(str(config.model.svd_dir), config.model.vae_dir).to(device)
    seed_everything(seed)  # same initial weights on every rank and in every run of this seed
    module = _trainable_module(config, device)
    payload = (
        ckpt.load_checkpoint(ckpt.resolve_resume(resume), num_ranks=context.world_size)
        if resume
        else None
    )
    if payload is not None:
        module.load_state_dict(payload.model, strict=True)
    wrapped = wrap_for_distribution(module, config, context, device)
    named_trainable = [(n, p) for n, p in wrapped.named_parameters() if p.requires_grad]
    optim = config.optim
    optimizer, optimizer_name = build_optimizer(
        [p for _, p in named_trainable],
        lr=optim.lr,
        betas=(optim.betas[0], optim.betas[1]),
        weight_decay=optim.weight_decay,
        eps=optim.eps,
        use_8bit=optim.use_8bit,
        on_cuda=device.type == "cuda",
    )
    scheduler = build_scheduler(
        optimizer,
        warmup_steps=optim.warmup_steps,
        max_steps=config.schedule.max_steps,
        schedule=optim.schedule,
        min_ratio=optim.min_lr_ratio,
    )
    ema = (
        ExponentialMovingAverage(
            ((n.removeprefix("module."), p) for n, p in named_trainable), optim.ema_decay
        )
        if optim.ema_decay > 0
        else None
    )
    state = WorkerState(
        device=device,
        encoders=encoders,
        module=module,
        wrapped=wrapped,
        named_trainable=named_trainable,
        optimizer=optimizer,
        optimizer_name=optimizer_name,
        scheduler=scheduler,
        ema=ema,
        start_step=payload.step if payload is not None else 0,
        resumed=payload is not None,
    )
    if payload is not None:
        _restore(state, payload, config, context)
    else:
        seed_everything(seed + context.rank)
    return state


def _restore(state: WorkerState, payload: Any, config: TrainConfig, context: WorkerContext) -> None:
    """Load the optimiser, schedule, EMA and this rank's RNG state from a checkpoint."""
    if config.distributed.strategy == "fsdp" and context.distributed:
        from torch.distributed.checkpoint.state_dict import (
            StateDictOptions,
            set_optimizer_state_dict,
        )

        set_optimizer_state_dict(
            state.wrapped,
            state.optimizer,
            payload.optimizer,
            options=StateDictOptions(full_state_dict=True),
        )
    else:
        trainable_names = [name.removeprefix("module.") for name, _ in state.named_trainable]
        if payload.optimizer_names != trainable_names:
            from hvg_core.errors import InputError

            raise InputError(
                "the checkpoint's optimiser trained other parameters than this config "
                "(model.trainable/model.frozen changed?)",
                field="model.trainable",
            )
        state.optimizer.load_state_dict(payload.optimizer)
    state.scheduler.load_state_dict(payload.scheduler)
    if state.ema is not None and payload.ema is not None:
        state.ema.load_state_dict(payload.ema)
    tensors, values = payload.rng[context.rank]
    ckpt.restore_rng_state(tensors, values)


def step_layouts(config: TrainConfig) -> list[list[int]]:
    """The ``[views, frames]`` layouts steps draw from."""
    return config.data.views_frames or [[config.data.views, config.data.frames]]


def build_loader(
    config: TrainConfig, source: Any, context: WorkerContext, start_step: int
) -> tuple[DataOrder, torch.utils.data.DataLoader]:
    """The data order and this worker's loader of micro-batches from ``start_step`` on."""
    seed = config.schedule.seed
    order = DataOrder(len(source), config.schedule.global_batch_size, seed)
    sampler = MicroBatchKeys(
        start_step=start_step,
        max_steps=config.schedule.max_steps,
        global_batch_size=config.schedule.global_batch_size,
        grad_accumulation=config.optim.grad_accumulation,
        rank=context.rank,
        world_size=context.world_size,
        layouts=step_layouts(config),
        seed=seed,
    )
    loader = torch.utils.data.DataLoader(
        StepRowDataset(source, order, seed),
        batch_sampler=sampler,
        collate_fn=collate,
        num_workers=config.data.loader_workers,
        persistent_workers=False,
    )
    return order, loader


def open_metrics(
    config: TrainConfig,
    run_dir: Path,
    resume: str | Path | None,
    state: WorkerState,
) -> tuple[MetricsWriter, Any]:
    """Rank 0's metrics log (cut back to the resumed step) and TensorBoard writer (or None).

    A run resumed from another run's checkpoint starts its log from that run's log.
    """
    metrics_path = run_dir / METRICS_FILE
    if state.resumed:
        resume_metrics = None
        if resume is not None:
            resumed_run = ckpt.resolve_resume(resume).parent.parent
            if resumed_run.resolve() != run_dir.resolve():
                resume_metrics = resumed_run / METRICS_FILE
        truncate_metrics(metrics_path, keep_through_step=state.start_step, source=resume_metrics)
    writer = MetricsWriter(metrics_path)
    tensorboard = _tensorboard_writer(run_dir) if config.schedule.tensorboard else None
    ckpt.remove_stale_temporaries(run_dir)
    return writer, tensorboard


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
