import pytest
import torch
from hvg_core.errors import InputError

from hvg_sampler import Conditioning, SamplerCallback, build_sampler
from hvg_sampler.noise import IndependentNoise, TileRepeatNoise
from hvg_sampler.testing import (
    CountingDenoiser,
    PerImageDenoiser,
    WindowMeanDenoiser,
    assert_close,
    check_sampler,
    random_conditioning,
)

SAMPLERS = ["hvg", "temporal", "view", "human4dit", "mimicmotion", "alternate"]
SMALL = dict(frame_window=6, frame_overlap=2, view_window=3, view_overlap=1, num_steps=4)
SHAPE = (2, 5, 14, 2, 3, 3)


def _conds(shape=SHAPE):
    b, v, t, c, h, _ = shape
    return random_conditioning(b, v, t, channels=c, size=h), random_conditioning(
        b, v, t, seed=1, channels=c, size=h
    )


@pytest.mark.parametrize("name", SAMPLERS)
def test_builtin_samplers_pass_contract(name):
    check_sampler(lambda **options: build_sampler(name, **options))


@pytest.mark.parametrize("name", SAMPLERS)
@pytest.mark.parametrize("cfg", [False, True])
@pytest.mark.parametrize("cfg_batch", [False, True])
@pytest.mark.parametrize("budget", [None, 40, 10_000])
def test_counted_calls_equal_planner(name, cfg, cfg_batch, budget):
    sampler = build_sampler(
        name,
        **SMALL,
        max_guidance_scale=2.0 if cfg else 1.0,
        cfg_batch=cfg_batch,
        max_images_per_call=budget,
    )
    cond, uncond = _conds()
    counter = CountingDenoiser()
    out = sampler.sample(
        counter, SHAPE, conditioning=cond, uncond_conditioning=uncond if cfg else None
    )
    report = sampler.cost(SHAPE[2], SHAPE[1], batch_size=SHAPE[0], cfg=cfg, num_steps=4)
    assert counter.calls == report.calls_total == out.num_denoiser_calls
    assert counter.images == report.image_evaluations_total == out.image_evaluations
    if budget is not None:
        assert max(s[0] * s[1] * s[2] for s in counter.shapes) <= max(
            budget,
            max(w.num_images for w, _ in report.windows)
            * SHAPE[0]
            * (2 if cfg and cfg_batch else 1),
        )


@pytest.mark.parametrize("name", SAMPLERS)
def test_invariance_to_window_packing(name):
    # research §8 #2: context_batch_size > 1 added every window's output to every context.
    cond, uncond = _conds()
    results = []
    for budget, cfg_batch in [
        (None, True),
        (None, False),
        (60, True),
        (10_000, True),
        (10_000, False),
    ]:
        sampler = build_sampler(
            name, **SMALL, max_guidance_scale=2.5, max_images_per_call=budget, cfg_batch=cfg_batch
        )
        results.append(
            sampler.sample(
                WindowMeanDenoiser(), SHAPE, conditioning=cond, uncond_conditioning=uncond, seed=3
            ).latents
        )
    for other in results[1:]:
        assert torch.equal(results[0], other)


@pytest.mark.parametrize("name", ["hvg", "mimicmotion"])
def test_determinism_across_batch_sizes(name):
    sampler = build_sampler(name, **SMALL, max_guidance_scale=2.0, max_images_per_call=500)
    big_cond, big_uncond = _conds((3, 5, 14, 2, 3, 3))

    def first(c):
        return Conditioning(
            per_frame={k: v[:1] for k, v in c.per_frame.items()},
            per_view={k: v[:1] for k, v in c.per_view.items()},
            per_image={k: v[:1] for k, v in c.per_image.items()},
            shared={k: v[:1] for k, v in c.shared.items()},
        )

    three = sampler.sample(
        PerImageDenoiser(),
        (3, 5, 14, 2, 3, 3),
        conditioning=big_cond,
        uncond_conditioning=big_uncond,
        seed=9,
    )
    one = sampler.sample(
        PerImageDenoiser(),
        (1, 5, 14, 2, 3, 3),
        conditioning=first(big_cond),
        uncond_conditioning=first(big_uncond),
        seed=9,
    )
    assert torch.equal(three.latents[:1], one.latents)
    again = sampler.sample(
        PerImageDenoiser(),
        (3, 5, 14, 2, 3, 3),
        conditioning=big_cond,
        uncond_conditioning=big_uncond,
        seed=9,
    )
    assert torch.equal(three.latents, again.latents)


