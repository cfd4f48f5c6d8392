import math

import pytest
import torch
from hvg_core.errors import InputError

from hvg_sampler import build_sampler
from hvg_sampler.schedulers import DiffusersSchedule, EDMEulerSchedule, make_schedule
from hvg_sampler.testing import PerImageDenoiser, assert_close, random_conditioning

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

#: scheduler/scheduler_config.json of stabilityai/stable-video-diffusion-img2vid-xt
SVD_XT_SCHEDULER_CONFIG = {
    "beta_end": 0.012,
    "beta_schedule": "scaled_linear",
    "beta_start": 0.00085,
    "clip_sample": False,
    "interpolation_type": "linear",
    "num_train_timesteps": 1000,
    "prediction_type": "v_prediction",
    "set_alpha_to_one": False,
    "sigma_max": 700.0,
    "sigma_min": 0.002,
    "skip_prk_steps": True,
    "steps_offset": 1,
    "timestep_spacing": "leading",
    "timestep_type": "continuous",
    "trained_betas": None,
    "use_karras_sigmas": True,
}


def test_karras_sigmas_closed_form():
    schedule = EDMEulerSchedule(25)
    assert schedule.sigmas.shape == (26,) and float(schedule.sigmas[-1]) == 0
    assert float(schedule.sigmas[0]) == pytest.approx(700.0)
    assert float(schedule.sigmas[24]) == pytest.approx(0.002)
    assert schedule.init_noise_sigma == pytest.approx(math.sqrt(700.0**2 + 1))
    assert_close(schedule.timesteps, 0.25 * schedule.sigmas[:-1].log())


def _svd_scheduler():
    diffusers = pytest.importorskip("diffusers")
    return diffusers.EulerDiscreteScheduler.from_config(SVD_XT_SCHEDULER_CONFIG)


@pytest.mark.parametrize("steps", [1, 4, 25])
def test_edm_euler_equals_diffusers_svd_config(steps):
    reference = _svd_scheduler()
    reference.set_timesteps(steps)
    ours = EDMEulerSchedule(steps)
    assert_close(ours.sigmas, reference.sigmas.float(), rtol=1e-6, atol=0)
    assert_close(ours.timesteps, reference.timesteps.float(), rtol=1e-6, atol=1e-6)
    assert ours.init_noise_sigma == pytest.approx(float(reference.init_noise_sigma), rel=1e-6)


def test_edm_euler_trajectory_equals_diffusers():
    reference = _svd_scheduler()
    reference.set_timesteps(6)
    ours = EDMEulerSchedule(6)
    generator = torch.Generator().manual_seed(0)
    x_ref = torch.randn(1, 2, 3, 4, 4, generator=generator) * ours.init_noise_sigma
    x_ours = x_ref.clone()
    for i, t in enumerate(reference.timesteps):
        v = torch.tanh(reference.scale_model_input(x_ref, t))
        assert_close(ours.scale_model_input(x_ours, i), reference.scale_model_input(x_ref, t))
        x_ref = reference.step(v, t, x_ref, return_dict=False)[0]
        x_ours = ours.step(torch.tanh(ours.scale_model_input(x_ours, i)), x_ours, i)
        assert_close(x_ours, x_ref, rtol=1e-5, atol=1e-5)


def test_sampler_accepts_diffusers_scheduler_and_matches_edm():
    scheduler = _svd_scheduler()
    shape = (1, 4, 9, 2, 3, 3)
    cond, uncond = (
        random_conditioning(1, 4, 9, channels=2, size=3),
        random_conditioning(1, 4, 9, seed=1, channels=2, size=3),
    )
    options = dict(
        frame_window=5,
        frame_overlap=2,
        view_window=3,
        view_overlap=1,
        num_steps=5,
        max_guidance_scale=2.0,
    )
    ours = build_sampler("hvg", **options).sample(
        PerImageDenoiser(), shape, conditioning=cond, uncond_conditioning=uncond, seed=1
    )
    theirs = build_sampler("hvg", scheduler=scheduler, **options).sample(
        PerImageDenoiser(), shape, conditioning=cond, uncond_conditioning=uncond, seed=1
    )
    assert_close(ours.latents, theirs.latents, rtol=1e-4, atol=1e-4)
    assert scheduler.step_index is None  # the caller's scheduler is left untouched
    assert isinstance(make_schedule(scheduler, 3), DiffusersSchedule)


def test_prediction_types():
    x, out = torch.full((2,), 3.0), torch.full((2,), 0.5)
    assert torch.equal(EDMEulerSchedule(2, prediction_type="sample").to_denoised(out, x, 0), out)
    eps = EDMEulerSchedule(2, prediction_type="epsilon")
    assert_close(eps.to_denoised(out, x, 0), x - eps.sigmas[0] * out)


def test_schedule_errors():
    with pytest.raises(InputError):
        make_schedule("ddim", 5)
    with pytest.raises(InputError):
        EDMEulerSchedule(0)
    with pytest.raises(InputError):
        make_schedule(object(), 5)


def test_schedulers_are_a_registered_kind_chosen_by_name(monkeypatch):
    """``hvg_register_schedulers``: the built-in and a plugin's schedule, both by name."""
    import types

    from hvg_core import registry as registry_module
    from hvg_core.hookspecs import hookimpl
    from hvg_core.registry import Registry, make_plugin_manager

    class HalvedEDM(EDMEulerSchedule):
        """SVD's schedule with σ_max halved (a plugin's)."""

        def __init__(self, num_steps: int) -> None:
            super().__init__(num_steps, sigma_max=350.0)

    @hookimpl
    def hvg_register_schedulers(register):
        register("halved-edm", HalvedEDM)

    manager = make_plugin_manager()
    manager.register(types.SimpleNamespace(hvg_register_schedulers=hvg_register_schedulers))
    monkeypatch.setattr(registry_module, "_REGISTRY", Registry(manager))
    assert {"edm-euler", "halved-edm"} <= set(registry_module.get_registry().names("schedulers"))
    assert isinstance(make_schedule("edm-euler", 4), EDMEulerSchedule)
    assert float(make_schedule("halved-edm", 4).sigmas[0]) == pytest.approx(350.0)
    sampler = build_sampler("temporal", frame_window=2, frame_overlap=1, num_steps=2,
                            max_guidance_scale=1.0, scheduler="halved-edm")  # fmt: skip
    out = sampler.sample(lambda x, s, c: torch.zeros_like(x), (1, 1, 3, 1, 2, 2))
    assert torch.equal(out.sigmas, HalvedEDM(2).sigmas)
    with pytest.raises(InputError, match="halved-edm") as caught:
        make_schedule("ddim", 3)
    assert caught.value.field == "scheduler"
