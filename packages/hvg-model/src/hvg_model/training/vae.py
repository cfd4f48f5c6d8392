"""Training SVD's temporal VAE (``AutoencoderKLTemporalDecoder``) from rendered shards.

Without downloadable weights the tiny VAE is random and decodes any latent to noise, so a demo
that wants to show learning first teaches the VAE to reconstruct its own data: clips of
consecutive frames of one view (the decoder mixes neighbouring frames with its temporal
convolutions, so it must see clips, not single images), a reconstruction loss (L1 + MSE in the
VAE's [-1, 1] space, foreground pixels weighted up so the small person is not drowned by the
plain background) plus a small KL term that keeps the posterior close to a unit Gaussian.

After training, ``scaling_factor`` is set to ``1 / std`` of the latents of the training clips,
so the scaled latents the diffusion model sees have unit variance (Stable Diffusion's rule). The
result is a diffusers directory (``config.json`` + safetensors) that replaces ``vae/`` of an SVD
directory: :func:`install_vae` builds such a directory (``hvg-model train --svd-dir``), or
``hvg-model train --vae PATH`` uses the VAE directory itself.
"""

from __future__ import annotations

import math
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from hvg_core.errors import InputError
from torch import Tensor


@dataclass(frozen=True)
class VAETrainSettings:
    """How the VAE is trained.

    Attributes:
        steps: Optimiser steps.
        batch_clips: Clips per step.
        clip_frames: Consecutive frames per clip (the decoder's ``num_frames``).
        lr: AdamW learning rate (cosine decay to 10 % after a short warm-up).
        kl_weight: Weight of the mean per-element KL divergence.
        foreground_weight: Extra reconstruction weight of subject pixels (stored masks). 1
            (subject pixels count twice) gave the demo's VAE (250 steps, 64²) the best
            held-out silhouettes, IoU 0.57: with 4 it tinted the grey background (0.53; 0.48
            with people filling 20 % of the frame), with 0 it lost the thin person (0.39).
            The figure is sensitive to the weight (2 gave 0.36), so re-measure after changes.
        seed: Seed of initial weights, clip order and posterior samples.

    Tried on the demo and not kept (64², one run each): 32² random crops (4× more steps in the
    same time) lowered the held-out silhouette IoU from 0.57 to 0.37 (GroupNorm's statistics on
    crops differ from whole frames', a likely cause); starting the posterior's log-variance at -6
    instead of 0 gave 20.7 vs 20.3 dB and IoU 0.55 vs 0.57; learning rates 6e-3 and 1.5e-2
    gave IoU 0.44 and 0.39.
    """

    steps: int = 300
    batch_clips: int = 4
    clip_frames: int = 4
    lr: float = 2e-3
    kl_weight: float = 1e-4
    foreground_weight: float = 1.0
    seed: int = 0


@dataclass
class VAETrainResult:
    """What :func:`train_vae` produced.

    Attributes:
        path: The saved diffusers VAE directory.
        losses: Reconstruction loss per step.
        scaling_factor: ``1 / std`` of the training latents (written into the config).
        train_psnr: PSNR (dB) of reconstructed training clips.
        heldout_psnr: PSNR (dB) of reconstructed held-out clips (None without held-out data).
        seconds: Wall time of the training loop.
        untrained_psnr: PSNR (dB) of the same held-out clips through the untrained VAE.
        flat_psnr: PSNR (dB) of a flat image of the held-out clips' corner colour (the
            background): what a VAE that draws no person at all would score.
    """

    path: Path
    losses: list[float] = field(default_factory=list)
    scaling_factor: float = 1.0
    train_psnr: float = float("nan")
    heldout_psnr: float | None = None
    seconds: float = 0.0
    untrained_psnr: float | None = None
    flat_psnr: float | None = None


def load_shard_videos(shard_dir: str | Path) -> tuple[Tensor, Tensor]:
    """All samples of a shard directory as videos.

    Returns:
        ``rgb (N, V, T, 3, H, W)`` uint8 and ``mask (N, V, T, H, W)`` bool; every sample must
        have the same views, frames and size.
    """
    import h5py
    from hvg_data.shards import iter_manifest_samples, read_sample_arrays

    videos, masks = [], []
    for path, name in iter_manifest_samples(Path(shard_dir)):
        with h5py.File(path, "r") as handle:
            arrays = read_sample_arrays(handle["samples"][name])
        videos.append(torch.from_numpy(np.ascontiguousarray(arrays["rgb"])).permute(0, 1, 4, 2, 3))
        masks.append(torch.from_numpy(np.asarray(arrays["mask"], dtype=bool)))
    return torch.stack(videos), torch.stack(masks)


