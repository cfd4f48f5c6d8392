from __future__ import annotations

import pytest
import torch

from hvg_model.configs import tiny_unet_config
from hvg_model.denoising_net import HVGDenoisingNet, is_new_parameter
from hvg_model.reference_net import HVGReferenceNet
from hvg_model.testing import randomise_new_modules

B, V, T = 1, 3, 2


@pytest.fixture(scope="module")
def live_net():
    torch.manual_seed(0)
    net = HVGDenoisingNet.tiny().eval()
    randomise_new_modules(net, seed=1, std=0.2)
    return net


@pytest.fixture(scope="module")
def reference_net():
    torch.manual_seed(3)
    return HVGReferenceNet.tiny().eval()


def _run(net, inputs, **extra):
    with torch.no_grad():
        return net(**inputs, **extra).sample


def test_output_shape_and_row_broadcast(live_net, svd_inputs):
    inputs = svd_inputs(B, V, T)
    out = _run(live_net, inputs, num_views=V)
    assert out.shape == (B * V, T, 4, 8, 8)
    # CLIP tokens and time ids given once per sample are repeated over the views.
    per_sample = dict(inputs)
    per_sample["encoder_hidden_states"] = inputs["encoder_hidden_states"][:1]
    per_sample["added_time_ids"] = inputs["added_time_ids"][:1]
    full = dict(inputs)
    full["encoder_hidden_states"] = per_sample["encoder_hidden_states"].repeat(V, 1, 1)
    torch.testing.assert_close(
        _run(live_net, per_sample, num_views=V), _run(live_net, full, num_views=V)
    )


@pytest.mark.parametrize("extra", ["pose_maps", "cameras", "views", "reference_features"])
def test_each_hvg_input_reaches_the_output_once_trained(live_net, reference_net, svd_inputs, extra):
    inputs = svd_inputs(B, V, T)
    base = _run(live_net, inputs, num_views=1)
    if extra == "pose_maps":
        kwargs = {"pose_maps": torch.rand(B * V, T, 4, 64, 64), "num_views": 1}
    elif extra == "cameras":
        kwargs = {
            "cameras": torch.linalg.matrix_exp(
                torch.randn(B * V, 3, 3).triu(1) - torch.randn(B * V, 3, 3).triu(1).mT
            ),
            "num_views": 1,
        }
    elif extra == "views":
        kwargs = {"num_views": V}
    else:
        with torch.no_grad():
            bank = reference_net(
                torch.randn(B, 4, 8, 8), torch.randn(B, 1, 32), inputs["added_time_ids"][:B]
            )
        kwargs = {"reference_features": bank, "num_views": 1}
    assert (_run(live_net, inputs, **kwargs) - base).abs().max() > 1e-4


def test_without_view_attention_views_are_independent(svd_inputs):
    torch.manual_seed(0)
    net = HVGDenoisingNet.tiny(use_view_attention=False).eval()
    randomise_new_modules(net, std=0.2)
    inputs = svd_inputs(B, V, T)
    changed = dict(inputs)
    changed["sample"] = inputs["sample"].clone()
    changed["sample"][0] += 1.0  # view 0 only
    delta = (
        (_run(net, inputs, num_views=V) - _run(net, changed, num_views=V)).abs().amax((1, 2, 3, 4))
    )
    assert delta[0] > 0 and torch.all(delta[1:] == 0)


def test_with_view_attention_views_exchange_information(live_net, svd_inputs):
    inputs = svd_inputs(B, V, T)
    changed = dict(inputs)
    changed["sample"] = inputs["sample"].clone()
    changed["sample"][0] += torch.randn_like(changed["sample"][0])
    delta = (
        (_run(live_net, inputs, num_views=V) - _run(live_net, changed, num_views=V))
        .abs()
        .amax((1, 2, 3, 4))
    )
    assert torch.all(delta[1:] > 0)


