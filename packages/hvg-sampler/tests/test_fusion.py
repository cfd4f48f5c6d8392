import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from hvg_sampler import build_sampler
from hvg_sampler.fusion import WindowFusion, fuse_reference
from hvg_sampler.plan import FusionPass, StepPlan, window_weights
from hvg_sampler.planners import CyclicPlanner, SlidingPlanner
from hvg_sampler.schedulers import EDMEulerSchedule
from hvg_sampler.testing import IdentityDenoiser, assert_close
from hvg_sampler.weights import flat_weights, pyramid_weights, triangular_weights

SAMPLERS = ["hvg", "temporal", "view", "human4dit", "mimicmotion", "alternate"]
WEIGHTS = [
    "flat",
    "pyramid",
    "triangular",
    "gaussian",
    "gaussian-sigma",
    "cosine",
    "overlap-linear",
]


def _plan(frames, views, fw, fo, vw, vo, blend, normalisation, weight):
    time_pass = FusionPass(
        "time", SlidingPlanner()(frames, fw, fo), (tuple(range(views)),), weight, weight, blend
    )
    view_pass = FusionPass(
        "view", (tuple(range(frames)),), CyclicPlanner()(views, vw, vo), weight, weight, 1 - blend
    )
    return StepPlan((time_pass, view_pass), normalisation)


@settings(max_examples=40, deadline=None)
@given(
    frames=st.integers(1, 20),
    views=st.integers(1, 9),
    fw=st.integers(1, 8),
    vw=st.integers(1, 5),
    blend=st.floats(0.1, 0.9),
    normalisation=st.sampled_from(["separate", "joint"]),
    weight=st.sampled_from([flat_weights, pyramid_weights, triangular_weights]),
    seed=st.integers(0, 2**16),
)
def test_fast_fusion_equals_reference(frames, views, fw, vw, blend, normalisation, weight, seed):
    fo, vo = fw // 2, vw // 3
    plan = _plan(frames, views, fw, fo, vw, vo, blend, normalisation, weight)
    omegas = window_weights(plan, frames, views)
    shape = (2, views, frames, 2, 3, 3)
    generator = torch.Generator().manual_seed(seed)
    outputs = [
        torch.randn(
            2, len(w.views), len(w.frames), 2, 3, 3, generator=generator, dtype=torch.float64
        )
        for w in plan.windows
    ]
    fusion = WindowFusion(
        plan.windows, omegas, shape, device=torch.device("cpu"), dtype=torch.float64
    )
    for index, output in enumerate(outputs):
        fusion.add(index, output)
    fast = fusion.result()
    slow = fuse_reference(plan.windows, omegas, outputs, shape)
    assert_close(fast, slow, rtol=1e-12, atol=1e-12)
    # weights of the windows covering each image sum to one
    total = torch.zeros(views, frames, dtype=torch.float64)
    for window, omega in zip(plan.windows, omegas):
        total[torch.tensor(window.views)[:, None], torch.tensor(window.frames)[None, :]] += omega
    assert_close(total, torch.ones_like(total), rtol=0, atol=1e-12)


@pytest.mark.parametrize("sampler", SAMPLERS)
@pytest.mark.parametrize("weight", WEIGHTS)
@pytest.mark.parametrize("normalisation", ["separate", "joint"])
def test_partition_of_unity_exact(sampler, weight, normalisation):
    s = build_sampler(
        sampler,
        frame_window=7,
        frame_overlap=3,
        view_window=3,
        view_overlap=1,
        fusion_weight=weight,
        normalisation=normalisation,
        axis_blend=0.3,
        max_guidance_scale=1.0,
    )
    latents = torch.randn(2, 7, 23, 3, 4, 4, generator=torch.Generator().manual_seed(1))
    for step in (0, 1):
        assert torch.equal(s.predict(IdentityDenoiser(), latents, 3.0, step_index=step), latents)


