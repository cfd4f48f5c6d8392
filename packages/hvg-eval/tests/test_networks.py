import json
from pathlib import Path

import pytest
import torch

from hvg_eval.networks.fid_inception import FIDInceptionV3
from hvg_eval.networks.i3d import InceptionI3d
from hvg_eval.networks.lpips_vgg import LPIPSVGG, LPIPSHeads, VGG16Features
from hvg_eval.networks.resnet3d import ResNet3D50
from hvg_eval.weights.manifest_tools import builtin_manifests, state_dict_manifest
from hvg_eval.weights.registry import load_manifest, manifest_path


def _randomise_batchnorm(module, seed):
    generator = torch.Generator().manual_seed(seed)
    for child in module.modules():
        if isinstance(child, torch.nn.modules.batchnorm._BatchNorm):
            child.running_mean.copy_(
                torch.randn(child.running_mean.shape, generator=generator) * 0.1
            )
            child.running_var.copy_(torch.rand(child.running_var.shape, generator=generator) + 0.5)
            child.weight.data.copy_(torch.rand(child.weight.shape, generator=generator) + 0.5)
            child.bias.data.copy_(torch.randn(child.bias.shape, generator=generator) * 0.1)


def test_committed_manifests_equal_the_networks():
    for name, manifest in builtin_manifests().items():
        committed = json.loads(manifest_path(name).read_text())
        assert committed["tensors"] == manifest, name
        assert committed["tensor_count"] == len(manifest)


def test_parameter_counts_equal_the_reference_architectures():
    # research/metrics.md §7 e6/e7: counted from cd-fvd's pytorch_i3d.py and DisCo's resnet3d.py.
    i3d = load_manifest("i3d")
    assert len(i3d) == 344
    assert sum(torch.Size(shape).numel() for shape in i3d.values()) == 12_711_881
    r3d = load_manifest("resnet3d50")
    assert len(r3d) == 320
    assert sum(torch.Size(shape).numel() for shape in r3d.values()) == 47_071_749
    assert i3d["logits.conv3d.weight"] == [400, 1024, 1, 1, 1]
    assert r3d["fc.weight"] == [400, 2048]


def _pytorch_fid_reference(monkeypatch):
    inception = pytest.importorskip("pytorch_fid.inception")

    def build_without_download():
        # pytorch-fid's fid_inception_v3 minus the weight download.
        net = inception._inception_v3(num_classes=1008, aux_logits=False, weights=None)
        net.Mixed_5b = inception.FIDInceptionA(192, pool_features=32)
        net.Mixed_5c = inception.FIDInceptionA(256, pool_features=64)
        net.Mixed_5d = inception.FIDInceptionA(288, pool_features=64)
        net.Mixed_6b = inception.FIDInceptionC(768, channels_7x7=128)
        net.Mixed_6c = inception.FIDInceptionC(768, channels_7x7=160)
        net.Mixed_6d = inception.FIDInceptionC(768, channels_7x7=160)
        net.Mixed_6e = inception.FIDInceptionC(768, channels_7x7=192)
        net.Mixed_7b = inception.FIDInceptionE_1(1280)
        net.Mixed_7c = inception.FIDInceptionE_2(2048)
        return net

    monkeypatch.setattr(inception, "fid_inception_v3", build_without_download)
    return build_without_download, inception.InceptionV3


