"""The training loop one worker runs: single process, or one rank of a Ray Train / torchrun job.

Per optimiser step: choose the step's (views, frames) layout, read this worker's rows of the
global batch, encode them with the frozen VAE and CLIP, draw σ, noise and dropout per row from
``(seed, step, row)``, run the trainable module, backpropagate the EDM loss scaled so that the
gradient averaged by DDP/FSDP is the gradient of the global-batch mean, clip, step AdamW, the
schedule and the EMA, log one line, and checkpoint at intervals.

What is built before the first step is :mod:`hvg_model.training.worker_setup`; the forward
pass and loss are :mod:`hvg_model.training.forward`.
"""

from __future__ import annotations

import contextlib
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from hvg_core.errors import HVGError
from torch import Tensor, nn

from hvg_model.training import checkpoint as ckpt
from hvg_model.training.config import TrainConfig, images_per_sample, per_worker_batch
from hvg_model.training.data import layout_for_step, worker_rows
from hvg_model.training.forward import micro_step_losses, step_draws
from hvg_model.training.metrics_log import METRICS_FILE, plot_loss_curve
from hvg_model.training.objective import sigma_bin_labels, sigma_binned_sums
from hvg_model.training.optim import ExponentialMovingAverage
from hvg_model.training.worker_setup import (
    WorkerContext,
    WorkerState,
    build_loader,
    build_worker_state,
    is_sharded,
    open_metrics,
    step_layouts,
)

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


def _autocast(config: TrainConfig, device: torch.device) -> contextlib.AbstractContextManager:
    precision = config.optim.precision
    if precision == "bf16" or (precision == "auto" and device.type == "cuda"):
        return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


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
    seed = config.schedule.seed
    if lineage is None:
        lineage = ckpt.read_lineage(run_dir)
    state = build_worker_state(config, context, resume)
    source = build_source(config, run_dir)
    order, loader = build_loader(config, source, context, state.start_step)
    writer, tensorboard = open_metrics(config, run_dir, resume, state) if is_main else (None, None)
    metrics_path = run_dir / METRICS_FILE
    labels = sigma_bin_labels(list(config.objective.sigma_bins))
    global_batch = config.schedule.global_batch_size
    image_count = images_per_sample(config)
    written: list[str] = []
    final_loss = float("nan")
    state.wrapped.train()
    loop_start = time.perf_counter()
    last_plot = time.monotonic()
    steps = range(state.start_step, config.schedule.max_steps)
    iterator = iter(loader)
    for step in progress(
        steps,
        desc=f"train stage {config.data.stage}",
        total=len(steps),
        unit="step",
        disable=None if show_progress and is_main else True,
    ):
        step_start = time.perf_counter()
        views, frames = layout_for_step(step_layouts(config), seed, step)
        totals = _accumulate_gradients(state, config, context, iterator, step, (views, frames))
        grad_norm = _clip_gradients(state, config)
        lr = state.scheduler.get_last_lr()[0]
        final_loss = float(totals[0] / totals[1])
        if not (math.isfinite(final_loss) and math.isfinite(float(grad_norm))):
            # Every rank sees the same reduced loss and global norm, so all stop here together,
            # before the optimiser could write non-finite values into the weights.
            raise NonFiniteLossError(
                step + 1, final_loss, float(grad_norm), ckpt.latest_checkpoint(run_dir)
            )
        state.optimizer.step()
        state.scheduler.step()
        state.optimizer.zero_grad(set_to_none=True)
        if state.ema is not None:
            state.ema.update((n.removeprefix("module."), p) for n, p in state.named_trainable)
        elapsed = time.perf_counter() - step_start
        if writer is not None:
            counts = totals[2 + len(labels) :]
            writer.write(
                {
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
            )
        if tensorboard is not None:
            tensorboard.add_scalar("loss", final_loss, step + 1)
            tensorboard.add_scalar("lr", lr, step + 1)
        done = step + 1
        if done % config.schedule.checkpoint_every == 0 or done == config.schedule.max_steps:
            if not _weights_finite(state.wrapped, context, state.device):
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
                    state.wrapped,
                    state.module,
                    state.optimizer,
                    state.scheduler,
                    state.ema,
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
                state.module,
                state.encoders,
                source,
                config,
                run_dir / "samples" / f"step-{done:08d}",
                device=state.device,
            )
    seconds = time.perf_counter() - loop_start
    if writer is not None:
        writer.close()
        plot_loss_curve(metrics_path, run_dir / "loss_curve.png")
    if tensorboard is not None:
        tensorboard.close()
    done_steps = config.schedule.max_steps - state.start_step
    return TrainSummary(
        run_dir=str(run_dir),
        start_step=state.start_step,
        end_step=config.schedule.max_steps,
        final_loss=final_loss,
        samples_per_s=done_steps * global_batch / seconds if seconds > 0 else float("nan"),
        images_per_s=done_steps * global_batch * image_count / seconds
        if seconds > 0
        else float("nan"),
        seconds=seconds,
        optimizer=state.optimizer_name,
        checkpoints=written,
    )


