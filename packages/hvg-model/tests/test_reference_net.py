from __future__ import annotations

import math

import pytest
import torch

from hvg_model.denoising_net import HVGDenoisingNet
from hvg_model.reference_net import HVGReferenceNet
from hvg_model.transformer import reference_attention


@pytest.fixture(scope="module")
def reference_net(tiny_svd_unet):
    return HVGReferenceNet.from_svd_unet(tiny_svd_unet).eval()


def test_bank_keys_and_shapes_match_the_denoising_net(reference_net, tiny_svd_unet):
    net = HVGDenoisingNet.from_svd_unet(tiny_svd_unet)
    with torch.no_grad():
        bank = reference_net(torch.randn(2, 4, 8, 8), torch.randn(2, 1, 32), torch.zeros(2, 3))
    assert list(bank) == net.reference_layer_keys() == reference_net.layer_keys()
    assert bank["down_blocks.0.attentions.0.transformer_blocks.0"].shape == (2, 64, 32)
    assert bank["mid_block.attentions.0.transformer_blocks.0"].shape == (2, 16, 64)


def test_first_bank_entry_equals_svd_modules_run_by_hand_at_sigma_min(reference_net, tiny_svd_unet):
    """Oracle: SVD's own modules at σ_min with temporal mixing off (image only)."""
    unet = tiny_svd_unet
    latents = torch.randn(1, 4, 8, 8)
    clip = torch.randn(1, 1, 32)
    ids = torch.tensor([[6.0, 127.0, 0.02]])
    sigma = 0.002
    with torch.no_grad():
        sample = torch.cat([0.18215 * latents / math.sqrt(sigma**2 + 1), latents], dim=1)
        emb = unet.time_embedding(unet.time_proj(torch.tensor([0.25 * math.log(sigma)])))
        emb = emb + unet.add_embedding(unet.add_time_proj(ids.flatten()).reshape(1, -1))
        hidden = unet.conv_in(sample)
        block = unet.down_blocks[0]
        hidden = block.resnets[0](hidden, emb, image_only_indicator=torch.ones(1, 1))
        transformer = block.attentions[0]
        tokens = transformer.proj_in(
            transformer.norm(hidden).permute(0, 2, 3, 1).reshape(1, 64, 32)
        )
        expected = transformer.transformer_blocks[0].norm1(tokens)
        bank = reference_net(latents, clip, ids)
    torch.testing.assert_close(bank["down_blocks.0.attentions.0.transformer_blocks.0"], expected)


def test_reference_attention_equals_attn1_on_the_repeated_bank():
    from diffusers.models.attention_processor import Attention

    torch.manual_seed(0)
    attn = Attention(32, heads=4, dim_head=8)
    queries = torch.randn(2 * 3, 10, 32)  # B = 2 samples, 3 images each
    bank = torch.randn(2, 7, 32)
    repeated = bank.repeat_interleave(3, dim=0)
    with torch.no_grad():
        expected = attn(queries, encoder_hidden_states=repeated)
        torch.testing.assert_close(reference_attention(attn, queries, bank), expected)


def test_trainable_parameters_are_exactly_those_with_gradients():
    torch.manual_seed(0)
    net = HVGReferenceNet.tiny()
    bank = net(torch.randn(1, 4, 8, 8), torch.randn(1, 1, 32), torch.zeros(1, 3))
    sum(value.square().sum() for value in bank.values()).backward()
    with_grad = {id(p) for p in net.parameters() if p.grad is not None}
    assert with_grad == {id(p) for p in net.trainable_parameters()}
    assert len(with_grad) < len(list(net.parameters()))


def test_save_and_load_round_trip(tmp_path, reference_net):
    reference_net.save_pretrained(tmp_path / "ref")
    loaded = HVGReferenceNet.from_pretrained(tmp_path / "ref").eval()
    inputs = (torch.randn(1, 4, 8, 8), torch.randn(1, 1, 32), torch.zeros(1, 3))
    with torch.no_grad():
        a, b = reference_net(*inputs), loaded(*inputs)
    assert all(
        torch.equal(x, y)
        for x, y in zip(reference_net.state_dict().values(), loaded.state_dict().values())
    )
    for key in a:  # loaded tensors may take other kernel paths: float32 rounding only
        torch.testing.assert_close(a[key], b[key], atol=1e-5, rtol=1e-5)


def test_input_shapes_are_checked(reference_net):
    with pytest.raises(ValueError, match="latents must have shape"):
        reference_net(torch.randn(1, 1, 4, 8, 8), torch.randn(1, 1, 32), torch.zeros(1, 3))
    with pytest.raises(ValueError, match="B = 2 rows"):
        reference_net(torch.randn(2, 4, 8, 8), torch.randn(1, 1, 32), torch.zeros(2, 3))
