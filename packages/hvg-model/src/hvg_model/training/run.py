"""Preparing a run directory and running training in one process or on Ray Train."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from hvg_core.errors import InputError
from hvg_core.folder_lock import FolderLock

from hvg_model.training import checkpoint as ckpt
from hvg_model.training.config import TrainConfig, validate
from hvg_model.training.loop import TrainSummary, WorkerContext, train_worker
from hvg_model.training.metrics_log import METRICS_FILE, read_metrics, truncate_metrics

logger = logging.getLogger(__name__)

CONFIG_FILE = "config.json"
TINY_SVD_DIR = "tiny-svd"
SYNTHETIC_SHARDS = "synthetic-shards"


def start_session(
    out: str | Path, resume: str | Path | None = None, resume_step: int | None = None
) -> Path | None:
    """The checkpoint this session continues from (``None``: a fresh start at step 0).

    Call it while holding the run directory's lock. A run that was killed before its first
    checkpoint is not a dead end: running the command again (or ``--resume`` of that run)
    starts it afresh from step 0 and says so.

    Args:
        out: Run directory of this session.
        resume: ``--resume``: a checkpoint directory or a run directory.
        resume_step: ``--resume-step``: which checkpoint of the run (default: the newest on the
            run's lineage).

    Raises:
        InputError: ``out`` holds a run with checkpoints and no ``--resume`` was given.
        MissingResourceError: Nothing to resume from.
    """
    run_dir = Path(out)
    if resume_step is not None and resume is None:
        resume = run_dir
    metrics = run_dir / METRICS_FILE
    if resume is None:
        if not read_metrics(metrics):
            return None
        if ckpt.latest_checkpoint(run_dir) is not None:
            raise InputError(
                "this run directory already holds a run; continue it with --resume "
                f"{run_dir} or choose another --out",
                path=run_dir,
                field="--out",
            )
        logger.warning(
            "%s: the previous run stopped before its first checkpoint; starting it again from "
            "step 0",
            run_dir,
        )
        truncate_metrics(metrics, keep_through_step=0)
        return None
    same_run = Path(resume).resolve() == run_dir.resolve()
    if (
        same_run
        and resume_step is None
        and run_dir.is_dir()
        and ckpt.latest_checkpoint(run_dir) is None
        and ((run_dir / CONFIG_FILE).is_file() or metrics.is_file())
    ):
        logger.warning(
            "%s: the run stopped before its first checkpoint, so there is nothing to resume; "
            "starting it again from step 0",
            run_dir,
        )
        truncate_metrics(metrics, keep_through_step=0)
        return None
    return ckpt.resolve_resume(resume, step=resume_step)


def session_lineage(checkpoint: Path | None) -> ckpt.Lineage:
    """The lineage of a session resuming ``checkpoint`` (or starting fresh)."""
    if checkpoint is None:
        return ckpt.new_lineage(None, 0)
    return ckpt.new_lineage(ckpt.read_state(checkpoint).get("lineage"), ckpt.load_step(checkpoint))


def prepare_run(
    config: TrainConfig, out: str | Path, *, resume: str | Path | None = None
) -> TrainConfig:
    """Validate the config, create the run directory and what it needs; return the resolved config.

    - ``model.tiny`` without ``svd_dir``: writes a tiny random SVD directory into ``out/tiny-svd``
      (seeded, so every run of the same seed starts from the same weights), its UNet sized for
      the latent channels of ``model.vae_dir`` when one is given.
    - Checks the SVD directory and ``model.vae_dir`` (a VAE whose latent channels the UNet
      does not take stops here, before any weight is loaded).
    - ``data.dataset = "synthetic"`` without ``path``: renders hvg-data's synthetic people into
      ``out/synthetic-shards`` (resumable) and trains on them.
    - Writes ``out/config.json`` (atomically).
    - Refuses to start a fresh run over an existing one (``--resume`` continues it).

    Raises:
        InputError: Invalid config, a non-empty run without ``--resume``, or a VAE that does
            not fit the UNet.
        MissingResourceError: SVD directory, shards or checkpoint missing.
    """
    validate(config)
    run_dir = Path(out)
    if resume is None and ckpt.latest_checkpoint(run_dir) is not None:
        raise InputError(
            "this run directory already holds a run; continue it with --resume "
            f"{run_dir} or choose another --out",
            path=run_dir,
            field="--out",
        )
    if resume is not None:
        ckpt.resolve_resume(resume)
    latent_channels = _given_vae_latent_channels(config)  # checked before anything is written
    run_dir.mkdir(parents=True, exist_ok=True)
    if config.model.svd_dir is None:
        config.model.svd_dir = str(_tiny_svd_dir(run_dir, config.schedule.seed, latent_channels))
    _check_model_dirs(config)
    _check_sizes(config)
    if config.data.dataset == "synthetic" and not config.data.path:
        from hvg_model.training.sources import render_synthetic_shards

        config.data.path = str(render_synthetic_shards(config, run_dir / SYNTHETIC_SHARDS))
    if config.data.path:
        from hvg_model.training.sources import check_shard_dir

        check_shard_dir(config.data.path)
    if config.distributed.use_gpu:
        from hvg_model.training.memory_plan import check_fits

        check_fits(config)
    temporary = run_dir / f".{CONFIG_FILE}.tmp-{os.getpid()}"
    temporary.write_text(json.dumps(config.to_dict(), indent=2), encoding="utf-8")
    os.replace(temporary, run_dir / CONFIG_FILE)
    return config


def _given_vae_latent_channels(config: TrainConfig) -> int:
    """Latent channels of ``model.vae_dir`` (checked), or SVD's 4 without one."""
    if config.model.vae_dir is None:
        return 4
    from hvg_model.loading import check_vae_dir

    return int(check_vae_dir(config.model.vae_dir)["latent_channels"])


def _tiny_svd_dir(run_dir: Path, seed: int, latent_channels: int) -> Path:
    """``run_dir/tiny-svd``, written once (its UNet sized for ``latent_channels``)."""
    from hvg_model.testing import build_tiny_svd_dir

    tiny = run_dir / TINY_SVD_DIR
    if not (tiny / "unet" / "config.json").is_file():
        build_tiny_svd_dir(tiny, seed=seed, latent_channels=latent_channels)
    return tiny


def _check_model_dirs(config: TrainConfig) -> None:
    """The SVD directory (without ``vae/`` when ``model.vae_dir`` replaces it) fits the VAE."""
    from hvg_model.loading import check_latent_channels, check_model_dir

    others = ("unet", "image_encoder", "feature_extractor", "scheduler")
    check_model_dir(str(config.model.svd_dir), others if config.model.vae_dir else ("vae", *others))
    check_latent_channels(str(config.model.svd_dir), vae_dir=config.model.vae_dir)


def _check_sizes(config: TrainConfig) -> None:
    """Image size must map to a latent the UNet can halve ``levels − 1`` times."""
    from hvg_model.loading import vae_scale_factor

    root = Path(str(config.model.svd_dir))
    unet = json.loads((root / "unet" / "config.json").read_text(encoding="utf-8"))
    factor = vae_scale_factor(root, vae_dir=config.model.vae_dir)
    multiple = factor * 2 ** (len(unet["block_out_channels"]) - 1)
    if config.data.image_size % multiple:
        raise InputError(
            f"image size {config.data.image_size} does not fit this network: it must be a multiple "
            f"of {multiple} (VAE factor {factor} × UNet downsampling "
            f"{2 ** (len(unet['block_out_channels']) - 1)})",
            field="data.image_size",
        )


def train(
    config: TrainConfig,
    out: str | Path,
    *,
    resume: str | Path | None = None,
    resume_step: int | None = None,
    show_progress: bool = False,
) -> TrainSummary:
    """Prepare ``out`` and train: in this process, or on Ray Train when ``num_workers > 1``.

    The run directory is locked for the whole run (a second trainer into it stops with an
    error naming this one), and the session's lineage is recorded (see
    :mod:`hvg_model.training.checkpoint`).

    Args:
        config: Training config (validated here).
        out: Run directory.
        resume: Checkpoint or run directory to continue from.
        resume_step: Checkpoint step of the run to continue from.
        show_progress: Progress bar on the main process.
    """
    validate(config)
    with FolderLock(out, "hvg-model train"):
        checkpoint = start_session(out, resume, resume_step)
        config = prepare_run(config, out, resume=checkpoint)
        lineage = session_lineage(checkpoint)
        ckpt.write_lineage(out, lineage)
        if config.distributed.num_workers == 1 and config.distributed.address is None:
            return train_worker(
                config,
                out,
                resume=checkpoint,
                lineage=lineage,
                context=WorkerContext(),
                show_progress=show_progress,
            )
        from hvg_model.training.ray_launch import train_with_ray

        return train_with_ray(config, out, resume=checkpoint, lineage=lineage)