def _accumulate_gradients(
    state: WorkerState,
    config: TrainConfig,
    context: WorkerContext,
    iterator: Any,
    step: int,
    layout: tuple[int, int],
) -> Tensor:
    """Run the step's micro-batches forward and backward; the gradients accumulate.

    The loss of each row is scaled by ``world_size / global_batch``, so the gradient DDP/FSDP
    average over ranks is the gradient of the global-batch mean.

    Returns:
        ``(2 + 2·bins,)`` float64 totals summed over micro-batches and ranks: loss sum, row
        count, then the per-σ-bin loss sums and counts.
    """
    edges = list(config.objective.sigma_bins)
    bins = len(sigma_bin_labels(edges))
    global_batch = config.schedule.global_batch_size
    accumulation = config.optim.grad_accumulation
    loss_scale = context.world_size / global_batch
    autocast = _autocast(config, state.device)
    totals = torch.zeros(2 + 2 * bins, dtype=torch.float64)
    for micro in range(accumulation):
        batch = next(iterator).to(state.device)
        rows = worker_rows(global_batch, accumulation, context.world_size, micro, context.rank)
        if len(rows) != per_worker_batch(config) or batch.rgb.shape[1:3] != layout:
            raise RuntimeError(f"data loader out of step at step {step}, micro-step {micro}")
        draws = step_draws(
            config, state.encoders, config.schedule.seed, step, rows, layout, state.device
        )
        sync = contextlib.nullcontext()
        last_micro = micro == accumulation - 1
        if context.distributed and not last_micro and hasattr(state.wrapped, "no_sync"):
            sync = state.wrapped.no_sync()
        with sync:
            losses = micro_step_losses(
                state.wrapped, state.encoders, batch, draws, config, autocast
            )
            (losses.sum() * loss_scale).backward()
        detached = losses.detach().cpu()
        sums, counts = sigma_binned_sums(draws.sigma.cpu(), detached, edges)
        totals[0] += detached.double().sum()
        totals[1] += len(rows)
        totals[2 : 2 + bins] += sums
        totals[2 + bins :] += counts
    if context.distributed:
        import torch.distributed as dist

        reduced = totals.to(state.device)
        dist.all_reduce(reduced)
        totals = reduced.cpu()
    return totals


def _clip_gradients(state: WorkerState, config: TrainConfig) -> Tensor:
    """Clip to ``optim.grad_clip`` (when > 0) and return the global gradient norm."""
    parameters = [p for _, p in state.named_trainable]
    if config.optim.grad_clip > 0 and is_sharded(state.wrapped):
        return state.wrapped.clip_grad_norm_(config.optim.grad_clip)  # global norm over shards
    if config.optim.grad_clip > 0:
        return torch.nn.utils.clip_grad_norm_(parameters, config.optim.grad_clip)
    return torch.linalg.vector_norm(
        torch.stack([p.grad.detach().norm() for p in parameters if p.grad is not None])
    )


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


def _full_model_state(wrapped: nn.Module, module: nn.Module) -> dict[str, Any]:
    if is_sharded(wrapped):
        from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict

        return get_model_state_dict(
            wrapped, options=StateDictOptions(full_state_dict=True, cpu_offload=True)
        )
    return {key: value.detach().cpu() for key, value in module.state_dict().items()}


def _full_optimizer_state(wrapped: nn.Module, optimizer: torch.optim.Optimizer) -> dict[str, Any]:
    if is_sharded(wrapped):
        from torch.distributed.checkpoint.state_dict import (
            StateDictOptions,
            get_optimizer_state_dict,
        )

        return get_optimizer_state_dict(
            wrapped, optimizer, options=StateDictOptions(full_state_dict=True, cpu_offload=True)
        )
    return optimizer.state_dict()


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
    model_state = _full_model_state(wrapped, module)
    optimizer_state = _full_optimizer_state(wrapped, optimizer)
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
