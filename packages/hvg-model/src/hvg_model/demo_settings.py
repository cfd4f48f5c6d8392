"""Sizes of an ``hvg demo`` run: :class:`DemoSettings` and its presets.

Its own module so that the demo's stages (:mod:`hvg_model.demo_train`,
:mod:`hvg_model.demo_eval`) read the settings without importing the command that runs them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DemoSettings:
    """Sizes of the demo run.

    Attributes:
        subjects: Synthetic training subjects (each a short walk).
        train_views: Views rendered per training subject.
        train_frames: Frames rendered per training subject.
        size: Image side in pixels (a multiple of ``2 · vae_downsample``).
        crop_extent: Side of the pelvis-centred crop in metres (smaller = bigger person).
        latent_channels: Latent channels of the demo's VAE (SVD: 4).
        vae_downsample: Spatial factor of the demo VAE's latents (SVD: 8). 4 (16² latents at
            64²) gave the held-out reconstruction silhouette IoU 0.70 against 0.62 with 8 (250
            steps each, one run each), and the generated video 0.67 against 0.61.
        vae_steps: Optimiser steps of the VAE.
        vae_batch_clips: Clips of 4 frames per VAE step.
        stage1_steps: Optimiser steps of stage 1 (multi-view).
        stage1_batch: Subjects per stage-1 step.
        stage2_steps: Optimiser steps of stage 2 (multi-view multi-frame).
        lr: Peak learning rate of both stages.
        noise_p_mean: Mean of ln σ of the training noise (EDM's log-normal; SVD: 0.7).
        noise_p_std: Standard deviation of ln σ (SVD: 1.6).
        sigma_max: Largest σ of the sampling schedule (SVD: 700).
        views: Views of the generated video (an orbit).
        frames: Frames of the generated video.
        steps: Denoising steps.
        guidance: Largest classifier-free guidance scale (1 = off).
        view_window: View window of the samplers (cyclic over the orbit).
        view_overlap: Views shared by neighbouring view windows.
        frame_window: Frame window of the samplers (and stage 2's frames).
        frame_overlap: Frames shared by neighbouring temporal windows.
        baseline: Registered sampler generated for comparison.
        executor: ``"local"`` (in-process; the fastest on a small machine) or ``"ray"`` (Ray
            Data on a local cluster, as ``hvg-data render`` runs by default) rendering.
        seed: Seed of data, training and sampling.
    """

    subjects: int = 12
    train_views: int = 4
    train_frames: int = 8
    size: int = 64
    crop_extent: float = 1.9
    latent_channels: int = 16
    vae_downsample: int = 4
    vae_steps: int = 400
    vae_batch_clips: int = 2
    stage1_steps: int = 600
    stage1_batch: int = 2
    stage2_steps: int = 150
    lr: float = 1e-3
    noise_p_mean: float = 0.7
    noise_p_std: float = 1.6
    sigma_max: float = 700.0
    views: int = 4
    frames: int = 8
    steps: int = 10
    guidance: float = 1.5
    view_window: int = 2
    view_overlap: int = 1
    frame_window: int = 4
    frame_overlap: int = 2
    baseline: str = "human4dit"
    executor: str = "local"
    seed: int = 0


#: The default run.
DEFAULT = DemoSettings()

#: The smallest settings that still exercise every stage and show learning (CI's test).
SMALLEST = DemoSettings(
    subjects=3,
    train_views=2,
    train_frames=4,
    size=32,
    vae_steps=200,
    vae_batch_clips=2,
    stage1_steps=30,
    stage2_steps=8,
    views=3,
    frames=4,
    steps=3,
    frame_window=2,
    frame_overlap=1,
)

#: A longer run for a better picture (about two and a half times the default's time).
QUALITY = DemoSettings(subjects=24, vae_steps=600, stage1_steps=2000, stage2_steps=400, steps=20)