def test_separate_versus_joint_hand_computed():
    # T=3, V=1; time windows (0,1), (1,2) flat; one view window covering all.
    # Window outputs constant: time W0 = 1, W1 = 3, view pass = 10; blend λ = 0.25.
    plan = StepPlan(
        (
            FusionPass("time", ((0, 1), (1, 2)), ((0,),), flat_weights, flat_weights, 0.25),
            FusionPass("view", ((0, 1, 2),), ((0,),), flat_weights, flat_weights, 0.75),
        ),
        "separate",
    )
    outputs = [
        torch.full((1, 1, 2, 1, 1, 1), 1.0),
        torch.full((1, 1, 2, 1, 1, 1), 3.0),
        torch.full((1, 1, 3, 1, 1, 1), 10.0),
    ]

    def fuse(p):
        omegas = window_weights(p, 3, 1)
        fusion = WindowFusion(
            p.windows, omegas, (1, 1, 3, 1, 1, 1), device=torch.device("cpu"), dtype=torch.float64
        )
        for i, o in enumerate(outputs):
            fusion.add(i, o.double())
        return fusion.result().flatten().tolist()

    # separate: frame 1 time-fused = (1 + 3)/2 = 2 -> 0.25·2 + 0.75·10 = 8.0
    assert fuse(plan) == pytest.approx([0.25 * 1 + 7.5, 0.25 * 2 + 7.5, 0.25 * 3 + 7.5])
    joint = StepPlan(plan.passes, "joint")
    # joint at frame 1: (0.25·1 + 0.25·3 + 0.75·10) / (0.25 + 0.25 + 0.75) = 8.5 / 1.25
    assert fuse(joint) == pytest.approx([(0.25 + 7.5) / 1.0, 8.5 / 1.25, (0.75 + 7.5) / 1.0])


def test_tail_window_weighting_regression_freenoise():
    # research §8 #4: diffusers scales the tail frames of an incomplete last window by
    # w_j / w_{L-k}. Ours: with pyramid weights, windows (0..4) and shifted last (3..7),
    # frame 4 mixes W0 position 4 (weight 1) and W1 position 1 (weight 2).
    plan = StepPlan(
        (FusionPass("time", SlidingPlanner()(8, 5, 2), ((0,),), pyramid_weights, pyramid_weights),),
        "separate",
    )
    assert plan.passes[0].frame_windows == ((0, 1, 2, 3, 4), (3, 4, 5, 6, 7))
    omegas = window_weights(plan, 8, 1)
    assert omegas[0][0].tolist() == pytest.approx([1, 1, 1, 2 / 3, 1 / 3])
    assert omegas[1][0].tolist() == pytest.approx([1 / 3, 2 / 3, 1, 1, 1])


def test_fusing_v_equals_fusing_x0():
    # All windows share x and σ, so x0(fused v) == fused x0(v) (research §4, consequence 1).
    schedule = EDMEulerSchedule(5)
    plan = _plan(11, 5, 4, 2, 3, 1, 0.6, "separate", pyramid_weights)
    omegas = window_weights(plan, 11, 5)
    x = torch.randn(1, 5, 11, 2, 2, 2, dtype=torch.float64)
    outputs = [
        torch.randn(1, len(w.views), len(w.frames), 2, 2, 2, dtype=torch.float64)
        for w in plan.windows
    ]
    fused_v = fuse_reference(plan.windows, omegas, outputs, x.shape)
    x0_of_fused = schedule.to_denoised(fused_v, x, 2)
    x0_outputs = [
        schedule.to_denoised(o, x[:, list(w.views)][:, :, list(w.frames)], 2)
        for w, o in zip(plan.windows, outputs)
    ]
    fused_x0 = fuse_reference(plan.windows, omegas, x0_outputs, x.shape)
    assert_close(x0_of_fused, fused_x0, rtol=1e-10, atol=1e-10)


def test_wrapped_windows_fuse_correctly_regression_relative():
    # research §8 #7: ADE's "relative" fusion uses index values and breaks on wrapped windows.
    plan = StepPlan(
        (
            FusionPass(
                "view", ((0, 1, 2),), CyclicPlanner()(7, 4, 1), pyramid_weights, pyramid_weights
            ),
        ),
        "separate",
    )
    assert any(w.views != tuple(sorted(w.views)) for w in plan.windows)
    omegas = window_weights(plan, 3, 7)
    outputs = [torch.randn(1, 4, 3, 1, 2, 2, dtype=torch.float64) for _ in plan.windows]
    fusion = WindowFusion(
        plan.windows, omegas, (1, 7, 3, 1, 2, 2), device=torch.device("cpu"), dtype=torch.float64
    )
    for i, o in enumerate(outputs):
        fusion.add(i, o)
    assert_close(fusion.result(), fuse_reference(plan.windows, omegas, outputs, (1, 7, 3, 1, 2, 2)))
