"""Training and inference give the network the same SVD conditioning, and one EDM preconditioning.

The training path is :func:`hvg_model.training.forward.network_prediction` (frozen encoders of
the trainer); the inference path is :meth:`hvg_model.pipeline.HVGPipeline.conditioning` and
:class:`hvg_model.pipeline.HVGDenoiser`. For the same reference image, augmentation strength
and noise, pose maps, cameras and noisy latents, every tensor the networks receive must be equal.
"""

from __future__ import annotations

import math
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import torch

from hvg_model.edm import denoise, edm_scalings
from hvg_model.embeddings import relative_rotations
from hvg_model.loading import load_frozen_components
from hvg_model.pipeline import REFERENCE_PREFIX, HVGDenoiser, HVGPipeline
from hvg_model.testing import randomise_new_modules
from hvg_model.training.components import load_frozen_encoders
from hvg_model.training.config import load_config
from hvg_model.training.data import ProceduralSource, collate
from hvg_model.training.forward import network_prediction, pose_maps_of
from hvg_model.training.worker_setup import build_trainable


class _Recorder:
    """Records the positional and keyword arguments (or the output) of every module call."""

    def __init__(self, module: torch.nn.Module, *, output: bool = False) -> None:
        self.calls: list[Any] = []
        if output:
            module.register_forward_hook(lambda _m, _args, out: self.calls.append(out))
        else:
            module.register_forward_pre_hook(
                lambda _m, args, kwargs: self.calls.append((args, kwargs)), with_kwargs=True
            )


@pytest.mark.parametrize("preset", ["tiny", "tiny-stage2"])
def test_training_and_inference_feed_the_networks_identical_conditioning(
    tiny_svd_dir: Path, preset: str
) -> None:
    config = load_config(preset, [f"model.svd_dir={tiny_svd_dir}", "data.dataset=procedural"])
    torch.manual_seed(0)
    module = build_trainable(config, str(tiny_svd_dir)).eval()
    randomise_new_modules(module.net, seed=1)  # pose, camera and reference paths matter
    encoders = load_frozen_encoders(tiny_svd_dir)
    frozen = load_frozen_components(tiny_svd_dir)
    pipeline = HVGPipeline(
        module.net, module.reference_net, frozen.vae, frozen.image_encoder, frozen.feature_extractor
    )
    views, frames = config.data.views, config.data.frames
    source = ProceduralSource(2, image_size=config.data.image_size)
    batch = collate([source.sample(i, views=views, frames=frames, seed=i) for i in range(2)])
    b, strength, fps, bucket = 2, 0.07, config.objective.fps, config.objective.motion_bucket_id
    latent_hw = config.data.image_size // encoders.vae_factor
    x_sigma = torch.randn(b, views, frames, 4, latent_hw, latent_hw) * 3.0
    sigma = torch.full((b,), 3.0)
    no_drop = torch.zeros(b, dtype=torch.bool)
    pose = pose_maps_of(batch, config.model.variant, no_drop)

    net_calls, bank_calls = _Recorder(module.net), _Recorder(module.reference_net, output=True)
    with torch.no_grad():
        network_prediction(
            module,
            encoders,
            batch,
            x_sigma,
            sigma,
            config,
            cond_aug=torch.full((b,), strength),
            reference_noise=torch.randn(batch.reference.shape, generator=_generator()),
            drop_reference_image=no_drop,
            drop_reference_net=no_drop,
            drop_pose=no_drop,
        )
        cond, _ = pipeline.conditioning(
            batch.reference,
            pose,
            batch.rotation,
            noise_aug_strength=strength,
            fps=fps,
            motion_bucket_id=bucket,
            generator=_generator(),
        )
        scalings = edm_scalings(sigma)
        window = SimpleNamespace(
            shared=cond.shared,
            per_image=cond.per_image,
            per_view=cond.per_view,
            timestep=scalings.c_noise.repeat_interleave(views),
        )
        c_in = scalings.c_in.reshape(b, 1, 1, 1, 1, 1)
        HVGDenoiser(module.net)(c_in * x_sigma, sigma, window)

    (train_args, train_kwargs), (infer_args, infer_kwargs) = net_calls.calls
    for name, trained, inferred in zip(
        ("sample", "c_noise", "clip embedding", "added time ids"), train_args, infer_args
    ):
        # The network repeats per-sample rows over views itself (B → B·V, view-major).
        if inferred.shape[0] == b:
            inferred = inferred.repeat_interleave(views, dim=0)
        assert torch.equal(trained, inferred), name
    for name in ("pose_maps", "cameras", "num_views", "image_only_indicator"):
        trained, inferred = train_kwargs.get(name), infer_kwargs.get(name)
        same = trained is inferred is None or (
            torch.equal(trained, inferred)
            if isinstance(trained, torch.Tensor)
            else trained == inferred
        )
        assert same, name
    # The ReferenceNet bank: training computes it inside the module, inference once up front.
    trained_bank = bank_calls.calls[0]
    assert set(trained_bank) == {
        k[len(REFERENCE_PREFIX) :] for k in cond.shared if k.startswith(REFERENCE_PREFIX)
    }
    for key, value in trained_bank.items():
        assert torch.equal(value, cond.shared[REFERENCE_PREFIX + key]), key
        assert torch.equal(value, infer_kwargs["reference_features"][key]), key
    # The parts named: CLIP, the concatenated latent (unscaled mode of the augmented image), ids.
    reference = encoders.reference_conditioning(
        batch.reference,
        torch.full((b,), strength),
        torch.randn(batch.reference.shape, generator=_generator()),
        fps=fps,
        motion_bucket_id=bucket,
    )
    assert torch.equal(reference.clip_embedding, cond.shared["clip_embedding"])
    assert torch.equal(reference.image_latents, cond.shared["image_latents"])
    assert torch.equal(reference.added_time_ids, cond.shared["added_time_ids"])
    assert reference.added_time_ids[0].tolist() == pytest.approx([fps - 1, bucket, strength])
    assert torch.equal(cond.per_view["cameras"], relative_rotations(batch.rotation))


