"""The training budget of windows, and guidance at T = 1 (issue 17)."""

import pytest
import torch
from hvg_core.errors import InputError

from hvg_sampler import Conditioning, build_sampler
from hvg_sampler.budget import PAPER_BUDGET, WindowBudget, budget_from_layouts, scaled_overlap
from hvg_sampler.testing import CountingDenoiser, assert_close

# The paper's Table 2 sampling: T = 72 frames, V = 8 views, temporal 24/8, view 6/2.
PAPER_SAMPLING = dict(frame_window=24, frame_overlap=8, view_window=6, view_overlap=2)


def _images_per_window(shape):
    _, views, frames = shape[:3]
    return views * frames


@pytest.mark.parametrize("name", ["hvg", "temporal", "view", "alternate", "human4dit"])
def test_paper_settings_stay_within_the_training_budget(name):
    sampler = build_sampler(name, **PAPER_SAMPLING, num_steps=2, max_guidance_scale=3.0)
    counter = CountingDenoiser()
    shape = (1, 8, 72, 1, 1, 1)
    sampler.sample(counter, shape, conditioning=Conditioning(), uncond_conditioning=Conditioning())
    # Every call holds one window per CFG branch (cfg_batch, no packing): 2 rows of one window.
    assert counter.calls > 0
    for call_shape in counter.shapes:
        assert call_shape[0] == 2
        assert _images_per_window(call_shape) <= 72, call_shape
        assert call_shape[2] <= 24, call_shape
    report = sampler.cost(72, 8, cfg=True, num_steps=2)
    assert report.peak_images_per_window <= 72 and report.peak_frames_per_window <= 24
    assert report.to_json()["budget"]["max_images_per_window"] == 72


def test_without_a_budget_the_paper_settings_exceed_it():
    # The check above can fail: unbounded windows hold all 8 views × 24 frames (192) and
    # 6 views × all 72 frames (432), as the audit found.
    sampler = build_sampler(
        "hvg",
        **PAPER_SAMPLING,
        num_steps=1,
        max_guidance_scale=1.0,
        max_images_per_window=None,
        max_frames_per_window=None,
    )
    counter = CountingDenoiser()
    sampler.sample(counter, (1, 8, 72, 1, 1, 1))
    sizes = sorted({_images_per_window(s) for s in counter.shapes})
    assert sizes == [192, 432]
    assert max(s[2] for s in counter.shapes) == 72


def test_budget_windows_for_paper_settings():
    sampler = build_sampler("hvg", **PAPER_SAMPLING, max_guidance_scale=1.0)
    plan = sampler.step_plan(72, 8, 0, 1.0)
    time_pass, view_pass = plan.passes
    # 24-frame windows hold 72 // 24 = 3 views; the 6/2 view overlap scaled to 3 views is 1.
    frame_spans = [(w[0], w[-1]) for w in time_pass.frame_windows]
    assert frame_spans == [(0, 23), (16, 39), (32, 55), (48, 71)]
    assert {len(w) for w in time_pass.view_windows} == {3}
    # 6-view windows hold 72 // 6 = 12 frames; the 24/8 frame overlap scaled to 12 is 4.
    assert {len(w) for w in view_pass.frame_windows} == {12}
    starts = [w[0] for w in view_pass.frame_windows]
    assert starts[:3] == [0, 8, 16] and view_pass.frame_windows[-1][-1] == 71


def test_window_larger_than_the_budget_is_refused():
    with pytest.raises(InputError, match="frame_window 32 exceeds"):
        build_sampler("hvg", frame_window=32)
    with pytest.raises(InputError, match="view_window 80 exceeds"):
        build_sampler("hvg", view_window=80, view_overlap=2)
    # A config round trip keeps "no budget" (None differs from the default).
    sampler = build_sampler("hvg", max_images_per_window=None, max_frames_per_window=None)
    from hvg_sampler import sampler_from_config

    rebuilt = sampler_from_config(sampler.to_config())
    assert rebuilt.budget.max_images is None and rebuilt.budget.max_frames is None


def test_budget_helpers():
    assert budget_from_layouts([[8, 9], [6, 12], [4, 18], [12, 6], [3, 24]]) == WindowBudget(
        72, 24, "training layout"
    )
    assert budget_from_layouts([(48, 1)]).max_images == 48
    assert PAPER_BUDGET.views_for(24) == 3 and PAPER_BUDGET.frames_for(6) == 12
    assert PAPER_BUDGET.frames_for(1) == 24
    assert scaled_overlap(12, 24, 8) == 4 and scaled_overlap(3, 6, 2) == 1
    assert scaled_overlap(1, 6, 2) == 0 and scaled_overlap(4, 6, 0) == 0
    with pytest.raises(InputError):
        budget_from_layouts([])
    with pytest.raises(InputError):
        WindowBudget(max_images=0)


def _cond_one_uncond_zero(latents, sigma, wc):
    flags = torch.tensor([1.0 if b == "cond" else 0.0 for b in wc.branches])
    return torch.ones_like(latents) * flags.repeat_interleave(wc.batch_size).view(-1, 1, 1, 1, 1, 1)


@pytest.mark.parametrize("name", ["view", "hvg"])
def test_single_frame_gets_guidance(name):
    # T = 1 (Table 1's multi-view images): SVD's ramp linspace(1, 3, 1) would be 1.0 (no
    # guidance); HVG uses max_guidance_scale for every view.
    sampler = build_sampler(
        name, view_window=3, view_overlap=1, min_guidance_scale=1.0, max_guidance_scale=2.5
    )
    shape = (1, 5, 1, 2, 2, 2)
    out = sampler.predict(
        _cond_one_uncond_zero,
        torch.zeros(shape),
        1.0,
        conditioning=Conditioning(),
        uncond_conditioning=Conditioning(),
    )
    assert_close(out, torch.full(shape, 2.5))