def test_prefix_stable_noise():
    noise = IndependentNoise()
    small = noise((2, 3, 5, 2, 4, 4), seed=7)
    large = noise((3, 6, 9, 2, 4, 4), seed=7)
    assert torch.equal(large[:2, :3, :5], small)
    assert not torch.equal(noise((1, 1, 1, 2, 4, 4), seed=8), small[:1, :1, :1])
    # Independent of the global RNG (research §8 #10: ADE's random fuse used np.random).
    torch.manual_seed(123)
    assert torch.equal(noise((2, 3, 5, 2, 4, 4), seed=7), small)
    assert abs(float(large.mean())) < 0.1 and abs(float(large.std()) - 1) < 0.1


def test_tile_repeat_noise_is_not_a_noop_regression():
    # research §8 #3: diffusers' repeat_context silently did nothing.
    noise = TileRepeatNoise(period=4)((1, 2, 10, 1, 3, 3), seed=1)
    assert torch.equal(noise[:, :, 4:8], noise[:, :, 0:4])
    assert torch.equal(noise[:, :, 8:10], noise[:, :, 0:2])
    assert not torch.equal(noise[:, :, 0], noise[:, :, 1])
    assert torch.equal(noise[:, :, :4], IndependentNoise()((1, 2, 4, 1, 3, 3), seed=1))


def test_prefix_stable_sampling_with_per_image_denoiser():
    sampler = build_sampler("hvg", **SMALL, max_guidance_scale=1.0)
    short = sampler.sample(PerImageDenoiser(), (1, 5, 10, 2, 3, 3), seed=5).latents
    long = sampler.sample(PerImageDenoiser(), (1, 7, 17, 2, 3, 3), seed=5).latents
    assert torch.equal(long[:, :5, :10], short)


@pytest.mark.parametrize("name", SAMPLERS)
def test_single_full_window_equals_direct(name):
    # Windows as large as the grid: the windowed loop equals the plain SVD loop exactly.
    from hvg_sampler.conditioning import WindowGroup, slice_conditioning
    from hvg_sampler.schedulers import EDMEulerSchedule
    from hvg_sampler.windows import Window

    shape = (1, 4, 9, 2, 3, 3)
    cond, uncond = _conds(shape)
    sampler = build_sampler(
        name,
        frame_window=9,
        frame_overlap=0,
        view_window=4,
        view_overlap=0,
        num_steps=3,
        max_guidance_scale=2.0,
    )
    windowed = sampler.sample(
        WindowMeanDenoiser(), shape, conditioning=cond, uncond_conditioning=uncond, seed=2
    ).latents

    schedule = EDMEulerSchedule(3)
    x = IndependentNoise()(shape, seed=2) * schedule.init_noise_sigma
    full = Window(tuple(range(9)), tuple(range(4)), "full")
    scale = torch.linspace(1.0, 2.0, 9).view(1, 1, 9, 1, 1, 1)
    for i in range(3):
        x_in = schedule.scale_model_input(x, i)
        outs = {}
        for branch, c in (("cond", cond), ("uncond", uncond)):
            wc = slice_conditioning(
                {branch: c},
                [WindowGroup(full, branch)],
                timestep=schedule.timesteps[i],
                step_index=i,
                batch_size=1,
                device=x.device,
            )
            outs[branch] = WindowMeanDenoiser()(x_in, schedule.sigmas[i], wc)
        x = schedule.step(outs["uncond"] + scale * (outs["cond"] - outs["uncond"]), x, i)
    assert torch.equal(windowed, x)


