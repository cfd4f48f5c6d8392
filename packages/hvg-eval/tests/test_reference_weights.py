"""Known answers with the real weight files; skipped unless the files are on the search path
(``--weights-dir`` equivalent: ``HVG_EVAL_WEIGHTS``, the user cache or torch's hub cache)."""

import numpy as np
import pytest
import torch

from hvg_eval.ops.frechet import StreamingGaussian, frechet_distance_from_stats
from hvg_eval.weights.registry import find_weight_file

pytestmark = pytest.mark.weights


def _require(key):
    path, places = find_weight_file(key)
    if path is None:
        pytest.skip(f"{key} not found in {', '.join(str(p) for _, p in places)}")
    return path


def test_fid_inception_matches_pytorch_fid_with_the_real_file(monkeypatch):
    path = _require("fid-inception-pt")
    inception = pytest.importorskip("pytorch_fid.inception")
    monkeypatch.setattr(
        inception,
        "load_state_dict_from_url",
        lambda *a, **k: torch.load(path, map_location="cpu", weights_only=True),
    )
    from hvg_eval.metrics.fid import FID

    reference = inception.InceptionV3([3]).eval()
    ours = FID()
    images = torch.rand(4, 3, 128, 160, generator=torch.Generator().manual_seed(0))
    images = torch.round(images * 255) / 255
    with torch.inference_mode():
        expected = reference(images)[0].flatten(1)
    actual = torch.from_numpy(ours.features(torch.round(images * 255).to(torch.uint8)[:, None]))
    torch.testing.assert_close(actual.float(), expected, rtol=1e-4, atol=1e-4)
    assert ours.records[0].verified


def test_lpips_matches_the_lpips_package_with_the_real_trunk():
    path = _require("lpips-vgg16")
    lpips = pytest.importorskip("lpips")
    from hvg_eval.metrics.lpips import build_lpips_vgg

    reference = lpips.LPIPS(net="vgg", pnet_rand=True, verbose=False).eval()
    trunk = torch.load(path, map_location="cpu", weights_only=True)
    slices = {
        key: value for key, value in reference.state_dict().items() if key.startswith("net.slice")
    }
    reference.load_state_dict(
        {
            **reference.state_dict(),
            **{key: trunk["features." + key.split(".", 2)[2]] for key in slices},
        }
    )
    ours, records = build_lpips_vgg()
    generator = torch.Generator().manual_seed(1)
    a, b = (
        torch.rand(2, 3, 64, 64, generator=generator),
        torch.rand(2, 3, 64, 64, generator=generator),
    )
    with torch.inference_mode():
        torch.testing.assert_close(ours(a, b), reference(a, b).flatten(), rtol=1e-4, atol=1e-6)
    assert all(record.verified for record in records)


def test_i3d_and_resnet3d_files_load_strictly_into_the_networks():
    from hvg_eval.networks.i3d import InceptionI3d
    from hvg_eval.networks.resnet3d import ResNet3D50
    from hvg_eval.weights.loading import load_network

    candidates = [
        ("i3d-pt", InceptionI3d(temporal_pool=1), (1, 3, 16, 224, 224)),
        ("r3d50-kinetics", ResNet3D50(), (1, 3, 16, 112, 112)),
    ]
    present = [item for item in candidates if find_weight_file(item[0])[0] is not None]
    if not present:
        pytest.skip(
            "neither i3d_pretrained_400.pt nor resnet-50-kinetics.pth is on the search path"
        )
    for key, network, shape in present:
        record = load_network(key, network, metric=key)
        with torch.inference_mode():
            out = network(torch.zeros(shape))
        assert torch.isfinite(out).all() and record.sha256


@pytest.mark.slow
def test_stylegan_v_torchscript_reproduces_the_fvd_comparison_value():
    # universome/fvd-comparison compare_metrics.py: TF FVD 10.13808, TorchScript the same.
    _require("i3d-ts")
    from hvg_eval.weights.loading import load_torchscript

    detector, _ = load_torchscript("i3d-ts", metric="FVD (stylegan-v)")
    stats = []
    for seed in (1, 2):
        videos = np.random.RandomState(seed).rand(128, 16, 224, 224, 3).astype(np.float32)
        stream = StreamingGaussian(400)
        for start in range(0, 128, 8):
            batch = torch.from_numpy(videos[start : start + 8]).permute(0, 4, 1, 2, 3)
            with torch.inference_mode():
                stream.update(
                    detector(batch, rescale=False, resize=False, return_features=True)
                    .double()
                    .numpy()
                )
        stats.append(stream.stats())
    assert frechet_distance_from_stats(stats[0], stats[1]) == pytest.approx(10.13808, abs=1e-3)
