import pytest
import torch

from hvg_sampler import build_sampler
from hvg_sampler.testing import (
    IdentityDenoiser,
    PerImageDenoiser,
    assert_close,
    random_conditioning,
)


def _cuda():
    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA device")
    return torch.device("cuda")


def _to(conditioning, device):
    from hvg_sampler import Conditioning

    return Conditioning(
        per_frame={k: v.to(device) for k, v in conditioning.per_frame.items()},
        per_view={k: v.to(device) for k, v in conditioning.per_view.items()},
        per_image={k: v.to(device) for k, v in conditioning.per_image.items()},
        shared={k: v.to(device) for k, v in conditioning.shared.items()},
    )


@pytest.mark.gpu
def test_cuda_matches_cpu_and_noise_is_device_independent():
    device = _cuda()
    sampler = build_sampler(
        "hvg",
        frame_window=6,
        frame_overlap=2,
        view_window=3,
        view_overlap=1,
        num_steps=3,
        max_guidance_scale=2.0,
        max_images_per_call=500,
    )
    shape = (2, 5, 14, 2, 3, 3)
    assert torch.equal(
        sampler.initial_noise(shape, seed=4, device=device).cpu(),
        sampler.initial_noise(shape, seed=4),
    )
    cond, uncond = (
        random_conditioning(2, 5, 14, channels=2, size=3),
        random_conditioning(2, 5, 14, seed=1, channels=2, size=3),
    )
    cpu = sampler.sample(
        PerImageDenoiser(), shape, conditioning=cond, uncond_conditioning=uncond, seed=4
    )
    gpu = sampler.sample(
        PerImageDenoiser(),
        shape,
        conditioning=_to(cond, device),
        uncond_conditioning=_to(uncond, device),
        seed=4,
        device=device,
    )
    assert gpu.latents.device.type == "cuda"
    assert_close(gpu.latents.cpu(), cpu.latents, rtol=1e-4, atol=1e-4)
    x = torch.randn(shape, device=device)
    assert torch.equal(
        build_sampler("hvg", max_guidance_scale=1.0, frame_window=6, frame_overlap=2).predict(
            IdentityDenoiser(), x, 1.0
        ),
        x,
    )