def test_per_image_denoiser_windowed_equals_full_call():
    # No cross-image interaction: every window computes the same value, so fusion is exact.
    from hvg_sampler.conditioning import WindowGroup, slice_conditioning
    from hvg_sampler.windows import Window

    cond, _ = _conds()
    x = torch.randn(SHAPE, generator=torch.Generator().manual_seed(4))
    for name in SAMPLERS:
        sampler = build_sampler(name, **SMALL, max_guidance_scale=1.0, normalisation="joint")
        fused = sampler.predict(PerImageDenoiser(), x, 1.5, conditioning=cond)
        full = Window(tuple(range(14)), tuple(range(5)), "full")
        wc = slice_conditioning(
            {"cond": cond},
            [WindowGroup(full, "cond")],
            timestep=torch.tensor(0.0),
            step_index=0,
            batch_size=2,
            device=x.device,
        )
        assert torch.equal(fused, PerImageDenoiser()(x, torch.tensor(1.5), wc)), name


def test_denoiser_receives_correct_slices_and_shared():
    cond, uncond = _conds()
    seen = []

    def denoiser(latents, sigma, wc):
        b = wc.batch_size
        for g, group in enumerate(wc.groups):
            source = cond if group.branch == "cond" else uncond
            frames, views = list(group.window.frames), list(group.window.views)
            rows = slice(g * b, (g + 1) * b)
            assert wc.frames[g].tolist() == frames and wc.views[g].tolist() == views
            assert torch.equal(
                wc.per_image["signal"][rows], source.per_image["signal"][:, views][:, :, frames]
            )
            assert torch.equal(wc.per_frame["pose"][rows], source.per_frame["pose"][:, frames])
            assert torch.equal(wc.per_view["camera"][rows], source.per_view["camera"][:, views])
            assert torch.equal(wc.shared["embedding"][rows], source.shared["embedding"])
        if len(wc.groups) == 1:
            assert (
                wc.shared["embedding"]
                is (cond if wc.groups[0].branch == "cond" else uncond).shared["embedding"]
            )
        seen.append(wc.branches)
        return latents * 0

    for budget in (None, 10_000):
        build_sampler("hvg", **SMALL, max_guidance_scale=2.0, max_images_per_call=budget).sample(
            denoiser, SHAPE, conditioning=cond, uncond_conditioning=uncond
        )
    assert ("cond", "uncond") in seen and any(len(b) > 2 for b in seen)


def test_guidance_is_svd_per_frame_linear_after_fusion():
    # Denoiser returns 1 for cond and 0 for uncond: guided output = s(t) = linspace(1, 3, T).
    def denoiser(latents, sigma, wc):
        flags = torch.tensor([1.0 if b == "cond" else 0.0 for b in wc.branches]).repeat_interleave(
            wc.batch_size
        )
        return torch.ones_like(latents) * flags.view(-1, 1, 1, 1, 1, 1)

    sampler = build_sampler("hvg", **SMALL, min_guidance_scale=1.0, max_guidance_scale=3.0)
    out = sampler.predict(
        denoiser,
        torch.zeros(SHAPE),
        2.0,
        conditioning=Conditioning(),
        uncond_conditioning=Conditioning(),
    )
    expected = torch.linspace(1.0, 3.0, 14).view(1, 1, 14, 1, 1, 1).expand(SHAPE)
    assert_close(out, expected)