def clips_of(videos: Tensor, clip_frames: int) -> Tensor:
    """Every window of ``clip_frames`` consecutive frames of every view.

    Args:
        videos: ``(N, V, T, ...)``.
        clip_frames: Window length (≤ T).

    Returns:
        ``(K, clip_frames, ...)`` with ``K = N · V · (T − clip_frames + 1)``.
    """
    frames = videos.shape[2]
    if clip_frames > frames:
        raise InputError(
            f"clip_frames {clip_frames} exceeds the {frames} stored frames", field="clip_frames"
        )
    windows = [videos[:, :, s : s + clip_frames] for s in range(frames - clip_frames + 1)]
    return torch.stack(windows, 2).flatten(0, 2)


def build_vae(config: dict[str, Any] | None = None, *, seed: int = 0) -> torch.nn.Module:
    """A fresh ``AutoencoderKLTemporalDecoder`` (default: the tiny config), seeded."""
    from diffusers import AutoencoderKLTemporalDecoder

    from hvg_model.configs import tiny_vae_config

    state = torch.random.get_rng_state()
    try:
        torch.manual_seed(seed)
        return AutoencoderKLTemporalDecoder(**(config or tiny_vae_config()))
    finally:
        torch.random.set_rng_state(state)


def reconstruct(vae: torch.nn.Module, clip: Tensor) -> Tensor:
    """Encode (posterior mode) and decode one clip.

    Args:
        vae: ``AutoencoderKLTemporalDecoder``.
        clip: ``(T, 3, H, W)`` in [0, 1].

    Returns:
        ``(T, 3, H, W)`` in [0, 1].
    """
    latents = vae.encode(clip * 2 - 1).latent_dist.mode()
    decoded = vae.decode(latents, num_frames=clip.shape[0]).sample
    return ((decoded + 1) / 2).clamp(0, 1)


@torch.no_grad()
def reconstruction_psnr(vae: torch.nn.Module, clips: Tensor) -> float:
    """PSNR (dB, peak 1) of reconstructing ``(K, T, 3, H, W)`` uint8 clips, pooled over all."""
    was_training = vae.training
    vae.eval()
    squared, count = 0.0, 0
    for clip in clips:
        images = clip.float() / 255
        squared += float((reconstruct(vae, images) - images).pow(2).sum())
        count += images.numel()
    vae.train(was_training)
    return 10 * math.log10(1.0 / max(squared / count, 1e-12))


def flat_image_psnr(clips: Tensor) -> float:
    """PSNR (dB) of replacing ``(K, T, 3, H, W)`` uint8 clips by their top-left pixel's colour."""
    images = clips.float() / 255
    background = images[..., :, :1, :1]
    return 10 * math.log10(1.0 / max(float((images - background).pow(2).mean()), 1e-12))


@torch.no_grad()
def latent_scaling_factor(vae: torch.nn.Module, clips: Tensor, *, chunk: int = 64) -> float:
    """``1 / std`` of the posterior means of ``(K, T, 3, H, W)`` uint8 clips."""
    images = clips.flatten(0, 1)
    means = [
        vae.encode(part.float() / 255 * 2 - 1).latent_dist.mean for part in images.split(chunk)
    ]
    return float(1.0 / torch.cat(means).std().clamp_min(1e-6))


