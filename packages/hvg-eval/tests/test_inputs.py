import numpy as np
import pytest
from hvg_core.errors import InputError

from hvg_eval.inputs.discover import check_same_frames, discover_videos, pair_videos
from hvg_eval.inputs.video import read_video, write_video
from hvg_eval.testing import write_frame_folders, write_hdf5_shard


def _videos(seed, count=2, frames=3, size=16):
    return np.random.default_rng(seed).integers(
        0, 256, (count, frames, size, size, 3), dtype=np.uint8
    )


def test_frame_folders_are_videos_named_by_relative_path(tmp_path):
    videos = _videos(0)
    write_frame_folders(tmp_path, videos, names=["subject_a/view_00", "subject_a/view_03"])
    items = discover_videos(tmp_path)
    assert [item.name for item in items] == ["subject_a/view_00", "subject_a/view_03"]
    assert [item.view for item in items] == [0, 3]
    np.testing.assert_array_equal(items[1].read(), videos[1])


def test_flat_folder_is_one_video_in_name_order(tmp_path):
    write_frame_folders(tmp_path, _videos(1, count=1, frames=4), names=["."])
    (item,) = discover_videos(tmp_path)
    assert item.name == "." and item.frame_names == ("0000.png", "0001.png", "0002.png", "0003.png")
    assert item.read().shape == (4, 16, 16, 3)


def test_lossless_mp4_and_gif_keep_exact_frame_counts_and_values(tmp_path):
    video = _videos(2, count=1, frames=7, size=32)[0]
    write_video(tmp_path / "clip.mp4", video)
    decoded = read_video(tmp_path / "clip.mp4")
    assert decoded.shape == (7, 32, 32, 3)
    # libx264 qp=0 in yuv444p is lossless up to the RGB<->YUV rounding.
    assert np.abs(decoded.astype(int) - video.astype(int)).max() <= 3
    palette_video = np.repeat(np.repeat(video[:, ::8, ::8] // 64 * 64, 8, 1), 8, 2)
    write_video(tmp_path / "clip.gif", palette_video)
    gif = read_video(tmp_path / "clip.gif")
    assert gif.shape[0] == 7  # no frame duplication (DisCo issue #36)
    np.testing.assert_array_equal(gif, palette_video)
    with pytest.raises(InputError, match="share the name 'clip'"):
        discover_videos(tmp_path)


def test_hdf5_shards_give_one_video_per_sample_and_view(tmp_path):
    rgb = np.random.default_rng(3).integers(0, 256, (2, 3, 8, 8, 3), dtype=np.uint8)
    write_hdf5_shard(tmp_path / "shard_000.h5", {"s1": rgb, "s2": rgb[::-1].copy()})
    items = discover_videos(tmp_path / "shard_000.h5")
    assert [item.name for item in items] == ["s1/view_00", "s1/view_01", "s2/view_00", "s2/view_01"]
    assert [item.view for item in items] == [0, 1, 0, 1]
    np.testing.assert_array_equal(items[3].read(), rgb[0])
    in_folder = discover_videos(tmp_path)
    assert in_folder[0].name == "shard_000/s1/view_00"


def test_hdf5_wrong_rank_is_refused_with_file_and_field(tmp_path):
    import h5py

    with h5py.File(tmp_path / "bad.h5", "w") as handle:
        handle.create_dataset("s/rgb", data=np.zeros((4, 4), dtype=np.uint8))
    with pytest.raises(InputError, match=r"bad\.h5: field 's/rgb'"):
        discover_videos(tmp_path / "bad.h5")


def test_pairing_errors_are_specific(tmp_path):
    write_frame_folders(tmp_path / "real", _videos(4), names=["a", "b"])
    write_frame_folders(tmp_path / "fake", _videos(5), names=["a", "c"])
    with pytest.raises(
        InputError, match=r"1 only in --real \(e\.g\. b\).*1 only in --fake \(e\.g\. c\)"
    ):
        pair_videos(discover_videos(tmp_path / "real"), discover_videos(tmp_path / "fake"))
    write_frame_folders(tmp_path / "fake2", _videos(6, frames=2), names=["a", "b"])
    with pytest.raises(InputError, match="3 vs 2 frames"):
        pair_videos(discover_videos(tmp_path / "real"), discover_videos(tmp_path / "fake2"))
    with pytest.raises(InputError, match="3 real frames but 2 fake frames"):
        check_same_frames("a", _videos(0)[0], _videos(0, frames=2)[0], tmp_path)
    with pytest.raises(InputError, match="16×16 but fake frames are 8×8"):
        check_same_frames("a", _videos(0)[0], _videos(0, size=8)[0], tmp_path)


def test_missing_and_empty_inputs(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        discover_videos(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="found no images"):
        discover_videos(tmp_path / "empty")