def test_callbacks_called():
    class Recorder(SamplerCallback):
        def __init__(self):
            self.plans, self.windows, self.steps = 0, 0, []

        def on_plan(self, step_index, plan):
            self.plans += 1

        def on_window(self, step_index, group, output):
            self.windows += 1

        def on_step_end(self, step_index, sigma, latents):
            self.steps.append(step_index)

    recorder = Recorder()
    sampler = build_sampler("hvg", **SMALL, max_guidance_scale=1.0)
    sampler.sample(CountingDenoiser(), SHAPE, callbacks=[recorder])
    windows_per_step = len(sampler.cost(14, 5, cfg=False, num_steps=1).windows)
    assert recorder.plans == 4 and recorder.steps == [0, 1, 2, 3]
    assert recorder.windows == 4 * windows_per_step


def test_sigma_dependent_axis_blend():
    sampler = build_sampler(
        "hvg", **SMALL, max_guidance_scale=1.0, axis_blend=lambda sigma: 1.0 if sigma > 1 else 0.0
    )
    report = sampler.cost(14, 5, cfg=False, num_steps=4)
    passes = [{w.pass_name for w, steps in report.windows if s in steps} for s in range(4)]
    assert passes[0] == {"time"} and passes[-1] == {"view"}


def test_input_errors():
    sampler = build_sampler("hvg", **SMALL)
    with pytest.raises(InputError, match="uncond_conditioning"):
        sampler.sample(CountingDenoiser(), SHAPE)
    with pytest.raises(InputError, match=r"\(B, V, T, C, h, w\)"):
        sampler.sample(CountingDenoiser(), (2, 5, 14, 3, 3), uncond_conditioning=Conditioning())
    bad = Conditioning(per_image={"signal": torch.zeros(2, 5, 13, 1)})
    with pytest.raises(InputError, match=r"per_image\['signal'\].*\(B, V, T, \.\.\.\)"):
        sampler.sample(CountingDenoiser(), SHAPE, conditioning=bad, uncond_conditioning=bad)
    with pytest.raises(InputError, match="same per_frame keys"):
        sampler.sample(
            CountingDenoiser(), SHAPE, conditioning=_conds()[0], uncond_conditioning=Conditioning()
        )
    with pytest.raises(InputError, match="must return the input's shape"):
        build_sampler("hvg", **SMALL, max_guidance_scale=1.0).sample(
            lambda x, s, c: x[:, :1], SHAPE
        )
    with pytest.raises(InputError, match="normalisation"):
        build_sampler("hvg", normalisation="mean")
    with pytest.raises(InputError, match="unknown config field") as caught:
        build_sampler("hvg", frame_windw=3)
    assert caught.value.field == "frame_windw"


def test_non_tensor_shared_must_match_when_batched():
    cond = Conditioning(shared={"cache": object()})
    uncond = Conditioning(shared={"cache": object()})
    sampler = build_sampler("hvg", **SMALL, max_guidance_scale=2.0)
    with pytest.raises(InputError, match="cfg_batch=False"):
        sampler.sample(CountingDenoiser(), SHAPE, conditioning=cond, uncond_conditioning=uncond)
    sequential = build_sampler("hvg", **SMALL, max_guidance_scale=2.0, cfg_batch=False)
    sequential.sample(CountingDenoiser(), SHAPE, conditioning=cond, uncond_conditioning=uncond)


def test_third_party_weight_and_sampler_by_name(plugin_registry):
    sampler = build_sampler(
        "thirdparty-temporal", **SMALL, fusion_weight="thirdparty-weight", max_guidance_scale=1.0
    )
    assert sampler.frame_fusion_weight is plugin_registry.load(
        "fusion_weights", "thirdparty-weight"
    )
    x = torch.randn(SHAPE)
    from hvg_sampler.testing import IdentityDenoiser

    assert torch.equal(sampler.predict(IdentityDenoiser(), x, 1.0), x)
    out = sampler.predict(WindowMeanDenoiser(), x, 1.0)
    reference = build_sampler(
        "temporal", **SMALL, fusion_weight="flat", max_guidance_scale=1.0
    ).predict(WindowMeanDenoiser(), x, 1.0)
    assert not torch.equal(out, reference)  # the plugin's weight is really used
