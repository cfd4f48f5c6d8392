"""The pose spec in render configs and manifests; pose input of shard items through the codec."""

from __future__ import annotations

import json
import shutil
import warnings

import pytest
import torch
from hvg_bonemap import DEFAULT_POSE_SPEC, PoseSpec
from hvg_core.errors import InputError

from hvg_data.config import RenderConfig
from hvg_data.shards import Manifest, manifest_pose_spec
from hvg_data.training import MultiViewDataset


def test_the_pose_spec_is_part_of_the_render_hash():
    config = RenderConfig()
    assert config.pose_spec == DEFAULT_POSE_SPEC
    assert RenderConfig(radii="full").pose_spec.radii == "full"
    assert RenderConfig(radii="full").hash() != config.hash()
    assert RenderConfig(crop_extent=2.0).hash() != config.hash()
    with pytest.raises(InputError) as caught:
        RenderConfig(radii="fat")
    assert caught.value.field == "radii"
    with pytest.raises(InputError) as caught:
        RenderConfig(bones="octopus")
    assert caught.value.field == "bones"


def test_the_manifest_records_the_spec_and_old_manifests_read_as_the_default(
    synthetic_shards, tmp_path
):
    data = json.loads((synthetic_shards / "manifest.json").read_text())
    assert PoseSpec.from_dict(data["pose_spec"]) == DEFAULT_POSE_SPEC
    assert manifest_pose_spec(Manifest.load(synthetic_shards)) == DEFAULT_POSE_SPEC
    old = tmp_path / "old"
    shutil.copytree(synthetic_shards, old)
    del data["pose_spec"]
    del data["config"]["radii"]
    (old / "manifest.json").write_text(json.dumps(data))
    with pytest.warns(UserWarning, match="no pose_spec recorded") as caught:
        dataset = MultiViewDataset(old, views=2, frames=1)
        MultiViewDataset(old, views=2, frames=1)
    assert len(caught) == 1  # said once per folder
    assert dataset.stored_spec == DEFAULT_POSE_SPEC
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        item = MultiViewDataset(old, views=2, frames=1, pose_spec=DEFAULT_POSE_SPEC)[0]
    assert item["pose"].shape == (2, 1, 4, 48, 48)
    data["pose_spec"] = {**DEFAULT_POSE_SPEC.to_dict(), "version": 7}
    (old / "manifest.json").write_text(json.dumps(data))
    with pytest.raises(InputError) as caught:
        MultiViewDataset(old, views=2, frames=1)
    assert caught.value.field == "pose_spec.version" and "manifest.json" in str(caught.value)


def test_a_network_drawing_other_bones_is_refused(synthetic_shards):
    with pytest.raises(InputError) as caught:
        MultiViewDataset(
            synthetic_shards, views=2, pose_spec=DEFAULT_POSE_SPEC.replace(radii="full")
        )
    assert caught.value.field == "pose_spec.radii"


@pytest.mark.parametrize("signal", ["bonemap", "depth", "normal", "skeleton2d"])
def test_training_items_and_inference_give_the_same_pose_input(synthetic_shards, signal):
    """One view alignment and one codec: a shard item equals the inference rendering."""
    from hvg_bonemap import Cameras, align_cameras
    from hvg_bonemap.pose_codec import pose_input

    spec = PoseSpec.for_signal(signal)
    dataset = MultiViewDataset(synthetic_shards, views=4, frames=4, pose_spec=spec)
    item = dataset[0]
    group = dataset._file(dataset.items[0][0])["samples"][dataset.items[0][1]]
    views = item["view_indices"].numpy()
    # Inference: the uncropped orbit cameras (undo the stored crop) and the same joints.
    boxes = torch.from_numpy(group["crop_boxes"][()][views]).double()
    K = item["K"].double().clone()
    scale = (boxes[:, 2] - boxes[:, 0]) / 48
    K[:, 0, :] *= scale[:, None]
    K[:, 1, :] *= scale[:, None]
    K[:, 0, 2] += boxes[:, 0]
    K[:, 1, 2] += boxes[:, 1]
    uncropped = Cameras(K, item["R"].double(), item["t"].double(), 200, 200)
    joints = item["joints"]
    aligned = align_cameras(uncropped, joints.double(), spec.crop_extent, 48).to(
        dtype=torch.float32
    )
    torch.testing.assert_close(aligned.K, item["K"], atol=1e-3, rtol=1e-5)
    inference = pose_input(spec, joints[None], aligned[:, None])
    training = item["pose"]
    assert training.shape == inference.shape == (4, 4, spec.channels, 48, 48)
    # float16 depth and uint8 normals in the shards; a pixel or two may flip at silhouettes.
    close = (training - inference).abs() <= 2.5 / 255
    assert float(close.float().mean()) > 0.998
