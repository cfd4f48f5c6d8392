"""The demo's learning stages: data, the VAE, then the DenoisingNet in the paper's two stages.

1. **data**: walking ``synthetic`` people rendered into shards (``hvg-data``) on a plain green
   background: training subjects (every view, every frame) and one held-out subject.
2. **vae**: the tiny ``AutoencoderKLTemporalDecoder`` learns to reconstruct the training clips
   (:mod:`hvg_model.training.vae`); a tiny SVD directory is written around it (random CLIP and
   UNet initialisation, the trained VAE), so ``hvg-model train --svd-dir OUT/svd`` reuses it.
3. **stage 1**: multi-view images (``views × 1`` frame, temporal mixing off), from scratch.
4. **stage 2**: multi-view multi-frame windows, initialised from stage 1.

The learning signal is checked on the held-out subject: :func:`denoiser_losses` compares the
trained network's EDM loss on a fixed set of draws with the loss of predicting zero.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor, nn

if TYPE_CHECKING:
    from hvg_model.demo_settings import DemoSettings

#: Background of the demo's renders: a chroma-key green, far from every garment, skin and hair
#: colour of the ``synthetic`` people. Mid grey (128, 128, 128) sat in the middle of their
#: colours, so a tiny VAE's washed-out reconstructions fell back to the background: held-out
#: silhouette IoU 0.57 (grey) against 0.62 (green) with the same VAE, and the generated video
#: 0.61 (green) where grey's best run gave 0.56 (64², one run each).
DEMO_BACKGROUND = (0, 200, 0)


@dataclass
class DataDirs:
    """Shard folders of one demo run.

    Attributes:
        train: Training subjects (walks: every view, every frame).
        test: The held-out walking subject.
    """

    train: Path
    test: Path


def render_data(out: Path, settings: DemoSettings) -> DataDirs:
    """Render the training subjects and the held-out walking subject into ``out/data``."""
    from hvg_data.config import RenderConfig
    from hvg_data.pipeline import PipelineOptions, run_render

    options = PipelineOptions(executor=settings.executor, num_workers=2, progress=True)
    dirs = DataDirs(out / "data" / "train", out / "data" / "test")
    common = {
        "size": settings.size,
        "crop_extent": settings.crop_extent,
        "background": DEMO_BACKGROUND,
    }
    run_render(
        "synthetic",
        None,
        dirs.train,
        RenderConfig(views=settings.train_views, shard_size=4, **common),
        adapter_options={
            "count": settings.subjects,
            "frames": settings.train_frames,
            "seed": settings.seed,
        },
        options=options,
    )
    # A different seed draws a different person: the held-out subject is never trained on.
    run_render(
        "synthetic",
        None,
        dirs.test,
        RenderConfig(views=settings.views, shard_size=1, **common),
        adapter_options={"count": 1, "frames": settings.frames, "seed": settings.seed + 1000},
        options=options,
    )
    return dirs


#: Intra-op threads of the VAE stage: its full-resolution convolutions scale with cores (400
#: steps at 64² took 207 s on one thread and 102 s on two), unlike the tiny denoiser.
VAE_THREADS = min(os.cpu_count() or 1, 8)


@contextlib.contextmanager
def torch_threads(threads: int) -> Iterator[None]:
    """Torch's intra-op thread count set to ``threads`` for the block, then restored."""
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def train_demo_vae(out: Path, dirs: DataDirs, settings: DemoSettings) -> Any:
    """Train the tiny VAE on the training clips; returns a ``VAETrainResult`` (``out/vae``)."""
    from hvg_model.configs import demo_vae_config
    from hvg_model.training.vae import VAETrainSettings, train_vae

    vae_settings = VAETrainSettings(
        steps=settings.vae_steps,
        batch_clips=settings.vae_batch_clips,
        clip_frames=min(4, settings.train_frames, settings.frames),
        seed=settings.seed,
    )
    with torch_threads(VAE_THREADS):
        return train_vae(
            dirs.train,
            out / "vae",
            vae_settings,
            heldout_dir=dirs.test,
            vae_config=demo_vae_config(settings.latent_channels, settings.vae_downsample),
            show_progress=True,
        )


