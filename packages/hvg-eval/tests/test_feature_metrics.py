import functools

import numpy as np
import pytest
import torch
from hvg_core.errors import MissingResourceError
from torch import nn

from hvg_eval.metrics.fid import FID, fid_from_features
from hvg_eval.metrics.fid_vid import FIDVID, KINETICS_MEAN, segment_video
from hvg_eval.metrics.fvd import FVD
from hvg_eval.metrics.lpips import LPIPS, lpips
from hvg_eval.networks.lpips_vgg import LPIPSVGG
from hvg_eval.ops.resize import resize_pil_bicubic_float, resize_torch_bilinear
from hvg_eval.protocols import get_protocol
from hvg_eval.testing import check_metric_contract, random_videos


class Recorder(nn.Module):
    """Stub feature network (pytorch-fid's mocking trick): channel means and spread, and it
    remembers what it received so preprocessing can be checked numerically."""

    feature_dim = 6

    def __init__(self):
        super().__init__()
        self.inputs = []

    def forward(self, x):
        self.inputs.append(x.detach().clone())
        dims = tuple(range(2, x.ndim))
        return torch.cat([x.mean(dim=dims), x.std(dim=dims)], 1)


@pytest.fixture
def no_weights(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.delenv("HVG_EVAL_WEIGHTS", raising=False)


@pytest.mark.parametrize(("metric", "filename"), [
    (FID, "pt_inception-2015-12-05-6726825d.pth"),
    (FVD, "i3d_pretrained_400.pt"),
    (FIDVID, "resnet-50-kinetics.pth"),
])  # fmt: skip
def test_missing_weights_fail_at_construction(no_weights, metric, filename):
    with pytest.raises(MissingResourceError, match=filename):
        metric()


def test_lpips_needs_the_vgg_trunk_but_finds_the_shipped_heads(no_weights):
    with pytest.raises(MissingResourceError, match=r"vgg16-397923af\.pth"):
        LPIPS()


@pytest.mark.parametrize("metric", [FID, FVD, FIDVID])
def test_frechet_metrics_follow_the_contract_with_a_stub_network(metric):
    check_metric_contract(
        functools.partial(metric, network=Recorder()), shape=(4, 1, 2, 8, 8), tolerance=1e-7
    )


def _lpips_random_trunk_real_heads():
    # Random trunk, the real (non-negative) v0.1 heads shipped in the lpips wheel.
    from hvg_eval.weights.registry import find_weight_file

    torch.manual_seed(0)
    network = LPIPSVGG().eval()
    path, _ = find_weight_file("lpips-lin-vgg")
    if path is None:
        pytest.skip("the lpips wheel (test dependency) ships the v0.1 heads")
    network.heads.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    return network


def test_lpips_follows_the_contract_with_random_weights():
    network = _lpips_random_trunk_real_heads()
    check_metric_contract(
        functools.partial(LPIPS, network=network), shape=(2, 1, 2, 32, 32), tolerance=1e-9
    )


def test_lpips_input_convention():
    torch.manual_seed(0)
    network = LPIPSVGG().eval()
    real, fake = random_videos(3, (1, 1, 2, 32, 32))
    frames_real, frames_fake = real[0, 0], fake[0, 0]
    with torch.inference_mode():
        disco = network(frames_real, frames_fake).double()
        correct = network(2 * frames_real - 1, 2 * frames_fake - 1).double()
    torch.testing.assert_close(
        lpips(network, frames_real, frames_fake, lpips_input="disco01"), disco
    )
    torch.testing.assert_close(
        lpips(network, frames_real, frames_fake, lpips_input="correct"), correct
    )
    metric = LPIPS("clean", network=network)
    metric.update(real, fake)
    assert metric.compute() == pytest.approx(float(correct.mean()), rel=1e-9)
    assert metric.conventions()["input"] == "correct"


def test_fid_pytorch_fid_preprocessing_and_value():
    stub = Recorder()
    metric = FID(network=stub)
    real, fake = random_videos(4, (3, 1, 2, 20, 20))
    metric.update(real, fake)
    torch.testing.assert_close(stub.inputs[0], real.reshape(-1, 3, 20, 20))  # [0, 1], resize in-net
    features_real = Recorder()(real.reshape(-1, 3, 20, 20)).double().numpy()
    features_fake = Recorder()(fake.reshape(-1, 3, 20, 20)).double().numpy()
    assert metric.compute() == pytest.approx(
        fid_from_features(features_real, features_fake), rel=1e-6
    )
    assert metric.conventions()["samples"] == {"real": 6, "fake": 6}


def test_fid_clean_preprocessing_is_pil_bicubic_then_minus_128_over_128():
    stub = Recorder()
    metric = FID("clean", network=stub)
    real, fake = random_videos(5, (2, 1, 1, 40, 30))
    metric.update(real, fake)
    frames = np.round(real.reshape(-1, 3, 40, 30).permute(0, 2, 3, 1).numpy() * 255).astype(
        np.uint8
    )
    expected = (
        torch.from_numpy(resize_pil_bicubic_float(frames, (299, 299))).permute(0, 3, 1, 2) - 128
    ) / 128
    torch.testing.assert_close(stub.inputs[0], expected)


def test_pil_bicubic_float_resizer_is_per_channel_float_and_clipped():
    from PIL import Image

    frames = np.random.default_rng(6).integers(0, 256, (1, 24, 36, 3), dtype=np.uint8)
    out = resize_pil_bicubic_float(frames, (50, 40))
    assert out.shape == (1, 50, 40, 3) and out.dtype == np.float32
    expected = np.asarray(
        Image.fromarray(frames[0, :, :, 1].astype(np.float32), mode="F").resize(
            (40, 50), Image.BICUBIC
        )
    )
    np.testing.assert_array_equal(out[0, :, :, 1], np.clip(expected, 0, 255))
    assert out.min() >= 0 and out.max() <= 255
    # Identity at the target size for the torch path (pytorch-fid at 299).
    images = torch.rand(1, 3, 299, 299)
    torch.testing.assert_close(resize_torch_bilinear(images, (299, 299)), images)


def test_fvd_disco_preprocessing_whole_video_at_224():
    stub = Recorder()
    metric = FVD(network=stub)
    real, fake = random_videos(7, (2, 1, 5, 16, 16))
    metric.update(real, fake)
    clip = stub.inputs[0]
    assert clip.shape == (1, 3, 5, 224, 224)  # whole video, (N, C, T, H, W)
    frames = np.round(real[0, 0].permute(0, 2, 3, 1).numpy() * 255).astype(np.uint8)
    expected = (
        torch.from_numpy(resize_pil_bicubic_float(frames, (224, 224))).permute(3, 0, 1, 2)[None]
        / 127.5
        - 1
    )
    torch.testing.assert_close(clip, expected)
    assert metric.conventions()["final_avg_pool"] == [1, 7, 7]


def test_fvd_stylegan_v_clips_are_16_frames_with_seeded_real_offsets():
    class TorchScriptLike(Recorder):
        def forward(self, x, rescale=False, resize=False, return_features=False):
            assert rescale and resize and return_features
            return super().forward(x)

    def offsets(seed):
        stub = TorchScriptLike()
        protocol = get_protocol("stylegan-v").with_overrides(fvd_real_offset_seed=seed)
        metric = FVD(protocol, network=stub)
        real = (
            torch.arange(20)
            .float()
            .div(255)
            .view(1, 1, 20, 1, 1, 1)
            .expand(3, 1, 20, 3, 8, 8)
            .contiguous()
        )
        short = torch.zeros(1, 1, 10, 3, 8, 8)
        metric.update(real, real)
        metric.update(None, short)
        assert metric.skipped_short == 1
        clips = stub.inputs
        assert all(clip.shape == (1, 3, 16, 8, 8) for clip in clips)
        starts = [round(float(clip[0, 0, 0, 0, 0])) for clip in clips]
        return starts[:3], starts[3:]

    real_starts, fake_starts = offsets(0)
    assert fake_starts == [0, 0, 0] and all(0 <= s <= 4 for s in real_starts)
    assert offsets(0) == (real_starts, fake_starts)  # deterministic


def test_fid_vid_segments_pad_with_the_last_frame_and_subtract_the_mean():
    video = np.arange(20)[:, None]
    segments = segment_video(video)
    assert segments.shape == (2, 16, 1)
    assert segments[1, 3:, 0].tolist() == [19] * 13
    stub = Recorder()
    metric = FIDVID(network=stub)
    real, fake = random_videos(8, (2, 1, 18, 12, 12))
    metric.update(real, fake)
    first = stub.inputs[0]
    assert first.shape == (2, 3, 16, 112, 112)  # 18 frames -> 2 segments
    frames = np.round(real[0, 0].permute(0, 2, 3, 1).numpy() * 255).astype(np.uint8)
    resized = resize_pil_bicubic_float(frames, (112, 112)) - np.asarray(KINETICS_MEAN, np.float32)
    torch.testing.assert_close(first[1, :, 1], torch.from_numpy(resized[17]).permute(2, 0, 1))
    torch.testing.assert_close(first[1, :, 15], torch.from_numpy(resized[17]).permute(2, 0, 1))


def test_frechet_metrics_are_invariant_to_video_order():
    real, fake = random_videos(9, (6, 1, 2, 12, 12))
    forward = FVD(network=Recorder())
    forward.update(real, fake)
    permuted = FVD(network=Recorder())
    order = torch.tensor([3, 0, 5, 1, 4, 2])
    permuted.update(real[order], fake[order.flip(0)])
    assert permuted.compute() == pytest.approx(forward.compute(), rel=1e-9)


def test_per_view_breakdown_of_frechet_metrics():
    metric = FID(network=Recorder(), per_view=True)
    real, fake = random_videos(10, (3, 2, 2, 12, 12))
    metric.update(real, fake, view_offset=4)
    breakdown = metric.breakdown()["per_view"]
    assert sorted(breakdown) == [4, 5]
    only_view = FID(network=Recorder())
    only_view.update(real[:, 1:], fake[:, 1:])
    assert breakdown[5] == pytest.approx(only_view.compute(), rel=1e-9)


def test_disco_frame_folder_windows_make_one_sample_per_16_frame_window():
    protocol = get_protocol("disco").with_overrides(
        fvd_clip="16f-stride1", fid_vid_clip="16f-stride1"
    )
    real, fake = random_videos(11, (2, 1, 18, 8, 8))
    fvd_stub, vid_stub = Recorder(), Recorder()
    fvd = FVD(protocol, network=fvd_stub)
    fvd.update(real, fake)
    assert fvd.conventions()["samples"] == {"real": 6, "fake": 6}  # 3 windows per 18-frame video
    assert all(clip.shape == (1, 3, 16, 224, 224) for clip in fvd_stub.inputs)
    torch.testing.assert_close(fvd_stub.inputs[1][:, :, :15], fvd_stub.inputs[0][:, :, 1:])
    fid_vid = FIDVID(protocol, network=vid_stub)
    fid_vid.update(real, fake)
    assert fid_vid.conventions()["samples"] == {"real": 6, "fake": 6}
    assert vid_stub.inputs[0].shape == (3, 3, 16, 112, 112)