def test_fid_inception_random_weight_transplant_matches_pytorch_fid(monkeypatch):
    build, wrapper = _pytorch_fid_reference(monkeypatch)
    torch.manual_seed(0)
    reference_inception = build()
    assert state_dict_manifest(reference_inception.state_dict()) == load_manifest(
        "fid_inception_v3"
    )
    _randomise_batchnorm(reference_inception, 1)
    ours = FIDInceptionV3().eval()
    ours.load_state_dict(reference_inception.state_dict(), strict=True)
    reference = wrapper([3]).eval()
    # The wrapper shares the patched modules: copy the same weights in.
    reference_state = {
        f"blocks.{block}.{index}.{key.split('.', 1)[1]}": value
        for block, names in enumerate(
            [
                ["Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3"],
                ["Conv2d_3b_1x1", "Conv2d_4a_3x3"],
                [
                    "Mixed_5b",
                    "Mixed_5c",
                    "Mixed_5d",
                    "Mixed_6a",
                    "Mixed_6b",
                    "Mixed_6c",
                    "Mixed_6d",
                    "Mixed_6e",
                ],
                ["Mixed_7a", "Mixed_7b", "Mixed_7c"],
            ]
        )
        for index, name in enumerate(names)
        for key, value in reference_inception.state_dict().items()
        if key.split(".", 1)[0] == name
    }
    reference.load_state_dict(reference_state, strict=True)
    images = torch.rand(2, 3, 83, 67, generator=torch.Generator().manual_seed(2))
    with torch.inference_mode():
        expected = reference(images)[0].flatten(1)
        actual = ours(images)
    assert actual.shape == (2, 2048)
    torch.testing.assert_close(actual, expected, rtol=1e-5, atol=1e-5)


def test_vgg16_manifest_equals_torchvision():
    torchvision = pytest.importorskip("torchvision")
    reference = torchvision.models.vgg16(weights=None).state_dict()
    features = {key: value for key, value in reference.items() if key.startswith("features.")}
    assert state_dict_manifest(features) == load_manifest("vgg16_features")
    assert state_dict_manifest(VGG16Features().state_dict()) == state_dict_manifest(features)


def test_lpips_random_trunk_transplant_matches_lpips_package():
    lpips = pytest.importorskip("lpips")
    torch.manual_seed(0)
    reference = lpips.LPIPS(net="vgg", pnet_rand=True, pretrained=True, verbose=False).eval()
    ours = LPIPSVGG().eval()
    state = reference.state_dict()
    ours.trunk.load_state_dict(
        {
            f"features.{key.split('.', 2)[2]}": value
            for key, value in state.items()
            if key.startswith("net.slice")
        },
        strict=True,
    )
    ours.heads.load_state_dict(
        {
            key: value
            for key, value in state.items()
            if key.startswith("lin") and not key.startswith("lins.")
        },
        strict=True,
    )
    generator = torch.Generator().manual_seed(1)
    first, second = (
        torch.rand(3, 3, 48, 56, generator=generator),
        torch.rand(3, 3, 48, 56, generator=generator),
    )
    with torch.inference_mode():
        for scale in ("disco01", "correct"):
            a, b = (first, second) if scale == "disco01" else (2 * first - 1, 2 * second - 1)
            expected = reference(a, b).flatten()
            torch.testing.assert_close(ours(a, b), expected, rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(
            reference(first, second, normalize=True).flatten(),
            ours(2 * first - 1, 2 * second - 1),
            rtol=1e-5,
            atol=1e-6,
        )
    assert torch.all(ours(first, first) == 0)


def test_lpips_heads_manifest_equals_the_shipped_file():
    lpips = pytest.importorskip("lpips")
    path = Path(lpips.__file__).parent / "weights" / "v0.1" / "vgg.pth"
    shipped = torch.load(path, map_location="cpu", weights_only=True)
    assert state_dict_manifest(shipped) == load_manifest("lpips_heads_vgg")
    LPIPSHeads().load_state_dict(shipped, strict=True)


def test_i3d_output_shape_and_temporal_pool_equivalence_at_16_frames():
    torch.manual_seed(0)
    two = InceptionI3d(temporal_pool=2)
    _randomise_batchnorm(two, 3)
    two.eval()
    one = InceptionI3d(temporal_pool=1).eval()
    one.load_state_dict(two.state_dict())
    video = torch.rand(1, 3, 16, 224, 224, generator=torch.Generator().manual_seed(4)) * 2 - 1
    with torch.inference_mode():
        a, b = two(video), one(video)
    assert a.shape == (1, 400)
    # The logits layer is linear, so averaging before or after it is the same (§2.7).
    torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)


def test_resnet3d_output_shape():
    torch.manual_seed(0)
    net = ResNet3D50().eval()
    with torch.inference_mode():
        out = net(torch.randn(1, 3, 16, 112, 112))
    assert out.shape == (1, 2048)
    assert torch.all(out >= 0)  # pooled post-ReLU features
