from __future__ import annotations

import numpy as np
import pytest
import torch
from hvg_core.errors import InputError

from hvg_data.crop import project
from hvg_data.training import MultiViewDataset, worker_init_fn


def test_stage2_items_have_documented_shapes_and_ranges(synthetic_shards):
    dataset = MultiViewDataset(synthetic_shards, views=3, frames=2, size=32)
    assert len(dataset) == 3
    item = dataset[1]
    assert item["images"].shape == (3, 2, 3, 32, 32) and item["images"].dtype == torch.float32
    assert item["images"].min() >= 0.0 and item["images"].max() <= 1.0
    assert (
        item["masks"].shape == item["depth"].shape == item["bone_mask"].shape == (3, 2, 1, 32, 32)
    )
    assert item["normal"].shape == (3, 2, 3, 32, 32)
    assert item["K"].shape == item["R"].shape == (3, 3, 3) and item["t"].shape == (3, 3)
    assert item["joints"].shape == (2, 55, 3) and item["smplx"]["body_pose"].shape == (2, 63)
    assert torch.equal(item["reference_image"], item["images"][0, 0])
    fg = item["bone_mask"] > 0
    assert (item["depth"][fg] > 0).all() and (item["depth"][~fg] == 0).all()
    norms = item["normal"].norm(dim=2, keepdim=True)[fg]
    assert torch.allclose(norms, torch.ones_like(norms), atol=0.03)
    frames = item["frame_indices"]
    assert (frames[1:] - frames[:-1] == 1).all()


def test_resized_intrinsics_still_project_the_pelvis_to_the_centre(synthetic_shards):
    for size in (24, 48, 96):
        item = MultiViewDataset(synthetic_shards, views=4, frames=1, size=size)[0]
        pixels, _ = project(
            item["K"].double().numpy(),
            item["R"].double().numpy(),
            item["t"].double().numpy(),
            item["joints"][0, :1].double().numpy(),
        )
        # The crop box is fixed over the walk (mean pelvis), so allow a little motion.
        np.testing.assert_allclose(pixels[:, 0], size / 2, atol=0.15 * size)


def test_draws_are_deterministic_and_worker_independent(synthetic_shards):
    dataset = MultiViewDataset(synthetic_shards, views=2, frames=2, seed=7)
    direct = [
        dataset[i]["view_indices"].tolist() + dataset[i]["frame_indices"].tolist()
        for i in range(len(dataset))
    ]
    loader = torch.utils.data.DataLoader(
        dataset, batch_size=1, num_workers=2, worker_init_fn=worker_init_fn
    )
    loaded = [torch.cat([b["view_indices"][0], b["frame_indices"][0]]).tolist() for b in loader]
    assert loaded == direct
    dataset.set_epoch(1)
    later = [
        dataset[i]["view_indices"].tolist() + dataset[i]["frame_indices"].tolist()
        for i in range(len(dataset))
    ]
    assert later != direct


@pytest.mark.parametrize("mode", ["contiguous", "evenly"])
def test_view_sampling_modes(synthetic_shards, mode):
    dataset = MultiViewDataset(synthetic_shards, views=2, frames=1, view_sampling=mode)
    views = dataset[0]["view_indices"].tolist()
    gap = (views[1] - views[0]) % 4
    assert gap == (1 if mode == "contiguous" else 2)


def test_too_many_views_or_frames(synthetic_shards):
    with pytest.raises(InputError, match="no sample has >= 9 views"):
        MultiViewDataset(synthetic_shards, views=9)
    with pytest.raises(InputError, match="view_sampling"):
        MultiViewDataset(synthetic_shards, view_sampling="nope")


def test_capture_pipeline_feeds_stage2(mvhumannet_fixture, tmp_path):
    from hvg_data.config import RenderConfig
    from hvg_data.pipeline import PipelineOptions, run_render

    summary = run_render(
        "mvhumannet",
        mvhumannet_fixture.root,
        tmp_path,
        RenderConfig(views=4, size=32),
        options=PipelineOptions(executor="local", progress=False),
    )
    assert summary.samples == 1 and not summary.failures
    item = MultiViewDataset(tmp_path, views=4, frames=3, view_sampling="contiguous")[0]
    assert item["images"].shape == (4, 3, 3, 32, 32)
    assert item["frame_indices"].tolist() == [0, 1, 2]
    # Cameras are fixed over the video; the subject moves (a walk).
    assert not torch.equal(item["masks"][:, 0], item["masks"][:, 2])
