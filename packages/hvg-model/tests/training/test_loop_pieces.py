"""Pieces of the training loop: pose-map assembly and the gradient scaling that DDP averages."""

from __future__ import annotations

import contextlib
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from hvg_model.training.components import load_frozen_encoders
from hvg_model.training.config import load_config
from hvg_model.training.data import ProceduralSource, collate
from hvg_model.training.forward import micro_step_losses, pose_maps_of
from hvg_model.training.objective import draw_rows
from hvg_model.training.worker_setup import build_trainable


def test_pose_maps_use_the_pipelines_encoding_and_zero_dropped_rows() -> None:
    from hvg_bonemap.pose_codec import decode
    from hvg_bonemap.pose_spec import PoseSpec
    from hvg_core.errors import InputError

    source = ProceduralSource(2, image_size=32)
    batch = collate([source.sample(i, views=2, frames=1, seed=i) for i in range(2)])
    maps = pose_maps_of(batch, "bonemap", torch.tensor([False, True]))
    assert maps.shape == (2, 2, 1, 4, 32, 32)
    # The source's pose input is the codec's decoding of its bone maps (pelvis at 2.5 m).
    rng = np.random.default_rng(0)  # the draws of ProceduralSource.sample(0, seed=0)
    rng.integers(source.total_views)
    first_frame = int(rng.integers(source.total_frames))
    phase = torch.tensor([first_frame]).float() * (2 * math.pi / source.total_frames)
    _, normal, depth = source._render(0, batch.rotation[0], phase)
    expected = decode(PoseSpec(), depth, normal, torch.full((2, 1), source.distance))
    assert torch.equal(batch.pose[0], expected) and torch.equal(maps[0], expected)
    assert float(maps.min()) >= 0 and float(maps.max()) <= 1 and maps[0].any()
    assert not maps[1].any()
    depth_source = ProceduralSource(2, image_size=32, pose_spec=PoseSpec.for_signal("depth"))
    depth_batch = collate([depth_source.sample(0, views=2, frames=1, seed=0)])
    assert pose_maps_of(depth_batch, "depth", torch.zeros(1, dtype=torch.bool)).shape[3] == 1
    # A batch made for another signal is refused, naming the field.
    with pytest.raises(InputError, match="channels"):
        pose_maps_of(depth_batch, "bonemap", torch.zeros(1, dtype=torch.bool))


def test_split_rows_with_ddp_averaging_give_the_full_batch_gradient(tiny_svd_dir: Path) -> None:
    config = load_config("tiny", [f"model.svd_dir={tiny_svd_dir}", "data.dataset=procedural"])
    torch.set_num_threads(config.schedule.num_threads)  # as the trainer does (1 for tiny)
    torch.manual_seed(0)
    module = build_trainable(config, str(tiny_svd_dir))
    encoders = load_frozen_encoders(tiny_svd_dir)
    source = ProceduralSource(4, image_size=64)
    samples = [source.sample(i, views=2, frames=1, seed=i) for i in range(2)]

    def draws(rows: list[int]):
        return draw_rows(
            seed=0,
            step=0,
            rows=rows,
            latent_shape=(2, 1, 4, 8, 8),
            image_shape=(3, 64, 64),
            p_mean=0.7,
            p_std=1.6,
            cond_aug_mean=-3.0,
            cond_aug_std=0.5,
            drop_reference_image=0.5,
            drop_reference_net=0.5,
            drop_pose=0.5,
        )

    def gradients(rows: list[int], scale: float) -> list[torch.Tensor]:
        module.zero_grad(set_to_none=True)
        batch = collate([samples[row] for row in rows])
        losses = micro_step_losses(
            module, encoders, batch, draws(rows), config, contextlib.nullcontext()
        )
        (losses.sum() * scale).backward()
        return [
            p.grad.clone() if p.grad is not None else torch.zeros_like(p)
            for p in module.parameters()
        ]

    # The loop scales by world_size / global_batch; DDP then averages over the world.
    full = gradients([0, 1], 1 / 2)
    halves = [gradients([0], 2 / 2), gradients([1], 2 / 2)]
    averaged = [(a + b) / 2 for a, b in zip(*halves)]
    for expected, got in zip(full, averaged):
        torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-7)
