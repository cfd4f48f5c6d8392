"""A ``hvg-model generate`` output is read as one video per view (issue 17)."""

import functools
import json

import numpy as np
import pytest
import torch
from hvg_core.errors import InputError
from PIL import Image
from torch import nn

from hvg_eval.inputs.discover import discover_videos

V, T, SIZE = 3, 4, 16


class ChannelStats(nn.Module):
    """Stub feature network: per-channel mean and spread (no weights needed)."""

    feature_dim = 6

    def forward(self, x):
        dims = tuple(range(2, x.ndim))
        return torch.cat([x.mean(dim=dims), x.std(dim=dims)], 1)


def _png(path, value):
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(value)
    Image.fromarray((rng.random((SIZE, SIZE, 3)) * 255).astype(np.uint8)).save(path)


def _write_generate_output(out, *, with_frames=True):
    """The files ``hvg-model generate`` writes: per-view videos + manifest + previews."""
    from hvg_bonemap.media import write_mp4

    entries = []
    for view in range(V):
        name = f"view_{view:02d}"
        frames = [np.full((SIZE, SIZE, 3), 10 * view + t, np.uint8) for t in range(T)]
        write_mp4(out / f"{name}.mp4", iter(frames), fps=7)
        entry = {"name": name, "view": view, "video": f"{name}.mp4"}
        if with_frames:
            for t in range(T):
                _png(out / "frames" / name / f"{t:03d}.png", 100 * view + t)
            entry["frames"] = f"frames/{name}"
        entries.append(entry)
    # previews that must not count as videos
    tiled = [np.zeros((2 * SIZE, 2 * SIZE, 3), np.uint8)] * T
    write_mp4(out / "video_b0.mp4", iter(tiled), fps=7)
    write_mp4(out / "pose_b0.mp4", iter(tiled), fps=7)
    _png(out / "video_b0_sheet.png", 1)
    _png(out / "reference_aligned.png", 2)
    manifest = {"format": "hvg-generate-views", "version": 1, "views": V, "frames": T}
    (out / "hvg-views.json").write_text(json.dumps({**manifest, "videos": entries}))


@pytest.mark.parametrize("with_frames", [True, False])
def test_generate_output_is_one_video_per_view(tmp_path, with_frames):
    out = tmp_path / "gen" / "subject_01"
    _write_generate_output(out, with_frames=with_frames)
    items = discover_videos(tmp_path / "gen")
    assert [item.name for item in items] == [f"subject_01/view_{v:02d}" for v in range(V)]
    assert [item.view for item in items] == list(range(V))
    assert {item.kind for item in items} == {"frames" if with_frames else "video"}
    assert all(item.read().shape == (T, SIZE, SIZE, 3) for item in items)
    # Without the manifest the same folder is a jumble of previews, frames and view videos.
    (out / "hvg-views.json").unlink()
    assert len(discover_videos(tmp_path / "gen")) != V


def test_manifest_errors_name_the_file(tmp_path):
    out = tmp_path / "gen"
    out.mkdir()
    (out / "hvg-views.json").write_text("{not json")
    with pytest.raises(InputError, match=r"hvg-views\.json"):
        discover_videos(out)
    (out / "hvg-views.json").write_text(json.dumps({"videos": [{"name": "view_00"}]}))
    with pytest.raises(InputError, match="neither frames nor a video"):
        discover_videos(out)
    entry = {"name": "view_00", "video": "../../etc/passwd"}
    (out / "hvg-views.json").write_text(json.dumps({"videos": [entry]}))
    with pytest.raises(InputError, match="outside the output folder"):
        discover_videos(out)


@pytest.mark.parametrize("metric_name", ["fvd", "fid-vid"])
def test_fvd_and_fid_vid_count_one_sample_per_view_video(tmp_path, monkeypatch, metric_name):
    from hvg_eval import evaluate as evaluate_module
    from hvg_eval.metrics.fid_vid import FIDVID
    from hvg_eval.metrics.fvd import FVD

    real, fake = tmp_path / "real" / "subject_01", tmp_path / "fake" / "subject_01"
    for view in range(V):
        for t in range(T):
            _png(real / f"view_{view:02d}" / f"{t:03d}.png", 1000 + 100 * view + t)
    _write_generate_output(fake)
    factory = {"fvd": FVD, "fid-vid": FIDVID}[metric_name]
    stub = functools.partial(factory, network=ChannelStats())
    monkeypatch.setattr(evaluate_module, "build_metric", lambda name, protocol, **_: stub())
    document = evaluate_module.evaluate([metric_name], tmp_path / "real", tmp_path / "fake")
    assert document["inputs"]["fake_videos"] == document["inputs"]["real_videos"] == V
    conventions = document["metrics"][metric_name]["conventions"]
    assert conventions["fake_videos"] == conventions["real_videos"] == V
    assert conventions["fake_frames"] == V * T
