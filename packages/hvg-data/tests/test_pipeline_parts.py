"""Part files of the Ray executor: images compressed in the worker, chunk by chunk as the shard
stores them, give the shard the bytes of the in-process executor."""

from __future__ import annotations

import dataclasses
import zlib

import numpy as np
import pytest
from hvg_core.errors import InputError

from hvg_data.config import RenderConfig
from hvg_data.pipeline import make_adapter, render_one
from hvg_data.shards import (
    IMAGE_FIELDS,
    CompressedImage,
    PackedSample,
    load_part,
    pack_sample,
    read_part,
    save_part,
    unpack_sample,
    write_shard,
)


@pytest.fixture(scope="module")
def walking_samples():
    """Two synthetic subjects, 3 views x 4 frames at 40² (chunks indexed by view and frame)."""
    adapter = make_adapter("synthetic", None, {"count": 2, "frames": 4})
    config = dataclasses.replace(RenderConfig(views=3, size=40), adapter=adapter.config())
    samples = [render_one(adapter, subject, config, None)[0] for subject in adapter.subjects()]
    assert all(sample is not None for sample in samples)
    return samples


def _write(path, samples, level):
    return write_shard(
        path, samples, config_hash="h", dataset="synthetic", shard_index=3, compression=level
    )


@pytest.mark.parametrize("level", [1, 6])
def test_packed_samples_write_the_same_shard(tmp_path, walking_samples, level):
    _write(tmp_path / "arrays.h5", walking_samples, level)
    packed = [pack_sample(sample, level) for sample in walking_samples]
    _write(tmp_path / "packed.h5", packed, level)
    assert (tmp_path / "packed.h5").read_bytes() == (tmp_path / "arrays.h5").read_bytes()


def test_pack_round_trip_and_level_check(tmp_path, walking_samples):
    sample = walking_samples[0]
    packed = pack_sample(sample, 1)
    assert len(packed.rgb.chunks) == 3 * 4 and packed.mask.shape == (3, 4, 40, 40)
    # view-major chunks: chunk v * T + f is image (v, f)
    assert np.array_equal(
        np.frombuffer(zlib.decompress(packed.depth.chunks[1 * 4 + 2]), np.float16),
        sample.depth[1, 2].ravel(),
    )
    back = unpack_sample(packed)
    for name in IMAGE_FIELDS:
        assert np.array_equal(getattr(back, name), getattr(sample, name))
        assert getattr(back, name).dtype == getattr(sample, name).dtype
    with pytest.raises(ValueError, match="level 1, the shard uses 2"):
        _write(tmp_path / "mismatch.h5", [packed], 2)


def test_parts_keep_what_was_saved(tmp_path, walking_samples):
    sample = walking_samples[1]
    save_part(tmp_path / "packed.npz", pack_sample(sample, 1))
    save_part(tmp_path / "plain.npz", sample)
    read = read_part(tmp_path / "packed.npz")
    assert isinstance(read, PackedSample) and isinstance(read.rgb, CompressedImage)
    assert read.rgb == pack_sample(sample, 1).rgb
    for path in ("packed.npz", "plain.npz"):
        loaded = load_part(tmp_path / path)
        for name in (*IMAGE_FIELDS, "K", "joints"):
            assert np.array_equal(getattr(loaded, name), getattr(sample, name))
        assert loaded.smplx.keys() == sample.smplx.keys()
        assert (loaded.subject, loaded.frame_ids) == (sample.subject, sample.frame_ids)
    (tmp_path / "bad.npz").write_bytes(b"not a part")
    with pytest.raises(InputError, match="unreadable render part"):
        read_part(tmp_path / "bad.npz")
