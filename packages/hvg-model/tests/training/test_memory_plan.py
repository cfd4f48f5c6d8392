"""Memory plan: meta-device parameter counts and activation accounting."""

from __future__ import annotations

import pytest
import torch

from hvg_model.training.memory_plan import (
    GIB,
    _fused_attention_accounting,
    _SavedBytes,
    activation_bytes,
    format_rows,
    plan_rows,
)


def test_svd_xt_unet_parameter_count_matches_the_reference() -> None:
    from diffusers import UNetSpatioTemporalConditionModel

    from hvg_model.configs import svd_xt_unet_config

    with torch.device("meta"):
        unet = UNetSpatioTemporalConditionModel(**svd_xt_unet_config())
    # research/model.md §1.1: SVD-xt's UNet has 1.525 B parameters (measured on meta).
    assert sum(p.numel() for p in unet.parameters()) == 1_524_623_082


def test_fused_attention_saves_q_k_v_out_and_logsumexp() -> None:
    q = torch.randn(2, 4, 100, 8, requires_grad=True, device="meta")
    k = torch.randn(2, 4, 100, 8, requires_grad=True, device="meta")
    v = torch.randn(2, 4, 100, 8, requires_grad=True, device="meta")
    counter = _SavedBytes(set())
    with (
        _fused_attention_accounting(),
        torch.autograd.graph.saved_tensors_hooks(counter.pack, lambda t: t),
    ):
        torch.nn.functional.scaled_dot_product_attention(q * 1, k * 1, v * 1)
    element = 4
    # q, k, v (as saved by the multiplications too, counted once), out, logsumexp; no 100×100 scores.
    assert counter.total == (4 * 2 * 4 * 100 * 8 + 2 * 4 * 100) * element


def test_checkpointing_cuts_activations_of_the_tiny_network() -> None:
    from hvg_model.denoising_net import HVGDenoisingNet
    from hvg_model.reference_net import HVGReferenceNet

    net, reference = HVGDenoisingNet.tiny(), HVGReferenceNet.tiny()
    options = dict(batch=1, views=2, frames=2, image_size=64, clip_dim=32)
    full = activation_bytes(net, reference, checkpointing=False, **options)
    checkpointed = activation_bytes(net, reference, checkpointing=True, **options)
    assert 0 < checkpointed < full / 2
    # Activations grow linearly with the number of images (per-pixel view attention is cheap).
    doubled = activation_bytes(net, reference, checkpointing=False, **{**options, "views": 4})
    assert doubled == pytest.approx(2 * full, rel=0.15)


def test_plan_rows_shard_states_under_fsdp() -> None:
    rows = plan_rows(
        trainable=2_000_000_000,
        frozen=700_000_000,
        activations_fp32={False: 40 * GIB, True: 4 * GIB},
        gpus=32,
    )
    ddp, fsdp = rows[2], rows[6]  # checkpointing, fp32 AdamW
    assert ddp.optimizer == 16e9 and fsdp.optimizer == pytest.approx(16e9 / 32)
    assert ddp.activations == fsdp.activations == 2 * GIB
    assert "| DDP, checkpointing, fp32 AdamW |" in format_rows(rows)