def _generator() -> torch.Generator:
    return torch.Generator().manual_seed(11)


def test_the_reference_net_reads_the_clean_latent_in_training(tiny_svd_dir: Path) -> None:
    # Inference feeds the ReferenceNet vae.encode(2x − 1).mode() (no augmentation noise);
    # training must do the same, whatever cond_aug a row drew.
    config = load_config("tiny", [f"model.svd_dir={tiny_svd_dir}", "data.dataset=procedural"])
    module = build_trainable(config, str(tiny_svd_dir)).eval()
    encoders = load_frozen_encoders(tiny_svd_dir)
    calls = _Recorder(module.reference_net)
    source = ProceduralSource(1, image_size=config.data.image_size)
    batch = collate([source.sample(0, views=1, frames=1, seed=0)])
    latent_hw = config.data.image_size // encoders.vae_factor
    no_drop = torch.zeros(1, dtype=torch.bool)
    with torch.no_grad():
        network_prediction(
            module,
            encoders,
            batch,
            torch.randn(1, 1, 1, 4, latent_hw, latent_hw),
            torch.ones(1),
            config,
            cond_aug=torch.full((1,), 0.5),
            reference_noise=torch.randn(batch.reference.shape),
            drop_reference_image=no_drop,
            drop_reference_net=no_drop,
            drop_pose=no_drop,
        )
        clean = encoders.vae.encode(batch.reference * 2 - 1).latent_dist.mode()
    assert torch.equal(calls.calls[0][0][0], clean)


# ----------------------------------------------------------------------------- EDM, one copy