def train_vae(
    train_dir: str | Path,
    out: str | Path,
    settings: VAETrainSettings = VAETrainSettings(),
    *,
    heldout_dir: str | Path | None = None,
    vae_config: dict[str, Any] | None = None,
    show_progress: bool = False,
    on_step: Callable[[int, float], None] | None = None,
) -> VAETrainResult:
    """Train a VAE on the clips of a shard directory and save it to ``out`` (atomically).

    Args:
        train_dir: ``hvg-data`` shards whose samples have at least ``clip_frames`` frames.
        out: Output directory (diffusers ``save_pretrained`` layout); replaced if present.
        settings: Training settings.
        heldout_dir: Shards of subjects not trained on; their reconstruction PSNR is reported.
        vae_config: ``AutoencoderKLTemporalDecoder`` arguments (default: the tiny config).
        show_progress: Show a progress bar.
        on_step: Called with ``(step, loss)`` after each step.

    Returns:
        A :class:`VAETrainResult`.
    """
    from hvg_core.cli_utils import progress

    out = Path(out)
    videos, masks = load_shard_videos(train_dir)
    clips = clips_of(videos, settings.clip_frames)
    clip_masks = clips_of(masks, settings.clip_frames)
    vae = build_vae(vae_config, seed=settings.seed)
    held_clips = None
    untrained_psnr = flat_psnr = None
    if heldout_dir is not None:
        held_videos, _ = load_shard_videos(heldout_dir)
        held_clips = clips_of(held_videos, settings.clip_frames)
        untrained_psnr = reconstruction_psnr(vae, held_clips)
        flat_psnr = flat_image_psnr(held_clips)
    vae.train()
    optimizer = torch.optim.AdamW(vae.parameters(), lr=settings.lr, weight_decay=0.0)
    warmup = max(1, settings.steps // 20)

    def lr_factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        progress_ratio = (step - warmup) / max(1, settings.steps - warmup)
        return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress_ratio))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_factor)
    generator = torch.Generator().manual_seed(settings.seed)
    losses: list[float] = []
    started = time.perf_counter()
    for step in progress(
        range(settings.steps),
        desc="train VAE",
        total=settings.steps,
        unit="step",
        disable=not show_progress,
    ):
        chosen = torch.randint(len(clips), (settings.batch_clips,), generator=generator)
        batch = clips[chosen].flatten(0, 1).float() / 255 * 2 - 1  # (B·T, 3, H, W)
        weight = 1 + settings.foreground_weight * clip_masks[chosen].flatten(0, 1).float()
        posterior = vae.encode(batch).latent_dist
        latents = posterior.mean + posterior.std * torch.randn(
            posterior.mean.shape, generator=generator
        )
        decoded = vae.decode(latents, num_frames=settings.clip_frames).sample
        error = decoded - batch
        per_pixel = (error.abs() + error.pow(2)).mean(1)  # (B·T, H, W)
        reconstruction = (per_pixel * weight).sum() / weight.sum()
        kl = 0.5 * (posterior.mean.pow(2) + posterior.var - 1 - posterior.logvar).mean()
        loss = reconstruction + settings.kl_weight * kl
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(vae.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        losses.append(float(reconstruction.detach()))
        if on_step is not None:
            on_step(step, losses[-1])
    seconds = time.perf_counter() - started
    vae.eval()
    scaling = latent_scaling_factor(vae, clips)
    vae.register_to_config(scaling_factor=scaling)
    probe = clips[torch.linspace(0, len(clips) - 1, min(8, len(clips))).long()]
    train_psnr = reconstruction_psnr(vae, probe)
    heldout_psnr = None if held_clips is None else reconstruction_psnr(vae, held_clips)
    _save_atomically(vae, out)
    return VAETrainResult(
        out, losses, scaling, train_psnr, heldout_psnr, seconds, untrained_psnr, flat_psnr
    )


def _save_atomically(vae: torch.nn.Module, out: Path) -> None:
    temporary = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    if temporary.exists():
        shutil.rmtree(temporary)
    vae.save_pretrained(temporary)
    if out.exists():
        shutil.rmtree(out)
    os.replace(temporary, out)


def install_vae(svd_dir: str | Path, vae_dir: str | Path) -> Path:
    """Replace ``svd_dir/vae`` with the trained VAE directory ``vae_dir`` (copied)."""
    target = Path(svd_dir) / "vae"
    temporary = target.with_name(f".vae.tmp-{os.getpid()}")
    if temporary.exists():
        shutil.rmtree(temporary)
    shutil.copytree(vae_dir, temporary)
    if target.exists():
        shutil.rmtree(target)
    os.replace(temporary, target)
    return target


__all__ = [
    "VAETrainResult",
    "VAETrainSettings",
    "build_vae",
    "clips_of",
    "flat_image_psnr",
    "install_vae",
    "latent_scaling_factor",
    "load_shard_videos",
    "reconstruct",
    "reconstruction_psnr",
    "train_vae",
]
