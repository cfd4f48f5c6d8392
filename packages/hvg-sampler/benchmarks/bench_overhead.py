"""Sampler overhead (planning, slicing, fusion, guidance, scheduler) vs a tiny SVD UNet.

Goal (issue 5): for T = 72, V = 8, 72×72×4 latents and 25 steps, the sampler's own work with a
near-free mock denoiser is at most 5% of the time the tiny test UNet spends in its denoiser
calls for the same job. Run with ``--benchmark-enable -s`` for the full sizes; the default
``--benchmark-disable`` run shrinks everything to a few seconds and runs the real UNet through
the sampler end to end.

The UNet's time for the full job is measured per call shape (one view per call, the job's
frame counts) and scaled by the images the plan evaluates: running the whole job through even a
tiny UNet takes hours on a CPU. Both sides run with one intra-op thread: on a shared machine
two OpenMP threads can oversubscribe the cores and slow small kernels by 100× (measured here),
which would distort the ratio either way.
"""

import time

import pytest
import torch

from hvg_sampler import Conditioning, build_sampler

FULL = dict(
    frames=72,
    views=8,
    size=72,
    steps=25,
    frame_window=24,
    frame_overlap=8,
    view_window=6,
    view_overlap=2,
)
SMOKE = dict(
    frames=4,
    views=2,
    size=8,
    steps=1,
    frame_window=2,
    frame_overlap=1,
    view_window=1,
    view_overlap=0,
)


def benchmarks_disabled(config):
    """pytest-benchmark's own rule: ``--benchmark-enable`` overrides ``--benchmark-disable``."""
    return config.getoption("benchmark_disable") and not config.getoption("benchmark_enable")


@pytest.fixture
def one_thread():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture
def job(request):
    disabled = benchmarks_disabled(request.config)
    return dict(SMOKE if disabled else FULL, full=not disabled)


def _sampler(job):
    return build_sampler(
        "hvg",
        frame_window=job["frame_window"],
        frame_overlap=job["frame_overlap"],
        view_window=job["view_window"],
        view_overlap=job["view_overlap"],
        num_steps=job["steps"],
        min_guidance_scale=1.0,
        max_guidance_scale=3.0,
    )


def _identity(latents, sigma, conditioning):
    return latents


def _run_mock(job):
    sampler = _sampler(job)
    shape = (1, job["views"], job["frames"], 4, job["size"], job["size"])
    start = time.perf_counter()
    out = sampler.sample(
        _identity, shape, conditioning=Conditioning(), uncond_conditioning=Conditioning(), seed=0
    )
    return time.perf_counter() - start, out


def tiny_unet(sample_size):
    diffusers = pytest.importorskip("diffusers")
    torch.manual_seed(0)
    return diffusers.UNetSpatioTemporalConditionModel(
        sample_size=sample_size,
        in_channels=8,
        out_channels=4,
        down_block_types=("DownBlockSpatioTemporal", "CrossAttnDownBlockSpatioTemporal"),
        up_block_types=("CrossAttnUpBlockSpatioTemporal", "UpBlockSpatioTemporal"),
        block_out_channels=(32, 64),
        layers_per_block=1,
        cross_attention_dim=32,
        num_attention_heads=(4, 8),
        addition_time_embed_dim=8,
        projection_class_embeddings_input_dim=24,
    ).eval()


class UNetDenoiser:
    """SVD-style denoiser: views fold into the batch, the reference latent is concatenated."""

    def __init__(self, unet):
        self.unet = unet

    @torch.no_grad()
    def __call__(self, latents, sigma, conditioning):
        n, v, t, c, h, w = latents.shape
        reference = conditioning.shared["image_latent"]  # (N, 4, h, w) after batching
        if reference.shape[0] != n:
            reference = reference.expand(n, -1, -1, -1)
        model_in = torch.cat([latents, reference[:, None, None].expand(n, v, t, c, h, w)], dim=3)
        embedding = conditioning.shared["embedding"]
        embedding = embedding.expand(n, -1, -1) if embedding.shape[0] != n else embedding
        out = self.unet(
            model_in.reshape(n * v, t, 2 * c, h, w),
            conditioning.timestep.expand(n * v),
            embedding.repeat_interleave(v, 0),
            torch.tensor([[6.0, 127.0, 0.02]]).expand(n * v, 3),
        ).sample
        return out.reshape(n, v, t, c, h, w)


def _unet_conditioning(size, seed):
    generator = torch.Generator().manual_seed(seed)
    return Conditioning(
        shared={
            "image_latent": torch.randn(1, 4, size, size, generator=generator),
            "embedding": torch.randn(1, 1, 32, generator=generator),
        }
    )


def _unet_seconds_per_image(unet, frames, size):
    denoiser = UNetDenoiser(unet)
    cond = _unet_conditioning(size, 0)
    from hvg_sampler.conditioning import WindowConditioning, WindowGroup
    from hvg_sampler.windows import Window

    window = Window(tuple(range(frames)), (0,), "probe")
    wc = WindowConditioning(
        groups=(WindowGroup(window, "cond"),),
        frames=torch.zeros(1, frames, dtype=torch.long),
        views=torch.zeros(1, 1, dtype=torch.long),
        per_frame={},
        per_view={},
        per_image={},
        shared=dict(cond.shared),
        timestep=torch.tensor(0.5),
        step_index=0,
        batch_size=1,
    )
    latents = torch.randn(1, 1, frames, 4, size, size)
    start = time.perf_counter()
    denoiser(latents, torch.tensor(1.0), wc)
    return (time.perf_counter() - start) / frames


def test_sampler_overhead_vs_tiny_unet(benchmark, job, one_thread):
    seconds, out = benchmark.pedantic(_run_mock, args=(job,), rounds=1, iterations=1)
    sampler = _sampler(job)
    report = sampler.cost(
        job["frames"], job["views"], batch_size=1, cfg=True, num_steps=job["steps"]
    )
    assert out.num_denoiser_calls == report.calls_total
    unet = tiny_unet(job["size"])
    if job["full"]:
        # Per-image UNet time for each window length of the plan, scaled by the plan's images.
        per_image = {
            t: _unet_seconds_per_image(unet, t, job["size"])
            for t in {len(w.frames) for w, _ in report.windows}
        }
        unet_seconds = 0.0
        for step in range(job["steps"]):
            plan = sampler.step_plan(job["frames"], job["views"], step, 1.0)
            for call in sampler.calls(plan, batch_size=1, cfg=True):
                unet_seconds += sum(
                    g.window.num_images * per_image[len(g.window.frames)] for g in call.groups
                )
    else:
        # Smoke: the real UNet through the sampler, end to end.
        shape = (1, job["views"], job["frames"], 4, job["size"], job["size"])
        start = time.perf_counter()
        result = sampler.sample(
            UNetDenoiser(unet),
            shape,
            conditioning=_unet_conditioning(job["size"], 0),
            uncond_conditioning=_unet_conditioning(job["size"], 1),
            seed=0,
        )
        unet_seconds = time.perf_counter() - start - seconds
        assert torch.isfinite(result.latents).all()
    ratio = seconds / unet_seconds
    benchmark.extra_info.update(
        sampler_seconds=seconds,
        unet_seconds=unet_seconds,
        overhead_ratio=ratio,
        image_evaluations=report.image_evaluations_total,
    )
    print(
        f"\nsampler overhead {seconds:.2f} s, tiny-UNet denoiser time {unet_seconds:.1f} s, "
        f"ratio {100 * ratio:.3f}% ({report.image_evaluations_total} image evaluations)"
    )
    if job["full"]:
        assert ratio <= 0.05
