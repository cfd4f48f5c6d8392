"""The fusion kernel against the obvious alternative: scatter-add of ``w·y`` and ``w``, divide.

Both fuse one HVG step (T = 72, V = 8, 24/8 temporal and 6/2 cyclic view windows) of random
window outputs; the naive version indexes with advanced indexing (``index_put_`` with
accumulation) as most anchors do. ``--benchmark-disable`` shrinks the latents.
"""

import pytest
import torch

from hvg_sampler import build_sampler
from hvg_sampler.fusion import WindowFusion, fuse_reference
from hvg_sampler.plan import window_weights
from hvg_sampler.testing import assert_close


def benchmarks_disabled(config):
    """pytest-benchmark's own rule: ``--benchmark-enable`` overrides ``--benchmark-disable``."""
    return config.getoption("benchmark_disable") and not config.getoption("benchmark_enable")


@pytest.fixture
def step(request):
    size = 4 if benchmarks_disabled(request.config) else 72
    sampler = build_sampler("hvg", frame_window=24, frame_overlap=8, view_window=6, view_overlap=2)
    plan = sampler.step_plan(72, 8, 0, 1.0)
    omegas = window_weights(plan, 72, 8)
    shape = (1, 8, 72, 4, size, size)
    generator = torch.Generator().manual_seed(0)
    outputs = [
        torch.randn(1, len(w.views), len(w.frames), 4, size, size, generator=generator)
        for w in plan.windows
    ]
    return plan, omegas, outputs, shape


def fuse_fast(plan, omegas, outputs, shape, workspace):
    fusion = WindowFusion(
        plan.windows,
        omegas,
        shape,
        device=torch.device("cpu"),
        dtype=torch.float32,
        workspace=workspace,
    )
    for index, output in enumerate(outputs):
        fusion.add(index, output)
    return fusion.result()


def fuse_naive(plan, omegas, outputs, shape):
    numerator = torch.zeros(shape)
    denominator = torch.zeros(shape[1], shape[2])
    for window, omega, output in zip(plan.windows, omegas, outputs):
        items = torch.arange(shape[0])[:, None, None]
        views = torch.tensor(window.views)[None, :, None]
        frames = torch.tensor(window.frames)[None, None, :]
        weight = omega.float()
        numerator.index_put_(
            (items, views, frames), output * weight[None, :, :, None, None, None], accumulate=True
        )
        denominator.index_put_((views[0], frames[0]), weight, accumulate=True)
    return numerator / denominator[None, :, :, None, None, None]


@pytest.mark.benchmark(group="fusion")
def test_fusion_fast(benchmark, step):
    plan, omegas, outputs, shape = step
    workspace = {}
    fused = benchmark(fuse_fast, plan, omegas, outputs, shape, workspace)
    if shape[-1] == 4:
        assert_close(
            fused.double(),
            fuse_reference(plan.windows, omegas, outputs, shape),
            rtol=1e-5,
            atol=1e-5,
        )


@pytest.mark.benchmark(group="fusion")
def test_fusion_naive_scatter(benchmark, step):
    plan, omegas, outputs, shape = step
    fused = benchmark(fuse_naive, plan, omegas, outputs, shape)
    assert_close(fused, fuse_fast(plan, omegas, outputs, shape, {}), rtol=1e-5, atol=1e-5)