def test_per_frame_cameras_equal_per_view_cameras_when_constant(live_net, svd_inputs):
    inputs = svd_inputs(B, V, T)
    rotation = torch.linalg.matrix_exp(
        torch.tensor([[0.0, -0.4, 0.0], [0.4, 0.0, 0.0], [0.0, 0.0, 0.0]])
    )
    per_view = rotation.expand(B * V, 3, 3)
    per_frame = rotation.expand(B * V, T, 3, 3)
    torch.testing.assert_close(
        _run(live_net, inputs, cameras=per_view, num_views=V),
        _run(live_net, inputs, cameras=per_frame, num_views=V),
    )


def test_shape_errors_name_the_argument(live_net, svd_inputs):
    inputs = svd_inputs(B, V, T)
    with pytest.raises(ValueError, match="sample must have shape"):
        _run(live_net, {**inputs, "sample": inputs["sample"][:, :, :4]})
    with pytest.raises(ValueError, match="num_views must divide"):
        _run(live_net, inputs, num_views=2)
    with pytest.raises(ValueError, match="pose_maps must have shape"):
        _run(live_net, inputs, pose_maps=torch.zeros(B * V, T, 4, 32, 32))
    with pytest.raises(ValueError, match="cameras must have shape"):
        _run(live_net, inputs, cameras=torch.zeros(B * V, 9))
    with pytest.raises(ValueError, match="reference_features keys"):
        _run(live_net, inputs, reference_features={"up_blocks.0": torch.zeros(1, 4, 32)})
    with pytest.raises(ValueError, match="encoder_hidden_states must have"):
        _run(live_net, {**inputs, "encoder_hidden_states": torch.zeros(2, 1, 32)}, num_views=V)


@pytest.mark.parametrize(
    ("signal", "guiders"),
    [("bonemap", 2), ("depth", 1), ("normal", 1), ("skeleton2d", 1), ("body_normal", 1), (None, 0)],
)
def test_table3_variants_are_selected_by_config(signal, guiders, svd_inputs):
    net = HVGDenoisingNet.tiny(pose_signal=signal).eval()
    modulator = net.pose_modulator
    assert (0 if modulator is None else len(modulator.guiders)) == guiders
    if modulator is not None:
        assert (modulator.fusion is not None) == (guiders > 1)
        randomise_new_modules(net)
        pose = torch.rand(B * V, T, modulator.in_channels, 64, 64)
        assert _run(net, svd_inputs(B, V, T), pose_maps=pose, num_views=V).shape == (
            B * V,
            T,
            4,
            8,
            8,
        )


def test_gradient_checkpointing_covers_view_and_temporal_attention_and_keeps_gradients(svd_inputs):
    torch.manual_seed(0)
    net = HVGDenoisingNet.tiny()
    randomise_new_modules(net, std=0.2)
    reference = HVGReferenceNet.tiny()
    inputs = svd_inputs(B, V, T)
    pose = torch.rand(B * V, T, 4, 64, 64)
    cameras = torch.eye(3).expand(B * V, 3, 3)

    def loss_and_grads():
        net.zero_grad()
        bank = reference(torch.ones(B, 4, 8, 8), torch.ones(B, 1, 32), inputs["added_time_ids"][:B])
        out = net(
            **inputs, num_views=V, pose_maps=pose, reference_features=bank, cameras=cameras
        ).sample
        out.square().mean().backward()
        return {n: p.grad.clone() for n, p in net.named_parameters() if p.grad is not None}

    plain = loss_and_grads()
    calls: list[str] = []

    def checkpoint(function, *args):
        calls.append(getattr(function, "__name__", type(function).__name__))
        return torch.utils.checkpoint.checkpoint(function, *args, use_reentrant=False)

    net.enable_gradient_checkpointing(checkpoint)
    checkpointed = loss_and_grads()
    assert {"spatial", "view", "temporal"} <= set(calls)
    transformers = 3  # tiny config: down 1, mid 1, up 1 (two layers in the up block)
    assert calls.count("view") >= transformers
    assert plain.keys() == checkpointed.keys()
    # Every parameter, new ones included, gets a gradient.
    assert len(plain) == len(list(net.parameters()))
    for name in plain:
        torch.testing.assert_close(checkpointed[name], plain[name], atol=1e-5, rtol=1e-4)


