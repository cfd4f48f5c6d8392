"""Quality bar: at initialisation the extended network *is* SVD (float32, CPU, tiny config)."""

from __future__ import annotations

import pytest
import torch

from hvg_model.denoising_net import HVGDenoisingNet
from hvg_model.reference_net import HVGReferenceNet


def _max_diff(a: torch.Tensor, b: torch.Tensor) -> float:
    return (a - b).abs().max().item()


def test_only_svd_arguments_reproduce_svd(tiny_svd_unet, svd_inputs):
    net = HVGDenoisingNet.from_svd_unet(tiny_svd_unet).eval()
    inputs = svd_inputs()
    with torch.no_grad():
        expected = tiny_svd_unet(**inputs).sample
        actual = net(**inputs).sample
    assert actual.shape == expected.shape
    assert _max_diff(actual, expected) <= 1e-6


def test_several_views_zero_pose_cameras_and_reference_reproduce_svd(tiny_svd_unet, svd_inputs):
    net = HVGDenoisingNet.from_svd_unet(tiny_svd_unet).eval()
    reference_net = HVGReferenceNet.from_svd_unet(tiny_svd_unet).eval()
    batch, views, frames = 2, 3, 2
    inputs = svd_inputs(batch, views, frames)
    rotations = torch.linalg.matrix_exp(
        torch.tensor([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 0.0]]) * 0.7
    )
    with torch.no_grad():
        bank = reference_net(
            torch.randn(batch, 4, 8, 8), torch.randn(batch, 1, 32), inputs["added_time_ids"][:batch]
        )
        expected = tiny_svd_unet(**inputs).sample
        actual = net(
            **inputs,
            num_views=views,
            pose_maps=torch.zeros(batch * views, frames, 4, 64, 64),
            cameras=rotations.expand(batch * views, 3, 3),
            reference_features=bank,
        ).sample
    assert _max_diff(actual, expected) <= 1e-6


def test_from_svd_directory_reproduces_the_loaded_unet(tiny_svd_dir, tiny_svd_unet, svd_inputs):
    net = HVGDenoisingNet.from_svd(tiny_svd_dir).eval()
    inputs = svd_inputs(1, 4, 3)
    with torch.no_grad():
        assert _max_diff(net(**inputs, num_views=4).sample, tiny_svd_unet(**inputs).sample) <= 1e-6
    # Every parameter is materialised (diffusers' meta-device pitfall, research/model.md §0.4).
    assert all(parameter.device.type == "cpu" for parameter in net.parameters())
    # New modules built on the meta device are allocated and initialised: random projections,
    # unit LayerNorm scales, zero outputs and gates.
    view = net.down_blocks[0].attentions[0].view_attention_blocks[0]
    assert view.to_q.weight.std() > 0 and torch.all(view.norm.weight == 1)
    assert torch.all(view.to_out.weight == 0) and torch.all(net.pose_modulator.conv_out.weight == 0)
    assert torch.all(net.down_blocks[0].attentions[0].reference_gates == 0)


def test_exactness_holds_for_every_table3_variant(tiny_svd_unet, svd_inputs):
    inputs = svd_inputs(1, 2, 2)
    with torch.no_grad():
        expected = tiny_svd_unet(**inputs).sample
        for signal, channels in [
            ("depth", 1),
            ("normal", 3),
            ("skeleton2d", 3),
            ("body_normal", 3),
        ]:
            net = HVGDenoisingNet.from_svd_unet(tiny_svd_unet, pose_signal=signal).eval()
            pose = torch.zeros(2, 2, channels, 64, 64)
            actual = net(**inputs, num_views=2, pose_maps=pose).sample
            assert _max_diff(actual, expected) <= 1e-6, signal


@pytest.mark.weights
def test_real_svd_xt_weights_reproduce_svd():
    """With the real SVD-xt directory (``HVG_SVD_XT_DIR``): the same contract at full size."""
    import os

    from hvg_model.loading import load_svd_unet

    path = os.environ.get("HVG_SVD_XT_DIR")
    if not path or not os.path.isdir(path):
        pytest.skip("set HVG_SVD_XT_DIR to a local stabilityai/stable-video-diffusion-img2vid-xt")
    unet = load_svd_unet(path).eval()
    net = HVGDenoisingNet.from_svd_unet(unet).eval()
    generator = torch.Generator().manual_seed(0)
    rows, frames = 2, 2
    inputs = {
        "sample": torch.randn(rows, frames, 8, 16, 16, generator=generator),
        "timestep": 0.25 * torch.log(torch.tensor(5.0)),
        "encoder_hidden_states": torch.randn(rows, 1, 1024, generator=generator),
        "added_time_ids": torch.tensor([[6.0, 127.0, 0.02]]).repeat(rows, 1),
    }
    with torch.no_grad():
        expected = unet(**inputs).sample
        actual = net(**inputs, num_views=2, pose_maps=torch.zeros(rows, frames, 4, 128, 128)).sample
    assert _max_diff(actual, expected) <= 1e-5
