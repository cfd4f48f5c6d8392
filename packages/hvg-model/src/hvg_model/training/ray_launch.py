"""Scale-out on Ray Train: one ``TorchTrainer`` worker per GPU (or CPU process), DDP or FSDP.

Each worker runs :func:`hvg_model.training.loop.train_worker` with its rank; Ray sets up the
process group (NCCL on GPUs, gloo on CPUs). Rank 0 writes the run directory, which must be on
storage every node sees (a shared file system) for multi-node runs. Without ``--address`` a local
Ray runtime is started with just the CPUs and GPUs the workers need.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from hvg_core.errors import HVGError

from hvg_model.training import checkpoint as ckpt
from hvg_model.training.config import TrainConfig
from hvg_model.training.loop import TrainSummary
from hvg_model.training.metrics_log import METRICS_FILE, read_metrics


def _worker_entry(loop_config: dict[str, Any]) -> None:
    import ray.train
    import torch.distributed as dist

    from hvg_model.training.loop import WorkerContext, train_worker

    context = ray.train.get_context()
    config = TrainConfig.from_dict(loop_config["config"])
    summary = train_worker(
        config,
        loop_config["run_dir"],
        resume=loop_config["resume"],
        lineage=loop_config["lineage"],
        context=WorkerContext(
            rank=context.get_world_rank(),
            world_size=context.get_world_size(),
            local_rank=context.get_local_rank(),
            distributed=dist.is_available() and dist.is_initialized(),
        ),
    )
    ray.train.report({**summary.__dict__, "checkpoints": len(summary.checkpoints)})


def train_with_ray(
    config: TrainConfig,
    run_dir: str | Path,
    *,
    resume: str | Path | None = None,
    lineage: ckpt.Lineage | None = None,
) -> TrainSummary:
    """Run training on ``config.distributed.num_workers`` Ray Train workers.

    Args:
        config: Resolved training config.
        run_dir: Run directory (locked and prepared by the caller).
        resume: Checkpoint directory to continue from.
        lineage: The session's lineage (recorded in every checkpoint).

    Raises:
        HVGError: The Ray job failed (the worker's error is included).
    """
    if not config.distributed.address:
        # Local workers share this interpreter's environment: skip Ray's `uv run` hook, which
        # packages the working directory and rebuilds the environment for every worker. Ray
        # reads the flag when it is imported.
        os.environ.setdefault("RAY_ENABLE_UV_RUN_RUNTIME_ENV", "0")
    import ray
    from ray.train import RunConfig, ScalingConfig
    from ray.train.torch import TorchConfig, TorchTrainer

    dist = config.distributed
    run_dir = Path(run_dir).resolve()
    started_here = False
    if not ray.is_initialized():
        if dist.address:
            ray.init(address=dist.address, log_to_driver=True)
        else:
            ray.init(
                num_cpus=dist.num_workers * dist.cpus_per_worker + 1,
                num_gpus=dist.num_workers if dist.use_gpu else 0,
                include_dashboard=False,
                # Worker errors come back in the result; streamed worker logs are mostly Ray
                # controller chatter on a local machine.
                log_to_driver=False,
            )
        started_here = True
    try:
        trainer = TorchTrainer(
            _worker_entry,
            train_loop_config={
                "config": config.to_dict(),
                "run_dir": str(run_dir),
                "resume": None if resume is None else str(Path(resume).resolve()),
                "lineage": lineage,
            },
            scaling_config=ScalingConfig(
                num_workers=dist.num_workers,
                use_gpu=dist.use_gpu,
                resources_per_worker={
                    "CPU": dist.cpus_per_worker,
                    **({"GPU": 1} if dist.use_gpu else {}),
                },
            ),
            torch_config=TorchConfig(backend="nccl" if dist.use_gpu else "gloo"),
            run_config=RunConfig(name="hvg-train", storage_path=str(run_dir / "ray")),
        )
        result = trainer.fit()
    except Exception as error:  # Ray wraps worker failures in its own error types
        raise HVGError(f"Ray Train run failed: {error}") from error
    finally:
        if started_here:
            ray.shutdown()
    if result.error is not None:
        raise HVGError(f"Ray Train run failed: {result.error}")
    # Ray returns reported metrics only alongside checkpoints; rank 0's log is the record.
    records = read_metrics(run_dir / METRICS_FILE)
    if not records or records[-1]["step"] != config.schedule.max_steps:
        raise HVGError(
            f"Ray Train run ended before step {config.schedule.max_steps}; see {run_dir}"
        )
    start_step = 0 if resume is None else ckpt.load_step(ckpt.resolve_resume(resume))
    ran = [r for r in records if r["step"] > start_step]
    seconds = sum(
        r["samples_per_s"] and config.schedule.global_batch_size / r["samples_per_s"] for r in ran
    )
    images = sum(r["views"] * r["frames"] for r in ran) * config.schedule.global_batch_size
    return TrainSummary(
        run_dir=str(run_dir),
        start_step=start_step,
        end_step=config.schedule.max_steps,
        final_loss=float(records[-1]["loss"]),
        samples_per_s=len(ran) * config.schedule.global_batch_size / seconds,
        images_per_s=images / seconds,
        seconds=seconds,
        optimizer=f"{config.distributed.num_workers} Ray Train workers ({config.distributed.strategy})",
        checkpoints=[str(path) for path in ckpt.lineage_checkpoints(run_dir)],
    )
