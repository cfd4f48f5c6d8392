"""EDM objective: SVD's scalings, the v-loss identity, σ sampling, dropout, row draws."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from hvg_model.edm import edm_scalings
from hvg_model.training.objective import (
    draw_rows,
    edm_loss_per_sample,
    sigma_bin_labels,
    sigma_binned_sums,
    v_target,
    weighted_x0_loss_reference,
)


def test_scalings_match_diffusers_euler_scheduler() -> None:
    from diffusers import EulerDiscreteScheduler

    from hvg_model.configs import SVD_SCHEDULER_CONFIG

    scheduler = EulerDiscreteScheduler(**SVD_SCHEDULER_CONFIG)
    scheduler.set_timesteps(5)
    sigmas = scheduler.sigmas[:-1].float()
    scalings = edm_scalings(sigmas)
    c_skip, c_out, c_in, c_noise = scalings.c_skip, scalings.c_out, scalings.c_in, scalings.c_noise
    # diffusers feeds the UNet timesteps = 0.25·ln σ (continuous timesteps, v-prediction).
    torch.testing.assert_close(c_noise, scheduler.timesteps.float(), rtol=1e-5, atol=1e-5)
    generator = torch.Generator().manual_seed(0)
    sample = torch.randn(1, 4, 3, 3, generator=generator)
    output = torch.randn(1, 4, 3, 3, generator=generator)
    for index, timestep in enumerate(scheduler.timesteps):
        # c_in is scale_model_input's factor; x̂0 = c_skip·x + c_out·F is step()'s prediction.
        torch.testing.assert_close(
            scheduler.scale_model_input(sample, timestep), c_in[index] * sample
        )
        scheduler._step_index = index
        x0 = scheduler.step(output, timestep, sample).pred_original_sample
        torch.testing.assert_close(x0, c_skip[index] * sample + c_out[index] * output)


@settings(max_examples=30, deadline=None)
@given(st.floats(min_value=0.002, max_value=700.0), st.integers(min_value=0, max_value=2**31 - 1))
def test_v_loss_equals_edm_weighted_x0_loss(sigma: float, seed: int) -> None:
    generator = torch.Generator().manual_seed(seed)
    x0 = torch.randn(3, 2, 4, 4, 4, generator=generator, dtype=torch.float64)
    noise = torch.randn(x0.shape, generator=generator, dtype=torch.float64)
    prediction = torch.randn(x0.shape, generator=generator, dtype=torch.float64)
    sigmas = torch.full((3,), sigma, dtype=torch.float64)
    x_sigma = x0 + sigma * noise
    fast = edm_loss_per_sample(prediction, x0, x_sigma, sigmas).double()
    oracle = weighted_x0_loss_reference(prediction, x0, x_sigma, sigmas)
    torch.testing.assert_close(fast, oracle, rtol=1e-4, atol=1e-6)


def test_v_target_makes_the_denoiser_exact() -> None:
    x0 = torch.randn(2, 3, 4)
    sigma = torch.tensor([0.5, 30.0])
    x_sigma = x0 + sigma[:, None, None] * torch.randn(2, 3, 4)
    scalings = edm_scalings(sigma)
    denoised = scalings.c_skip[:, None, None] * x_sigma + scalings.c_out[:, None, None] * v_target(
        x0, x_sigma, sigma
    )
    torch.testing.assert_close(denoised, x0, rtol=1e-5, atol=1e-5)


def test_loss_rejects_mismatched_shapes() -> None:
    with pytest.raises(ValueError, match="same shape"):
        edm_loss_per_sample(torch.zeros(2, 3), torch.zeros(2, 4), torch.zeros(2, 4), torch.ones(2))
    with pytest.raises(ValueError, match=r"sigma must have shape \(B,\)"):
        edm_loss_per_sample(torch.zeros(2, 3), torch.zeros(2, 3), torch.zeros(2, 3), torch.ones(3))


def _draw(rows: list[int], step: int = 0, **overrides: float):
    options = dict(
        p_mean=0.7,
        p_std=1.6,
        cond_aug_mean=-3.0,
        cond_aug_std=0.5,
        drop_reference_image=0.1,
        drop_reference_net=0.2,
        drop_pose=0.3,
    )
    options.update(overrides)
    return draw_rows(
        seed=7, step=step, rows=rows, latent_shape=(1, 1, 1, 1, 1), image_shape=(1, 1, 1), **options
    )


def test_sigma_is_log_normal_with_the_configured_moments() -> None:
    draws = _draw(list(range(4000)))
    log_sigma = draws.sigma.log()
    # Standard errors: 1.6/√4000 ≈ 0.025 for the mean, ≈ 0.018 for the std.
    assert abs(float(log_sigma.mean()) - 0.7) < 0.1
    assert abs(float(log_sigma.std()) - 1.6) < 0.08
    assert abs(float(draws.cond_aug.log().mean()) + 3.0) < 0.05


def test_dropout_rates_are_the_configured_probabilities() -> None:
    draws = _draw(list(range(4000)))
    # Binomial standard error at p = 0.3, n = 4000: 0.007; 4 SE tolerance.
    assert abs(float(draws.drop_reference_image.float().mean()) - 0.1) < 0.03
    assert abs(float(draws.drop_reference_net.float().mean()) - 0.2) < 0.03
    assert abs(float(draws.drop_pose.float().mean()) - 0.3) < 0.03
    none = _draw(list(range(200)), drop_reference_image=0.0, drop_reference_net=0.0, drop_pose=0.0)
    assert not none.drop_reference_image.any() and not none.drop_pose.any()


def test_row_draws_do_not_depend_on_how_rows_are_split() -> None:
    together = _draw([0, 1, 2, 3], step=5)
    halves = [_draw([0, 1], step=5), _draw([2, 3], step=5)]
    for name in ("sigma", "noise", "latent_noise", "reference_noise", "drop_pose"):
        joined = torch.cat([getattr(half, name) for half in halves])
        assert torch.equal(getattr(together, name), joined), name
    assert not torch.equal(_draw([0], step=5).sigma, _draw([0], step=6).sigma)


def test_sigma_bins_sum_and_count() -> None:
    edges = [0.5, 2.0]
    assert sigma_bin_labels(edges) == ["<0.5", "0.5-2", ">=2"]
    sums, counts = sigma_binned_sums(
        torch.tensor([0.1, 0.5, 1.0, 3.0]), torch.tensor([1.0, 2.0, 3.0, 4.0]), edges
    )
    assert sums.tolist() == [1.0, 5.0, 4.0]
    assert counts.tolist() == [1.0, 2.0, 1.0]