@torch.no_grad()
def vae_silhouette_iou(vae_dir: Path, test_dir: Path, clip_frames: int) -> float:
    """Silhouette IoU of the trained VAE's reconstruction of the held-out frames.

    Every generated video is decoded by this VAE, so this is the ceiling of the generated
    videos' IoU: what a denoiser that predicted the true latents exactly would score.
    """
    from diffusers import AutoencoderKLTemporalDecoder

    from hvg_model.demo_eval import silhouette_iou
    from hvg_model.training.vae import load_shard_videos, reconstruct

    vae = AutoencoderKLTemporalDecoder.from_pretrained(vae_dir).eval()
    videos, _ = load_shard_videos(test_dir)
    frames = min(clip_frames, videos.shape[2])
    clips = videos[:, :, : videos.shape[2] // frames * frames].unflatten(2, (-1, frames))
    real = clips.flatten(0, 2).float() / 255  # (K, T, 3, H, W)
    decoded = torch.stack([reconstruct(vae, clip) for clip in real])
    background = torch.tensor(DEMO_BACKGROUND, dtype=torch.float32) / 255
    return silhouette_iou(real.flatten(0, 1), decoded.flatten(0, 1), background)


def build_demo_svd_dir(
    out: Path, vae_dir: Path, seed: int, *, sigma_max: float | None = None
) -> Path:
    """A tiny SVD directory (``out/svd``) whose ``vae/`` is the trained VAE.

    The UNet's input and output widths follow the VAE's latent channels (SVD: 2·4 in, 4 out).
    ``sigma_max`` replaces the scheduler's largest σ (SVD's 700 suits 72×128 latents; a few
    8×8 latents are pure noise long before that, EDM's 80).
    """
    import json

    from diffusers import UNetSpatioTemporalConditionModel

    from hvg_model.testing import build_tiny_svd_dir
    from hvg_model.training.vae import install_vae

    svd_dir = out / "svd"
    if svd_dir.exists():
        shutil.rmtree(svd_dir)
    build_tiny_svd_dir(svd_dir, seed=seed)
    install_vae(svd_dir, vae_dir)
    if sigma_max is not None:
        scheduler_file = svd_dir / "scheduler" / "scheduler_config.json"
        scheduler = json.loads(scheduler_file.read_text())
        scheduler_file.write_text(json.dumps({**scheduler, "sigma_max": sigma_max}, indent=2))
    channels = json.loads((vae_dir / "config.json").read_text())["latent_channels"]
    unet_dir = svd_dir / "unet"
    config = {
        key: value
        for key, value in UNetSpatioTemporalConditionModel.load_config(unet_dir).items()
        if not key.startswith("_")
    }
    if config["out_channels"] != channels:
        state = torch.random.get_rng_state()
        try:
            torch.manual_seed(seed)
            unet = UNetSpatioTemporalConditionModel(
                **{**config, "in_channels": 2 * channels, "out_channels": channels}
            )
        finally:
            torch.random.set_rng_state(state)
        shutil.rmtree(unet_dir)
        unet.save_pretrained(unet_dir)
    return svd_dir


def stage_overrides(settings: DemoSettings, stage: int, data_dir: Path, svd_dir: Path) -> list[str]:
    """``section.field=value`` overrides of the tiny recipes for one demo stage."""
    steps = settings.stage1_steps if stage == 1 else settings.stage2_steps
    common = [
        "data.dataset=shards",
        f"data.path={data_dir}",
        f"data.image_size={settings.size}",
        f"model.svd_dir={svd_dir}",
        f"schedule.max_steps={steps}",
        f"schedule.checkpoint_every={steps}",
        "schedule.keep_checkpoints=1",
        f"schedule.seed={settings.seed + stage}",
        f"optim.lr={settings.lr}",
        f"objective.p_mean={settings.noise_p_mean}",
        f"objective.p_std={settings.noise_p_std}",
        # A short run: an EMA horizon of ~steps/10 keeps the averaged weights close to the end.
        f"optim.ema_decay={max(0.0, 1.0 - 10.0 / steps)}",
        "optim.schedule=cosine",
        "optim.min_lr_ratio=0.1",
        f"optim.warmup_steps={max(1, steps // 20)}",
    ]
    if stage == 1:
        return [
            *common,
            f"data.views={min(settings.train_views, 4)}",
            "data.frames=1",
            f"schedule.global_batch_size={settings.stage1_batch}",
        ]
    views, frames = settings.view_window, settings.frame_window
    return [
        *common,
        "data.stage=2",
        f"data.views={views}",
        f"data.frames={frames}",
        f"data.views_frames=[[{views}, {frames}]]",
        "schedule.global_batch_size=1",
    ]


def train_stage(
    out: Path,
    settings: DemoSettings,
    stage: int,
    data_dir: Path,
    svd_dir: Path,
    init_from: Path | None = None,
) -> Path:
    """Train one stage with ``hvg-model train``'s machinery; returns the run directory."""
    from hvg_model.training import load_config, train

    run_dir = out / f"train-stage{stage}"
    if run_dir.exists():
        shutil.rmtree(run_dir)  # a demo always starts a fresh run
    overrides = stage_overrides(settings, stage, data_dir, svd_dir)
    if init_from is not None:
        overrides.append(f"model.init_from={init_from}")
    config = load_config("tiny" if stage == 1 else "tiny-stage2", overrides)
    train(config, run_dir, show_progress=True)
    return run_dir


class ZeroOutput(nn.Module):
    """A stand-in for the trainable module that predicts F = 0 (the predict-zero baseline)."""

    def forward(self, sample: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        """``(B·V, T, 4, h, w)`` zeros for a ``(B·V, T, 8, h, w)`` sample."""
        return torch.zeros(*sample.shape[:2], sample.shape[2] // 2, *sample.shape[3:])


def denoiser_losses(
    pipeline: Any, run_dir: Path, test_dir: Path, *, batches: int = 8, seed: int = 12345
) -> dict[str, float]:
    """EDM loss of the trained network and of predicting zero on the held-out subject.

    The same σ, noise and views are drawn for both (``evaluation_loss`` with a fixed seed), so
    the difference is the model's, not the draw's.

    Returns:
        ``{"model": loss, "predict_zero": loss}``.
    """
    from hvg_model.training.components import TrainableDenoiser, load_frozen_encoders
    from hvg_model.training.config import load_config
    from hvg_model.training.forward import evaluation_loss
    from hvg_model.training.run import CONFIG_FILE
    from hvg_model.training.shard_source import ShardSource

    config = load_config(str(run_dir / CONFIG_FILE))
    config.schedule.global_batch_size = 1
    layouts = config.data.views_frames or [[config.data.views, config.data.frames]]
    source = ShardSource(test_dir, image_size=config.data.image_size, layouts=layouts)
    encoders = load_frozen_encoders(str(config.model.svd_dir), config.model.vae_dir)
    module = TrainableDenoiser(pipeline.denoising_net, pipeline.reference_net, "hvg")
    common = {"seed": seed, "num_batches": batches}
    return {
        "model": evaluation_loss(module, encoders, source, config, **common),
        "predict_zero": evaluation_loss(ZeroOutput(), encoders, source, config, **common),
    }


__all__ = [
    "DEMO_BACKGROUND",
    "VAE_THREADS",
    "DataDirs",
    "ZeroOutput",
    "build_demo_svd_dir",
    "denoiser_losses",
    "render_data",
    "stage_overrides",
    "torch_threads",
    "train_demo_vae",
    "train_stage",
    "vae_silhouette_iou",
]
