from __future__ import annotations

import math

import pytest
import torch

from hvg_model.conditioning import (
    clip_image_embedding,
    decode_latents,
    encode_frames,
    encode_reference,
    make_added_time_ids,
    vae_conditioning_latents,
)
from hvg_model.edm import edm_scalings
from hvg_model.loading import load_frozen_components
from hvg_model.reference_net import HVGReferenceNet


@pytest.fixture(scope="module")
def frozen(tiny_svd_dir):
    return load_frozen_components(tiny_svd_dir)


def test_added_time_ids_follow_svd():
    ids = make_added_time_ids(2, fps=7, motion_bucket_id=127, noise_aug_strength=0.02)
    torch.testing.assert_close(ids, torch.tensor([[6.0, 127.0, 0.02]] * 2))


def test_conditioning_latent_is_unscaled_mode_and_frames_are_scaled(frozen):
    images = torch.rand(2, 3, 64, 64)
    with torch.no_grad():
        direct = frozen.vae.encode(images * 2 - 1).latent_dist.mode()
        torch.testing.assert_close(vae_conditioning_latents(frozen.vae, images, 0.0), direct)
        torch.testing.assert_close(encode_frames(frozen.vae, images[None]), direct[None] * 0.18215)
        augmented = vae_conditioning_latents(
            frozen.vae, images, 0.5, torch.Generator().manual_seed(0)
        )
    assert augmented.shape == (2, 4, 8, 8) and not torch.allclose(augmented, direct)


def test_decode_in_chunks_matches_decoding_each_chunk_as_a_clip(frozen):
    latents = torch.randn(1, 2, 4, 4, 8, 8)
    with torch.no_grad():
        frames = decode_latents(frozen.vae, latents, chunk_size=2)
        first = frozen.vae.decode(latents[0, 1, :2] / 0.18215, num_frames=2).sample
    assert frames.shape == (1, 2, 4, 3, 64, 64)
    assert frames.min() >= 0 and frames.max() <= 1
    torch.testing.assert_close(frames[0, 1, :2], ((first + 1) / 2).clamp(0, 1))


def test_clip_embedding_resizes_to_the_encoder_size(frozen):
    with torch.no_grad():
        small = clip_image_embedding(
            frozen.image_encoder, torch.rand(2, 3, 64, 64), frozen.feature_extractor
        )
    assert small.shape == (2, 1, 32)
    with pytest.raises(ValueError, match=r"images must have shape \(B, 3, H, W\)"):
        clip_image_embedding(frozen.image_encoder, torch.rand(3, 64, 64))


def test_encode_reference_bundles_everything(frozen, tiny_svd_unet):
    reference_net = HVGReferenceNet.from_svd_unet(tiny_svd_unet)
    cond = encode_reference(
        torch.rand(2, 3, 64, 64),
        vae=frozen.vae,
        image_encoder=frozen.image_encoder,
        reference_net=reference_net,
        feature_extractor=frozen.feature_extractor,
    )
    assert cond.clip_embedding.shape == (2, 1, 32)
    assert cond.image_latents.shape == (2, 4, 8, 8)
    assert cond.added_time_ids.shape == (2, 3)
    assert set(cond.reference_features) == set(reference_net.layer_keys())
    # The ReferenceNet is trainable through the conditioning.
    assert all(v.requires_grad for v in cond.reference_features.values())


def test_edm_scalings_match_diffusers_euler_scheduler(frozen):
    scheduler = frozen.scheduler
    scheduler.set_timesteps(4)
    sigma = scheduler.sigmas[1]
    scalings = edm_scalings(sigma)
    torch.testing.assert_close(scalings.c_noise, scheduler.timesteps[1].float())
    assert scalings.c_noise.item() == pytest.approx(0.25 * math.log(sigma.item()), rel=1e-5)
    x = torch.randn(1, 4, 8, 8) * float(sigma)
    torch.testing.assert_close(
        scheduler.scale_model_input(x, scheduler.timesteps[1]), x * scalings.c_in
    )
    model_output = torch.randn_like(x)
    scheduler._step_index = 1
    stepped = scheduler.step(model_output, scheduler.timesteps[1], x).prev_sample
    x0 = scalings.c_skip * x + scalings.c_out * model_output
    expected = x + (x - x0) / sigma * (scheduler.sigmas[2] - sigma)
    torch.testing.assert_close(stepped, expected, atol=1e-5, rtol=1e-5)


def test_reference_mask_from_alpha_or_border_colour():
    from hvg_model.conditioning import border_colour, reference_foreground_mask

    image = torch.full((1, 3, 12, 10), 0.5)  # grey studio wall
    image[:, :, 3:9, 4:7] = torch.tensor([0.1, 0.2, 0.9])[:, None, None]
    mask = reference_foreground_mask(image)
    assert mask.shape == (1, 12, 10) and mask.sum() == 6 * 3 and mask[0, 3:9, 4:7].all()
    torch.testing.assert_close(border_colour(image), torch.full((1, 3), 0.5))
    alpha = torch.zeros(1, 12, 10)
    alpha[:, 0:2, 0:2] = 1.0  # an alpha channel wins over colours
    assert reference_foreground_mask(image, alpha=alpha).sum() == 4
    with pytest.raises(ValueError, match="alpha must have shape"):
        reference_foreground_mask(image, alpha=alpha[:, :5])


def test_align_reference_scales_to_the_target_height_without_match_scale_it_only_moves():
    from hvg_model.conditioning import align_reference, reference_foreground_mask

    image = torch.ones(1, 3, 40, 40)
    image[:, :, 10:30, 15:25] = 0.0  # 20 px tall person, box centre (20, 20)
    target = torch.zeros(1, 20, 20, dtype=torch.bool)
    target[:, 2:12, 6:11] = True  # 10 px tall, centre (8.5, 7)
    aligned, boxes = align_reference(image, target)
    mask = reference_foreground_mask(aligned)[0]
    rows, cols = mask.any(-1).nonzero(), mask.any(-2).nonzero()
    assert (int(rows.min()), int(rows.max()) + 1) == (2, 12)
    assert (int(cols.min()), int(cols.max()) + 1) == (6, 11)
    assert boxes.shape == (1, 4) and float(boxes[0, 2] - boxes[0, 0]) == pytest.approx(40.0)
    moved, boxes = align_reference(image, target, match_scale=False)
    assert float(boxes[0, 2] - boxes[0, 0]) == pytest.approx(20.0)  # same pixel scale
    # Centred at row 7 the 20 px person spans rows -3..17: the top 3 rows fall outside.
    assert reference_foreground_mask(moved)[0].any(-1).sum() == 17
