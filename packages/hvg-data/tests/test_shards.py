from __future__ import annotations

import time

import h5py
import numpy as np
import pytest
from hvg_core.errors import InputError

from hvg_data.shards import (
    Manifest,
    RenderedSample,
    ShardRecord,
    decode_normal,
    encode_normal,
    read_sample_arrays,
    remove_stale_temporaries,
    sha256_of,
    verify_folder,
    write_shard,
)


def _sample(seed: int, views: int = 3, frames: int = 2, size: int = 8) -> RenderedSample:
    rng = np.random.default_rng(seed)
    shape = (views, frames, size, size)
    return RenderedSample(
        dataset="toy",
        subject=f"s{seed}",
        kind="scan",
        rgb=rng.integers(0, 256, (*shape, 3), dtype=np.uint8),
        mask=rng.random(shape) > 0.5,
        depth=rng.random(shape).astype(np.float16),
        normal=rng.integers(0, 256, (*shape, 3), dtype=np.uint8),
        K=rng.random((views, 3, 3)).astype(np.float32),
        R=rng.random((views, 3, 3)).astype(np.float32),
        t=rng.random((views, 3)).astype(np.float32),
        crop_boxes=rng.random((views, 4)).astype(np.float32),
        joints=rng.random((frames, 55, 3)).astype(np.float32),
        smplx={"body_pose": rng.random((frames, 63)).astype(np.float32)},
        smplx_settings={"gender": "male"},
        camera_names=tuple(f"c{i}" for i in range(views)),
        frame_ids=tuple(str(i) for i in range(frames)),
        source_hashes={"a/b.obj": "0" * 64},
    )


def test_write_is_deterministic_and_atomic(tmp_path):
    samples = [_sample(0), _sample(1)]
    first = write_shard(tmp_path / "a.h5", samples, config_hash="abc", dataset="toy", shard_index=0)
    time.sleep(1.1)  # HDF5 would record a different modification time if it tracked any
    second = write_shard(
        tmp_path / "b.h5", samples, config_hash="abc", dataset="toy", shard_index=0
    )
    assert first == second == sha256_of(tmp_path / "a.h5")
    assert (tmp_path / "a.h5").read_bytes() == (tmp_path / "b.h5").read_bytes()
    assert not list(tmp_path.glob(".*tmp*"))


def test_read_subsets_equal_slices(tmp_path):
    sample = _sample(3, views=5, frames=4)
    write_shard(tmp_path / "s.h5", [sample], config_hash="x", dataset="toy", shard_index=0)
    with h5py.File(tmp_path / "s.h5") as handle:
        group = handle["samples/000000"]
        views, frames = [4, 0, 2], [1, 3]
        data = read_sample_arrays(group, views, frames)
        np.testing.assert_array_equal(data["rgb"], sample.rgb[views][:, frames])
        np.testing.assert_array_equal(data["depth"], sample.depth[views][:, frames])
        np.testing.assert_array_equal(data["K"], sample.K[views])
        np.testing.assert_array_equal(data["joints"], sample.joints[frames])
        assert data["camera_names"] == ["c4", "c0", "c2"] and data["frame_ids"] == ["1", "3"]
        window = read_sample_arrays(group, None, slice(1, 3))
        np.testing.assert_array_equal(window["mask"], sample.mask[:, 1:3])


def test_rendered_sample_checks_shapes():
    sample = _sample(0)
    with pytest.raises(InputError, match="field 'depth'"):
        RenderedSample(**{**sample.__dict__, "depth": sample.depth.astype(np.float32)})


def test_normal_encoding_round_trip():
    normal = np.array([[0.0, 0.0, -1.0], [0.6, -0.8, 0.0], [0.0, 0.0, 0.0]])
    valid = np.array([True, True, False])
    encoded = encode_normal(normal, valid)
    assert encoded[2].tolist() == [0, 0, 0] and encoded[0].tolist() == [128, 128, 0]
    np.testing.assert_allclose(decode_normal(encoded, valid)[:2], normal[:2], atol=1 / 127.5)
    assert not decode_normal(encoded, valid)[2].any()


def _folder_with_manifest(tmp_path):
    digest = write_shard(
        tmp_path / "shard-00000.h5", [_sample(0)], config_hash="h", dataset="toy", shard_index=0
    )
    manifest = Manifest("toy", {"views": 3}, "h")
    manifest.shards["shard-00000.h5"] = ShardRecord(
        "shard-00000.h5", 1, ["s0"], digest, (tmp_path / "shard-00000.h5").stat().st_size, "h"
    )
    manifest.save(tmp_path)
    return manifest


def test_verify_passes_then_catches_corruption(tmp_path):
    _folder_with_manifest(tmp_path)
    report = verify_folder(tmp_path)
    assert report.ok and report.samples == 1
    data = bytearray((tmp_path / "shard-00000.h5").read_bytes())
    data[-10] ^= 0xFF
    (tmp_path / "shard-00000.h5").write_bytes(bytes(data))
    report = verify_folder(tmp_path)
    assert not report.ok and "SHA-256" in report.problems[0]
    (tmp_path / "shard-00000.h5").unlink()
    assert "missing" in verify_folder(tmp_path).problems[0]


def test_verify_reports_unlisted_shards_and_bad_manifest(tmp_path):
    _folder_with_manifest(tmp_path)
    write_shard(
        tmp_path / "shard-00001.h5", [_sample(1)], config_hash="h", dataset="toy", shard_index=1
    )
    assert "not listed in the manifest" in verify_folder(tmp_path).problems[0]
    (tmp_path / "manifest.json").write_text("{")
    with pytest.raises(InputError, match="malformed manifest"):
        verify_folder(tmp_path)
    with pytest.raises(InputError, match=r"no manifest\.json"):
        verify_folder(tmp_path / "empty")


def test_stale_temporaries_are_removed(tmp_path):
    (tmp_path / ".shard-00000.h5.tmp-123").write_bytes(b"partial")
    assert [p.name for p in remove_stale_temporaries(tmp_path)] == [".shard-00000.h5.tmp-123"]
    manifest = _folder_with_manifest(tmp_path)
    assert Manifest.load(tmp_path).to_json() == manifest.to_json()
