"""Pieces of the training loop: pose-map assembly and the gradient scaling that DDP averages."""

from __future__ import annotations

import contextlib
from pathlib import Path

import torch

from hvg_model.training.components import load_frozen_encoders
from hvg_model.training.config import load_config
from hvg_model.training.data import ProceduralSource, collate
from hvg_model.training.loop import build_trainable, micro_step_losses, pose_maps_of
from hvg_model.training.objective import draw_rows


def test_pose_maps_use_the_pipelines_encoding_and_zero_dropped_rows() -> None:
    from hvg_model.pose_input import encode_stored_bonemap

    source = ProceduralSource(2, image_size=32)
    batch = collate([source.sample(i, views=2, frames=1, seed=i) for i in range(2)])
    maps = pose_maps_of(batch, "bonemap", torch.tensor([False, True]))
    assert maps.shape == (2, 2, 1, 4, 32, 32)
    expected = encode_stored_bonemap(batch.depth[0], batch.normal[0], batch.pelvis_distance[0])
    assert torch.equal(maps[0], expected)
    assert float(maps.min()) >= 0 and float(maps.max()) <= 1 and maps[0].any()
    assert not maps[1].any()
    assert pose_maps_of(batch, "depth", torch.zeros(2, dtype=torch.bool)).shape[3] == 1


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
