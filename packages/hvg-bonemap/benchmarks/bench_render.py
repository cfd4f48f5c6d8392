"""Bone-map renderer speed: 54 ellipsoids, 8 views, 576 x 576, depth + normal + mask.

Compares, in the same run, the analytic renderer with an Embree ray cast of the same ellipsoids
as icosphere meshes (1280 faces each, BVH built once per frame and shared by the 8 views), with
the renderer before issue 14 (``_anchor_analytic.py``, kept verbatim) frame by frame, and its
default CPU kernel (compiled numba loop) with its torch kernel (the CUDA path).
Run with ``uv run pytest packages/hvg-bonemap/benchmarks --benchmark-enable``.

Profile of the default CPU path (issue 14, CPU ms per 576² view, 1 thread, walking body frames
0-23, 8 views per call: ~12.1 k spans, ~225 k span pixels, ~165 k covered pixels; 96 calls,
load 0.9): scene flattening 0.09, instance table 0.06, span table 0.20 (float64 torch, shared
with CUDA), compiled kernel 0.39, of which 0.18 is clearing the 7 MB of maps per view and 0.21
the span pixels (depth test, then shading of the winners). The torch kernel it replaces on CPU
spent ~1 ms/view in ~25 tensor passes over the candidate list (line profile per 8-view call:
candidate resolve 3.3-3.9 ms, normal and mask writes 2.5-3, shading 1.9, map clears 0.9); the
float64 set-up is shared. What the torch kernel learned (it still runs on CUDA): no compaction
before the z-reduce, the z-resolve in the cleared depth map as int32, ties checked with one
scatter of hit ordinals, per-item clears while in cache, no ``torch.where``/``masked_fill``/
bool casts or ``sqrt`` of zeros on per-pixel arrays (3-45x slow paths on this CPU).

Same-run figures, 1 thread, 2-core machine, load average 0.8 (2026-12-06): compiled kernel
0.64 ms/view, torch kernel 1.31 (2.06x, CPU time alike); current renderer 0.66 against 2.58
ms/view for the pre-issue-14 renderer (3.92x); Embree mesh ray cast 32.2 ms/view. 24 frames x 8
views in one call: 3.2 ms/view (torch kernel 4.7), most of it page faults of 1.3 GB of fresh
output maps. With 2 torch threads under load the torch kernel was 10-30x slower (96 ms/view at
load 7): the set-up runs on one thread (``AnalyticRenderer(cpu_threads=1)``, the default).
"""

import importlib.util
import os
import statistics
import time
from pathlib import Path

import pytest
import torch

from hvg_bonemap import (
    AnalyticRenderer,
    Ellipsoids,
    ellipsoids_from_joints,
    joints_from_smplx_params,
    orbit_cameras,
    render,
)
from hvg_bonemap.motions import walk

VIEWS, SIZE = 8, 576


def _anchor_renderer():
    """The pre-issue-14 renderer from ``_anchor_analytic.py`` (not an importable package)."""
    path = Path(__file__).with_name("_anchor_analytic.py")
    spec = importlib.util.spec_from_file_location("hvg_bonemap_bench_anchor", path)
    assert spec is not None and spec.loader is not None, path
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.AnalyticRenderer()


@pytest.fixture
def one_thread():
    # Small kernels on a shared 2-core machine: a second OpenMP thread spins whenever another
    # process holds the other core (measured 10-30x slower), so bone maps run on one thread.
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="module")
def scene():
    joints = joints_from_smplx_params(walk(24))
    ell = ellipsoids_from_joints(joints)  # (24, 54)
    cams = orbit_cameras(
        VIEWS,
        elevation_deg=10.0,
        distance=3.0,
        fov_deg=40.0,
        width=SIZE,
        height=SIZE,
        target=joints[0, 0],
    )
    assert ell.count == 54
    return ell, cams


def frame(ell: Ellipsoids, i: int) -> Ellipsoids:
    return Ellipsoids(ell.centers[i], ell.rotations[i], ell.radii[i])


def test_bench_analytic_8_views(benchmark, scene):
    ell, cams = scene
    out = benchmark(render, frame(ell, 5), cams)
    assert out.depth.shape == (VIEWS, SIZE, SIZE) and out.mask.any()
    if not benchmark.disabled:
        benchmark.extra_info["ms_per_view"] = benchmark.stats.stats.median * 1000 / VIEWS


def test_bench_embree_mesh_8_views(benchmark, scene):
    pytest.importorskip("embreex")
    pytest.importorskip("trimesh")  # bench dependency group: Embree as installed with trimesh
    from hvg_bonemap.renderers.embree_mesh import EmbreeMeshRenderer

    ell, cams = scene
    renderer = EmbreeMeshRenderer(subdivisions=3)
    out = benchmark(renderer, frame(ell, 5), cams)
    assert out.mask.any()
    if not benchmark.disabled:
        benchmark.extra_info["ms_per_view"] = benchmark.stats.stats.median * 1000 / VIEWS


def test_bench_analytic_24_frames_x_8_views(benchmark, scene):
    """Frames x views in one call: per-view cost stays flat; memory is bounded by chunking."""
    ell, cams = scene
    frames = 2 if benchmark.disabled else 24  # smoke mode stays short
    batch = Ellipsoids(
        ell.centers[None, :frames], ell.rotations[None, :frames], ell.radii[None, :frames]
    )
    out = benchmark.pedantic(
        render, args=(batch, cams[:, None]), rounds=1 if benchmark.disabled else 3
    )
    assert out.depth.shape == (VIEWS, frames, SIZE, SIZE)
    if not benchmark.disabled:
        benchmark.extra_info["ms_per_view"] = benchmark.stats.stats.median * 1000 / (VIEWS * frames)


