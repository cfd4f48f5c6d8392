"""Data order, layouts, row split and the procedural source."""

from __future__ import annotations

import numpy as np
import torch

from hvg_model.training.data import (
    DataOrder,
    MicroBatchKeys,
    ProceduralSource,
    collate,
    layout_for_step,
    worker_rows,
)


def test_every_sample_once_per_epoch_and_reproducible() -> None:
    order = DataOrder(num_samples=10, global_batch_size=4, seed=3)
    first_epoch = [order.index(step, row) for step in range(3) for row in range(4)][:10]
    assert sorted(first_epoch) == list(range(10))
    assert order.index(7, 2) == DataOrder(10, 4, 3).index(7, 2)
    assert order.samples_consumed(5) == 20


def test_worker_rows_partition_the_global_batch() -> None:
    rows = [worker_rows(8, 2, 2, micro, rank) for micro in range(2) for rank in range(2)]
    assert sorted(r for block in rows for r in block) == list(range(8))
    assert worker_rows(8, 2, 2, 1, 0) == [4, 5]


def test_micro_batch_keys_resume_where_they_stopped() -> None:
    def keys(start: int, rank: int = 0, world: int = 1) -> list:
        return list(
            MicroBatchKeys(
                start_step=start,
                max_steps=6,
                global_batch_size=4,
                grad_accumulation=2,
                rank=rank,
                world_size=world,
                layouts=[[2, 2], [4, 1]],
                seed=1,
            )
        )

    assert keys(0)[6:] == keys(3)
    split = [k for micro in zip(keys(0, 0, 2), keys(0, 1, 2)) for k in micro[0] + micro[1]]
    assert split == [k for micro in keys(0) for k in micro]
    layouts = {layout_for_step([[2, 2], [4, 1]], 1, step) for step in range(40)}
    assert layouts == {(2, 2), (4, 1)}


def test_procedural_source_is_deterministic_and_consistent() -> None:
    source = ProceduralSource(num_subjects=3, image_size=32)
    sample = source.sample(1, views=4, frames=2, seed=5)
    assert sample.rgb.shape == (4, 2, 3, 32, 32) and sample.pose.shape == (4, 2, 4, 32, 32)
    assert sample.reference.shape == (3, 32, 32) and sample.rotation.shape == (4, 3, 3)
    again = source.sample(1, views=4, frames=2, seed=5)
    assert torch.equal(sample.rgb, again.rgb)
    # Rotations are proper; foreground (depth > 0) pixels are exactly where normals are set.
    eye = torch.eye(3).expand(4, 3, 3)
    torch.testing.assert_close(
        sample.rotation @ sample.rotation.transpose(1, 2), eye, atol=1e-5, rtol=0
    )
    torch.testing.assert_close(torch.linalg.det(sample.rotation), torch.ones(4))
    _, normal, depth = source._render(1, sample.rotation, torch.zeros(2))
    foreground = depth[:, :, 0] > 0
    assert foreground.any() and (~foreground).any()
    assert torch.equal(foreground, normal.abs().sum(2) > 0)
    # The pose input's depth code is set exactly on the foreground (body codes are >= 1/255).
    assert torch.equal(sample.pose[:, :, 0] > 0, sample.pose.abs().sum(2) > 0)
    # Normals face the camera (OpenCV: z forward, so n_z < 0) and depth ≈ distance 2.5 m ± body.
    normals = normal.permute(0, 1, 3, 4, 2)[foreground]
    assert float((normals[:, 2] < 0.05).float().mean()) > 0.95
    depths = depth[:, :, 0][foreground]
    assert float(depths.min()) > 2.0 and float(depths.max()) < 3.0
    # Different subjects have different colours.
    other = source.sample(2, views=4, frames=2, seed=5)
    assert not np.allclose(sample.rgb.numpy(), other.rgb.numpy())
    assert collate([sample, again]).rgb.shape == (2, 4, 2, 3, 32, 32)
