"""Hypothesis properties of the whole loop on random grids and window sizes."""

import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from hvg_sampler import build_sampler
from hvg_sampler.testing import CountingDenoiser, IdentityDenoiser, WindowMeanDenoiser

SAMPLERS = ["hvg", "temporal", "view", "human4dit", "mimicmotion", "alternate"]

problems = st.fixed_dictionaries(
    {
        "sampler": st.sampled_from(SAMPLERS),
        "frames": st.integers(1, 16),
        "views": st.integers(1, 7),
        "frame_window": st.integers(3, 8),
        "view_window": st.integers(1, 4),
        "weight": st.sampled_from(
            [
                "flat",
                "pyramid",
                "triangular",
                "gaussian",
                "gaussian-sigma",
                "cosine",
                "overlap-linear",
            ]
        ),
        "normalisation": st.sampled_from(["separate", "joint"]),
        "blend": st.floats(0.0, 1.0),
        "budget": st.sampled_from([None, 30, 10_000]),
        "cfg": st.booleans(),
    }
)


def _build(p, **extra):
    return build_sampler(
        p["sampler"],
        frame_window=p["frame_window"],
        frame_overlap=p["frame_window"] // 2 - 1,
        view_window=p["view_window"],
        view_overlap=max(0, p["view_window"] - 2),
        fusion_weight=p["weight"],
        normalisation=p["normalisation"],
        axis_blend=p["blend"],
        max_images_per_call=p["budget"],
        num_steps=2,
        max_guidance_scale=2.0 if p["cfg"] else 1.0,
        **extra,
    )


@settings(max_examples=60, deadline=None)
@given(problems)
def test_identity_exact_and_calls_match_plan(p):
    sampler = _build(p)
    x = torch.randn(1, p["views"], p["frames"], 1, 2, 2)
    from hvg_sampler import Conditioning

    uncond = Conditioning() if p["cfg"] else None
    assert torch.equal(sampler.predict(IdentityDenoiser(), x, 1.0, uncond_conditioning=uncond), x)
    counter = CountingDenoiser()
    sampler.sample(counter, (1, p["views"], p["frames"], 1, 2, 2), uncond_conditioning=uncond)
    report = sampler.cost(p["frames"], p["views"], cfg=p["cfg"], num_steps=2)
    assert (counter.calls, counter.images) == (report.calls_total, report.image_evaluations_total)


@settings(max_examples=30, deadline=None)
@given(problems)
def test_packing_invariance(p):
    from hvg_sampler import Conditioning

    uncond = Conditioning() if p["cfg"] else None
    shape = (2, p["views"], p["frames"], 1, 2, 2)
    a = _build({**p, "budget": None}).sample(
        WindowMeanDenoiser(), shape, uncond_conditioning=uncond, seed=1
    )
    b = _build({**p, "budget": 10_000}).sample(
        WindowMeanDenoiser(), shape, uncond_conditioning=uncond, seed=1
    )
    assert torch.equal(a.latents, b.latents)


def test_tile_repeat_period_follows_frame_window():
    sampler = build_sampler(
        "mimicmotion", frame_window=5, frame_overlap=1, noise_init="tile-repeat"
    )
    assert sampler.noise_init.period == 5
    noise = sampler.initial_noise((1, 1, 12, 1, 2, 2), seed=0)
    assert torch.equal(noise[:, :, 5:10], noise[:, :, :5])


def test_capped_passes_chunk_the_other_axis():
    from hvg_sampler import Conditioning

    sampler = build_sampler(
        "hvg",
        frame_window=8,
        frame_overlap=2,
        view_window=3,
        view_overlap=1,
        max_views_per_time_window=4,
        max_frames_per_view_window=10,
        num_steps=2,
        max_guidance_scale=1.0,
    )
    plan = sampler.step_plan(20, 7, 0, 1.0)
    time_pass, view_pass = plan.passes
    assert time_pass.view_windows == ((0, 1, 2, 3), (3, 4, 5, 6), (6, 0, 1, 2))  # cyclic, hop 3
    assert view_pass.frame_windows == (tuple(range(10)), tuple(range(8, 18)), tuple(range(10, 20)))
    assert max(w.num_images for w in plan.windows) <= max(8 * 4, 10 * 3)
    x = torch.randn(1, 7, 20, 1, 2, 2)
    assert torch.equal(
        sampler.predict(IdentityDenoiser(), x, 1.0, uncond_conditioning=Conditioning()), x
    )
    counter = CountingDenoiser()
    sampler.sample(counter, (1, 7, 20, 1, 2, 2))
    assert counter.calls == sampler.cost(20, 7, cfg=False, num_steps=2).calls_total