def test_same_run_ratio_against_embree(benchmark, scene, capsys):
    """Median wall time per view of both renderers, interleaved in one run, and their ratio."""
    pytest.importorskip("embreex")
    from hvg_bonemap.renderers.embree_mesh import EmbreeMeshRenderer

    ell, cams = scene
    renderer = EmbreeMeshRenderer(subdivisions=3)
    repeats = 1 if benchmark.disabled else 15
    analytic, embree = [], []
    render(frame(ell, 0), cams)  # warm-up
    for r in range(repeats):
        e = frame(ell, r % 24)
        start = time.perf_counter()
        render(e, cams)
        analytic.append((time.perf_counter() - start) * 1000 / VIEWS)
        start = time.perf_counter()
        renderer(e, cams)
        embree.append((time.perf_counter() - start) * 1000 / VIEWS)
    a, m = statistics.median(analytic), statistics.median(embree)
    benchmark.extra_info.update(
        analytic_ms_per_view=a, embree_ms_per_view=m, ratio=m / a, threads=torch.get_num_threads()
    )
    with capsys.disabled():
        print(
            f"\nanalytic {a:.2f} ms/view, embree mesh {m:.2f} ms/view, ratio {m / a:.1f}x ({repeats} runs)"
        )
    benchmark.pedantic(lambda: None, rounds=1)
    assert a > 0 and m > 0


def _interleaved_medians(benchmark, scene, renderers, repeats, label, capsys):
    """Median wall and CPU ms/view of each renderer, frame by frame in turn, in one run.

    Records both in ``benchmark.extra_info`` (with the ratios of the second renderer to the
    first) and prints them. Returns ``((wall, cpu), (wall, cpu))`` of the two renderers.
    """
    ell, cams = scene
    repeats = 1 if benchmark.disabled else repeats
    timings: dict[str, list[tuple[float, float]]] = {name: [] for name in renderers}
    for renderer in renderers.values():
        renderer(frame(ell, 0), cams)  # warm-up (the compiled kernel loads from its cache)
    for r in range(repeats):
        e = frame(ell, r % 24)
        for name, renderer in renderers.items():
            wall, cpu = time.perf_counter(), time.process_time()
            out = renderer(e, cams)
            timings[name].append(
                (
                    (time.perf_counter() - wall) * 1000 / VIEWS,
                    (time.process_time() - cpu) * 1000 / VIEWS,
                )
            )
            del out
    first, second = renderers
    (a, a_cpu), (b, b_cpu) = (
        tuple(statistics.median(t[k] for t in timings[name]) for k in (0, 1))
        for name in (first, second)
    )
    load = os.getloadavg()
    benchmark.extra_info.update(
        {
            f"{first}_ms_per_view": a,
            f"{second}_ms_per_view": b,
            "speedup": b / a,
            f"{first}_cpu_ms_per_view": a_cpu,
            f"{second}_cpu_ms_per_view": b_cpu,
            "cpu_speedup": b_cpu / a_cpu,
            "loadavg": load[0],
        }
    )
    with capsys.disabled():
        print(
            f"\n{label}, 1 thread: {first} {a:.2f} ms/view, {second} {b:.2f} ms/view, "
            f"speedup {b / a:.2f}x; CPU time {a_cpu:.2f} vs {b_cpu:.2f} ms/view, "
            f"{b_cpu / a_cpu:.2f}x ({repeats} frames), loadavg {load[0]:.2f} {load[1]:.2f}"
        )
    benchmark.pedantic(lambda: None, rounds=1)
    return (a, a_cpu), (b, b_cpu)


def test_same_run_ratio_against_previous_algorithm(benchmark, scene, capsys, one_thread):
    """Current vs pre-issue-14 renderer, interleaved frame by frame in one run (1 thread).

    Wall time and process CPU time per view; CPU time leaves out the time this (niced) process
    waits for a core on a loaded machine, so its ratio is the steadier one.
    """
    ell, cams = scene
    previous = _anchor_renderer()
    (a, a_cpu), (b, b_cpu) = _interleaved_medians(
        benchmark, scene, {"current": render, "previous": previous}, 24, "bone maps", capsys
    )
    ours, theirs = render(frame(ell, 7), cams), previous(frame(ell, 7), cams)
    assert torch.equal(ours.mask, theirs.mask) and torch.equal(ours.index, theirs.index)
    assert (ours.depth - theirs.depth).abs().max() < 1e-5
    assert (ours.normal - theirs.normal).abs().max() < 1e-3
    if not benchmark.disabled:
        # Floor of the issue-14 renderer: measured 3.87-3.92x (CPU time) at load 0.8-1.1.
        assert b_cpu / a_cpu > 2.5, f"issue-14 floor: CPU-time speedup {b_cpu / a_cpu:.2f}x < 2.5x"
        assert b / a > 1, f"the current renderer is slower than the previous one ({b / a:.2f}x)"


def test_same_run_compiled_kernel_against_torch_kernel(benchmark, scene, capsys, one_thread):
    """The default CPU kernel (compiled loop) vs the torch kernel, interleaved in one run.

    Both share the float64 set-up; the ratio is the per-pixel stage's. Issue 14's goal is
    <= 2 ms/view of CPU time for this scene on one core, quiet or loaded.
    """
    kernels = {name: AnalyticRenderer(kernel=name) for name in ("compiled", "torch")}
    (_, a_cpu), (_, b_cpu) = _interleaved_medians(
        benchmark, scene, kernels, 48, "bone-map kernels", capsys
    )
    if not benchmark.disabled:
        assert a_cpu <= 2.0, f"issue-14 goal: {a_cpu:.2f} ms/view of CPU time > 2 ms/view"
        assert b_cpu / a_cpu > 1.3, f"compiled kernel only {b_cpu / a_cpu:.2f}x the torch kernel"