def test_new_parameter_names_cover_exactly_the_hvg_modules():
    net = HVGDenoisingNet.tiny()
    new = {name for name, _ in net.named_parameters() if is_new_parameter(name)}
    assert any(".view_attention_blocks." in n for n in new)
    assert any(n.startswith("pose_modulator.") for n in new)
    assert any(n.startswith("camera_embedding.") for n in new)
    assert any(n.endswith("reference_gates") for n in new)
    assert all(
        ("view_attention" in n)
        or n.startswith(("pose_modulator", "camera_embedding"))
        or n.endswith("reference_gates")
        for n in new
    )


def test_reference_gates_only_in_down_and_mid_blocks():
    net = HVGDenoisingNet.tiny()
    keys = net.reference_layer_keys()
    assert keys and all(k.startswith(("down_blocks", "mid_block")) for k in keys)
    assert keys == HVGReferenceNet.tiny().layer_keys()


def test_save_and_load_round_trip(tmp_path, svd_inputs):
    torch.manual_seed(0)
    net = HVGDenoisingNet.tiny(pose_signal="depth", camera_frequencies=3).eval()
    randomise_new_modules(net)
    net.save_pretrained(tmp_path / "net")
    assert (tmp_path / "net" / "diffusion_pytorch_model.safetensors").is_file()
    loaded = HVGDenoisingNet.from_pretrained(tmp_path / "net").eval()
    assert loaded.config.pose_signal == "depth" and loaded.config.camera_frequencies == 3
    inputs = svd_inputs(B, V, T)
    pose = torch.rand(B * V, T, 1, 64, 64)
    torch.testing.assert_close(
        _run(loaded, inputs, num_views=V, pose_maps=pose),
        _run(net, inputs, num_views=V, pose_maps=pose),
        atol=1e-5,
        rtol=1e-5,
    )
    assert all(
        torch.equal(a, b) for a, b in zip(net.state_dict().values(), loaded.state_dict().values())
    )


def test_newer_config_version_is_refused():
    with pytest.raises(ValueError, match="hvg_config_version"):
        HVGDenoisingNet(**tiny_unet_config(hvg_config_version=99))


def test_from_svd_unet_refuses_foreign_weights(tiny_svd_unet):
    from diffusers import UNetSpatioTemporalConditionModel

    other = UNetSpatioTemporalConditionModel(
        **{k: v for k, v in tiny_unet_config().items() if not k.startswith(("pose_", "camera_"))}
    )
    state = other.state_dict()
    state["extra.weight"] = torch.zeros(1)
    net = HVGDenoisingNet.tiny()
    from hvg_model.denoising_net import load_svd_weights

    with pytest.raises(ValueError, match="unexpected keys"):
        load_svd_weights(net, state)
    del state["extra.weight"]
    del state["conv_in.weight"]
    with pytest.raises(ValueError, match="missing SVD keys"):
        load_svd_weights(net, state)


def test_image_only_indicator_makes_frames_independent(live_net, svd_inputs):
    inputs = svd_inputs(B, V, T)
    changed = dict(inputs)
    changed["sample"] = inputs["sample"].clone()
    changed["sample"][:, 0] += torch.randn_like(changed["sample"][:, 0])
    ones = torch.ones(B * V, T)
    delta = (
        _run(live_net, inputs, num_views=V, image_only_indicator=ones)
        - _run(live_net, changed, num_views=V, image_only_indicator=ones)
    ).abs()
    assert delta[:, 0].max() > 0 and delta[:, 1].max() == 0
    # With temporal mixing on (SVD's default), frame 1 sees frame 0.
    delta_on = (_run(live_net, inputs, num_views=V) - _run(live_net, changed, num_views=V)).abs()
    assert delta_on[:, 1].max() > 0