def _old_formulas(sigma: float) -> tuple[float, float, float, float]:
    """The coefficients as each former copy wrote them (float64 closed form)."""
    return (
        1 / (sigma**2 + 1),
        -sigma / math.sqrt(sigma**2 + 1),
        1 / math.sqrt(sigma**2 + 1),
        0.25 * math.log(sigma),
    )


@pytest.mark.parametrize("sigma", [0.002, 0.03, 0.5, 1.0, 7.3, 80.0, 700.0])
def test_edm_scalings_give_the_numbers_every_former_copy_gave(sigma: float) -> None:
    expected = _old_formulas(sigma)
    double = edm_scalings(torch.tensor([sigma], dtype=torch.float64))
    got = (double.c_skip, double.c_out, double.c_in, double.c_noise)
    for value, want in zip(got, expected):
        assert value.dtype == torch.float64
        assert float(value) == pytest.approx(want, rel=1e-15, abs=1e-300)
    # The training objective's copy ran in the dtype of σ (float32 in the loop).
    single = edm_scalings(torch.tensor([sigma]))
    assert single.c_in.dtype == torch.float32
    variance = torch.tensor([sigma]).square() + 1.0
    assert torch.equal(single.c_skip, 1.0 / variance)
    assert torch.equal(single.c_out, -torch.tensor([sigma]) / variance.sqrt())
    assert torch.equal(single.c_in, 1.0 / variance.sqrt())
    assert torch.equal(single.c_noise, 0.25 * torch.tensor([sigma]).log())
    # A Python number (the old hvg_model.edm cast to float32).
    assert edm_scalings(sigma).c_in.dtype == torch.float32


def test_reference_net_presents_the_reference_at_sigma_min_with_the_shared_scalings(
    tiny_svd_dir: Path,
) -> None:
    # Its former copy: c_in = 1/√(σ²+1) and c_noise = ¼ ln σ in Python floats at σ_min.
    from hvg_model.loading import load_svd_unet
    from hvg_model.reference_net import HVGReferenceNet

    net = HVGReferenceNet.from_svd_unet(load_svd_unet(tiny_svd_dir)).eval()
    sigma = net.config.reference_sigma
    seen: list[torch.Tensor] = []
    net.time_proj.register_forward_hook(lambda _m, args, _out: seen.append(args[0]))
    conv_inputs: list[torch.Tensor] = []
    net.conv_in.register_forward_hook(lambda _m, args, _out: conv_inputs.append(args[0]))
    latents = torch.randn(1, 4, 8, 8)
    with torch.no_grad():
        net(latents, torch.randn(1, 1, 32), torch.tensor([[6.0, 127.0, 0.02]]))
    assert float(seen[0][0]) == pytest.approx(0.25 * math.log(sigma), rel=1e-6)
    expected = 1 / math.sqrt(sigma**2 + 1) * net.config.latent_scaling_factor * latents
    assert torch.equal(conv_inputs[0][:, :4], expected)


def test_the_sampler_scheduler_copy_agrees_with_hvg_model_edm() -> None:
    # hvg-sampler does not depend on hvg-model, so it keeps a scalar copy; it must agree.
    from hvg_sampler.schedulers.edm_euler import EDMEulerSchedule

    schedule = EDMEulerSchedule(6)
    generator = torch.Generator().manual_seed(0)
    sample = torch.randn(2, 4, 3, 3, generator=generator) * 5
    output = torch.randn(2, 4, 3, 3, generator=generator)
    for index in range(6):
        sigma = schedule.sigmas[index]
        scalings = edm_scalings(sigma)
        torch.testing.assert_close(
            schedule.scale_model_input(sample, index), scalings.c_in * sample, rtol=1e-6, atol=0
        )
        torch.testing.assert_close(
            schedule.to_denoised(output, sample, index),
            denoise(sample, output, sigma.expand(2)),
            rtol=1e-5,
            atol=1e-6,
        )
        torch.testing.assert_close(schedule.timesteps[index], scalings.c_noise)
