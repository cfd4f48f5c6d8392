"""SSIM + PSNR + L1 over 100 frame pairs at 576²: hvg-eval vs scikit-image frame by frame.

Third round (issue 14, 2026-12-06). Two findings. (1) The anchor's speed depended on the
process's allocator state: skimage's SSIM took 32.9 ms per frame in a fresh process (every
float64 temporary page-faults: glibc serves it from a fresh mapping or a trimmed heap) and 14.2
ms once glibc keeps freed memory, which also happens by chance after some other large free in
the process; earlier rounds' ratios (and their "unexplained" 3.3x run) mixed both states. This
file now fixes the state for both sides (``settled_allocator``): against skimage at its best
the torch kernels measured 3.9-4.0x, below the goal. (2) The default CPU path is now compiled
loops (numba, ``hvg_eval.ops.cpu_kernels``: OpenCV grey, running 7×7 window sums, the same
integer terms and float64 ratio per pixel, frame read once): 0.096-0.100 s for the 100 pairs
against 1.53-1.64 s for skimage, 15.9-16.6x wall and 16.5-17.0x CPU, and 4.0x the torch kernels
(forced on the CPU in the same run; they stay the CUDA path). ``--compile`` now compiles
whole-frame expressions (``hvg_eval.metrics.whole_frame``; the strip kernels broke dynamo's graph
and ran 0.4x skimage compiled): 5.3-6.0x. Gaussian SSIM as a compiled loop too: 0.255-0.268 s,
6.9-7.3x settled skimage and 2.7-2.8x the torch kernels (2.5-2.6x skimage). Load 0.6-1.1.
The earlier rounds' notes follow; their ratios are against skimage in whichever allocator state
the process was in.

The alternative is DisCo's evaluation loop (``tool/metrics/ssim_l1_lpips_psnr.py``): per frame,
OpenCV grey + ``skimage.metrics.structural_similarity``, and numpy PSNR and L1. Values must be
identical (to 1e-12). The eager kernels run on one torch thread whatever the process setting
(``hvg_eval.ops.threads``: with 2 threads on the shared 2-core machine each short operation
waits for the second thread whenever another process holds that core; measured again at load
~5: 3-35x slower than 1 thread). A second test times protocol ``clean``'s Gaussian SSIM
(σ=1.5, population covariance) against skimage's Wang-2004 settings the same way.

Issue 14 (goal ≥ 5×), first round. Profile before (1 thread, 2 frames of 576² per call, torch
profiler): the largest items were first touches of fresh multi-megabyte temporaries (casting
2.6 M int32 window terms into new float64 tensors: 2.5 ms each; a cast into a reused buffer:
0.1 ms), then the 48 shifted-add passes of the four 7×7 box sums streaming whole frames from
memory, the uint8 → float32 copies of the RGB inputs (grey, PSNR, L1) and float64 ratio
arithmetic. After: SSIM runs in strips of ~34 rows × 2 frames whose temporaries stay in cache
(``hvg_eval.metrics.ssim._ssim_in_strips``), in reused scratch buffers (``hvg_eval.ops.scratch``),
window sums by doubling (8 passes instead of 12), exact in float32, integer terms exact in
int32, float64 only for the final products and ratio; PSNR and L1 sum their differences in
cache-sized row strips. CPU per 576² frame, load ~8: SSIM 16.8 → 6.3 ms, PSNR 0.85 → 0.67 ms,
L1 0.78 → 0.48 ms, skimage loop 41 ms.

Second round, profile of this benchmark's loop (20 frames, 1 thread, load ~2, 5.0 ms CPU per
frame for all three metrics): ``copy_`` 20 % (uint8 → float32 RGB, float32 → int32 window
sums, int32 → float64 terms), ``add`` 15 % + ``add_`` 15 % (the box sums), ``mul_`` 7 %,
``baddbmm`` 6 % (grey), ``slice`` 5 %, ``sum`` 5 %; about 130 aten calls per strip, so dispatch
is a visible share. Tried and measured, not kept: the final ratio in float32 (int32 terms →
float32; error ≤ 8 ulp, 7.5e-9 seen) was not faster (4.9 vs 4.4 ms/frame), float64 window sums
instead of int32 neither; strided-window ``sum`` for the box sums tied; ``avg_pool2d`` with
``divisor_override=1`` 20x slower. The Gaussian path (protocol ``clean``) was the slow one:
283 ms CPU per frame, 91 % in ``_slow_conv2d_forward`` (float64 grouped ``conv2d``, im2col).
Now 11.5 ms (load ~3): the grey conversion fused into strips of 32 rows × 2 frames, the four
moments (x, y, x²+y², xy) filtered together, the vertical pass as one band-matrix product
(``bmm`` 21 %), the horizontal pass as 11 shifted adds (``add_`` 28 %, ``mul`` 9 %), grey and
copies (``copy_`` 9 %, ``baddbmm`` 4 %). It stays float64: float32 moments were 2e-5 off skimage
on flat bright areas (``E[x²] − μ²`` cancels at ~250²), beyond the issue's 1e-6. Blocked
horizontal products (``bmm``/``mm`` of 16-64 column blocks, or a transposed layout) were slower
than the shifted adds.

The measured ratios are stored in ``extra_info`` (``speedup``, ``cpu_speedup``, ``loadavg``)
and printed; the asserts check floors below every ratio measured on the shared machine.
Runs of this file, second round (other jobs on the 2 cores; ratios move with the load), wall /
CPU: DisCo SSIM+PSNR+L1 6.3x / 6.1x at load 2.2, 7.9x / 6.1x at 4.4, 4.3x / 5.0x at 5.0,
6.5x / 5.9x at 5.9, 7.4x / 5.7x at 6.3, 4.6x / 5.0x at 6.5, 5.0x / 5.3x at 6.9 (uniform kernel
unchanged in this round). Quiet machine, session 4 (2026-12-05 13:01-13:04, load 0.5-1.0,
nothing else running), three runs of this file: 6.5x / 6.5x, 5.8x / 5.9x, 6.0x / 6.1x (ours
0.54-0.60 s, skimage 3.31-3.52 s for the 100 pairs), Gaussian 4.1x, 4.5x, 4.3x: the goal ≥ 5x
is met quiet. One earlier quiet-looking run (session 3, load 0.6) measured 3.3x / 1.8x with the
same kernels; it was not reproduced. Splitting the frames across two Python threads (one torch
thread each) was measured and not kept: 0.70-0.90 s against 0.56-0.57 s serial, twice the CPU
time (the kernels are dispatch-bound, so the threads contend for the GIL).
Gaussian SSIM (was 0.1-0.2x) 4.4x / 4.0x at load 5.9, 2.8x / 3.6x at 5.8, 2.7x / 3.9x at 6.6.
First round: wall 4.4x / CPU 4.6x at load 7.7, 3.9x / 5.2x at load 6.7; before it 3.73x at
load 1.7.
With ``--benchmark-disable`` (the default run) sizes shrink so the smoke test takes a second.
"""

import ctypes
import math
import os
import statistics
import time
import warnings

import numpy as np
import pytest
import torch
from skimage.metrics import structural_similarity

from hvg_eval.metrics.l1 import l1
from hvg_eval.metrics.psnr import psnr
from hvg_eval.metrics.ssim import ssim
from hvg_eval.ops.kernel_choice import torch_kernels

cv2 = pytest.importorskip("cv2")

# Floors of the wall-time ratios against settled skimage, default CPU path: DisCo SSIM + PSNR +
# L1 measured 15.9-16.1x (issue 14's goal, 5x, is the floor), Gaussian SSIM 7.3x.
RATIO_FLOOR = 5.0
GAUSSIAN_RATIO_FLOOR = 3.0


def _frames(count, size):
    rng = np.random.default_rng(0)
    real = rng.integers(0, 256, (count, size, size, 3), dtype=np.uint8)
    fake = np.clip(real.astype(np.int16) + rng.integers(-20, 21, real.shape), 0, 255).astype(
        np.uint8
    )
    return real, fake


@pytest.fixture(scope="module", autouse=True)
def settled_allocator():
    """Both sides measured with glibc keeping freed memory: no page faults on reused buffers.

    scikit-image allocates fresh float64 frames for every call. With glibc's default, dynamic
    thresholds those come from fresh mappings (or a trimmed heap) and each page faults on first
    touch: skimage's SSIM measured 32.9 ms per 576² frame in a fresh process and 14.2 ms once
    ``mallopt`` keeps freed memory (the same happens by chance after some other large free in
    the process, which is why earlier runs of this file disagreed by 2x). The anchor is taken
    at its best. The setting is process-wide and stays for the rest of the pytest session.
    """
    mallopt = getattr(ctypes.CDLL(None), "mallopt", None)
    if mallopt is None:
        warnings.warn(
            "no glibc mallopt: skimage is timed in whatever allocator state it finds", stacklevel=1
        )
        return
    m_trim_threshold, m_mmap_threshold = -1, -3
    assert mallopt(m_trim_threshold, 1 << 30) == 1 and mallopt(m_mmap_threshold, 1 << 25) == 1


@pytest.fixture
def one_thread():
    # Named for history: torch now gets the 2 cores of the target machine, since using them is
    # what batching buys over skimage's per-frame loop. (On a shared, oversubscribed CPU,
    # OpenMP's spinning threads made 2-thread torch 10-20x slower, measured: benchmark on a
    # quiet machine.)
    previous = torch.get_num_threads()
    torch.set_num_threads(min(2, os.cpu_count() or 1))
    yield
    torch.set_num_threads(previous)


def _torch_batched(real, fake, chunk=2):
    values = []
    for start in range(0, real.shape[0], chunk):
        a, b = real[start : start + chunk], fake[start : start + chunk]
        values.append(torch.stack([ssim(a, b), psnr(a, b), l1(a, b)], 1))
    return torch.cat(values).numpy()


def _compiled_kernels():
    """The metrics' compile kernels (whole-frame expressions) with DisCo's conventions."""
    from hvg_eval.metrics.l1 import L1
    from hvg_eval.metrics.psnr import PSNR
    from hvg_eval.metrics.ssim import SSIM
    from hvg_eval.ops.compiled import compiled

    return tuple(compiled(metric().per_frame_kernel()) for metric in (SSIM, PSNR, L1))


def _torch_compiled(real, fake, kernels, chunk=2):
    ssim_kernel, psnr_kernel, l1_kernel = kernels
    values = []
    for start in range(0, real.shape[0], chunk):
        a, b = real[start : start + chunk], fake[start : start + chunk]
        values.append(torch.stack([ssim_kernel(a, b), psnr_kernel(a, b), l1_kernel(a, b)], 1))
    return torch.cat(values).numpy()


def _skimage_frame_by_frame(real, fake):
    out = np.empty((real.shape[0], 3))
    for index, (a, b) in enumerate(zip(real, fake)):
        grey_a = cv2.cvtColor(a, cv2.COLOR_RGB2GRAY)
        grey_b = cv2.cvtColor(b, cv2.COLOR_RGB2GRAY)
        diff = a.astype(np.float64) - b.astype(np.float64)
        mse = np.mean(diff**2)
        out[index] = (
            structural_similarity(grey_a, grey_b),
            100.0 if mse == 0 else 20 * math.log10(255.0 / math.sqrt(mse)),
            np.mean(np.abs(diff)) / (a.shape[0] * a.shape[1]),
        )
    return out


@pytest.fixture
def torch_threads():
    # The eager kernels limit themselves to one thread (hvg_eval.ops.threads): the process
    # setting is recorded only, and skimage's loop is single-threaded too.
    return torch.get_num_threads()


def _benchmark_disabled(benchmark, request) -> bool:
    # `--benchmark-enable` overrides the default `--benchmark-disable`; the fixture knows.
    return benchmark.disabled or (
        request.config.getoption("benchmark_disable")
        and not request.config.getoption("benchmark_enable")
    )


def _measure(benchmark, ours_function, reference_function, args, *, quick):
    """Runs ours under pytest-benchmark and the reference 3 times; values and wall/CPU ratios.

    CPU seconds are robust to sharing the cores with other processes (the kernels and skimage
    both run on one thread, so the CPU ratio compares like for like).
    """
    rounds = 1 if quick else 5
    if not quick:
        ours_function(*args)  # warm-up: numba loads (or compiles) the CPU loops once
    cpu_start = time.process_time()
    ours = benchmark.pedantic(ours_function, args=args, rounds=rounds, iterations=1)
    ours_cpu = (time.process_time() - cpu_start) / rounds
    timings, cpu_timings = [], []
    for _ in range(1 if quick else 3):
        start, cpu_start = time.perf_counter(), time.process_time()
        reference = reference_function()
        timings.append(time.perf_counter() - start)
        cpu_timings.append(time.process_time() - cpu_start)
    ratio = cpu_ratio = float("nan")
    if not quick:
        reference_median = statistics.median(timings)
        ratio = reference_median / benchmark.stats.stats.median
        cpu_ratio = statistics.median(cpu_timings) / ours_cpu
        benchmark.extra_info.update(
            skimage_median_s=reference_median,
            speedup=ratio,
            cpu_speedup=cpu_ratio,
            loadavg=os.getloadavg()[0],
        )
        print(
            f"\nhvg-eval eager (1 thread) median {benchmark.stats.stats.median:.3f}s, "
            f"skimage median {reference_median:.3f}s, ratio {ratio:.1f}x (CPU time "
            f"{cpu_ratio:.1f}x), loadavg {os.getloadavg()[0]:.2f}"
        )
    return ours, reference, ratio


def _chw_tensors(real, fake):
    return tuple(torch.from_numpy(x).permute(0, 3, 1, 2).contiguous() for x in (real, fake))


def test_ssim_psnr_l1_batched_torch_vs_skimage(benchmark, request, torch_threads, capsys):
    """DisCo SSIM + PSNR + L1: the default CPU path (compiled loops) against skimage.

    The torch kernels (the CUDA path, forced on the CPU) are timed in the same run.
    """
    quick = _benchmark_disabled(benchmark, request)
    count, size = (4, 64) if quick else (100, 576)
    real, fake = _frames(count, size)
    benchmark.extra_info["threads"] = torch_threads
    tensors = _chw_tensors(real, fake)
    ours, reference, ratio = _measure(
        benchmark,
        _torch_batched,
        lambda: _skimage_frame_by_frame(real, fake),
        tensors,
        quick=quick,
    )
    np.testing.assert_allclose(ours, reference, rtol=0, atol=1e-12)
    _time_torch_kernels(benchmark, _torch_batched, tensors, reference, quick, capsys)
    if not quick:
        assert ratio > RATIO_FLOOR, f"only {ratio:.2f}x faster than skimage"


def _time_torch_kernels(benchmark, function, tensors, reference, quick, capsys):
    """The same work with the torch kernels forced on the CPU (the CUDA path), same run."""
    timings = []
    with torch_kernels():
        for _ in range(1 if quick else 3):
            start = time.perf_counter()
            values = function(*tensors)
            timings.append(time.perf_counter() - start)
    np.testing.assert_allclose(values, reference, rtol=0, atol=1e-12)
    if quick:
        return
    torch_median = statistics.median(timings)
    ours = benchmark.stats.stats.median
    benchmark.extra_info.update(
        torch_kernels_median_s=torch_median, compiled_over_torch=torch_median / ours
    )
    with capsys.disabled():
        print(
            f"\ntorch kernels on the CPU {torch_median:.3f}s: compiled loops "
            f"{torch_median / ours:.1f}x faster, torch kernels "
            f"{benchmark.extra_info['skimage_median_s'] / torch_median:.1f}x skimage"
        )


def _torch_gaussian(real, fake, chunk=2):
    values = []
    for start in range(0, real.shape[0], chunk):
        a, b = real[start : start + chunk], fake[start : start + chunk]
        values.append(ssim(a, b, window="gaussian11", covariance="population"))
    return torch.cat(values).numpy()


def _skimage_gaussian(real, fake):
    return np.array(
        [
            structural_similarity(
                cv2.cvtColor(a, cv2.COLOR_RGB2GRAY),
                cv2.cvtColor(b, cv2.COLOR_RGB2GRAY),
                gaussian_weights=True,
                sigma=1.5,
                use_sample_covariance=False,
                data_range=255,
            )
            for a, b in zip(real, fake)
        ]
    )


def test_ssim_gaussian_batched_torch_vs_skimage(benchmark, request, capsys):
    """Protocol ``clean`` SSIM (Wang 2004: Gaussian σ=1.5, population covariance)."""
    quick = _benchmark_disabled(benchmark, request)
    count, size = (4, 64) if quick else (100, 576)
    real, fake = _frames(count, size)
    tensors = _chw_tensors(real, fake)
    ours, reference, ratio = _measure(
        benchmark, _torch_gaussian, lambda: _skimage_gaussian(real, fake), tensors, quick=quick
    )
    np.testing.assert_allclose(ours, reference, rtol=0, atol=1e-12)
    _time_torch_kernels(benchmark, _torch_gaussian, tensors, reference, quick, capsys)
    if not quick:
        assert ratio > GAUSSIAN_RATIO_FLOOR, f"only {ratio:.2f}x faster than skimage"


def test_ssim_psnr_l1_compiled_torch_vs_skimage(benchmark, request, one_thread):
    """``--compile`` (whole-frame kernels through inductor) against skimage and eager, one run.

    Measured (issue 14, 2026-12-06, 2 threads): 5.5-6.0x skimage, slower than the default
    compiled CPU loops (15.9x on one thread); ``--compile`` is kept for GPUs, where the eager
    strip kernels launch many small kernels. The floor guards against the graph-break
    regression (0.4x skimage when the strip kernels themselves were compiled).
    """
    disabled = benchmark.disabled or (
        request.config.getoption("benchmark_disable")
        and not request.config.getoption("benchmark_enable")
    )
    if disabled:
        pytest.skip("compiling the kernels takes about a minute; runs with --benchmark-enable")
    real, fake = _frames(100, 576)
    real_t = torch.from_numpy(real).permute(0, 3, 1, 2).contiguous()
    fake_t = torch.from_numpy(fake).permute(0, 3, 1, 2).contiguous()
    kernels = _compiled_kernels()
    start = time.perf_counter()
    _torch_compiled(real_t[:2], fake_t[:2], kernels)
    compile_seconds = time.perf_counter() - start
    ours = benchmark.pedantic(
        _torch_compiled, args=(real_t, fake_t, kernels), rounds=5, iterations=1, warmup_rounds=1
    )
    timings: dict[str, list[float]] = {"skimage": [], "eager": []}
    for _ in range(3):
        start = time.perf_counter()
        reference = _skimage_frame_by_frame(real, fake)
        timings["skimage"].append(time.perf_counter() - start)
        start = time.perf_counter()
        eager = _torch_batched(real_t, fake_t)
        timings["eager"].append(time.perf_counter() - start)
    np.testing.assert_allclose(ours, reference, rtol=0, atol=1e-12)
    np.testing.assert_allclose(eager, reference, rtol=0, atol=1e-12)
    compiled_median = benchmark.stats.stats.median
    reference_median = statistics.median(timings["skimage"])
    eager_median = statistics.median(timings["eager"])
    ratio = reference_median / compiled_median
    benchmark.extra_info.update(
        skimage_median_s=reference_median,
        eager_median_s=eager_median,
        speedup=ratio,
        eager_over_compiled=compiled_median / eager_median,
        compile_s=compile_seconds,
        loadavg=os.getloadavg()[0],
    )
    print(
        f"\ncompiled torch median {compiled_median:.3f}s (first call {compile_seconds:.1f}s), "
        f"eager {eager_median:.3f}s, skimage {reference_median:.3f}s: compiled {ratio:.1f}x "
        f"skimage, eager {reference_median / eager_median:.1f}x, loadavg {os.getloadavg()[0]:.2f}"
    )
    assert ratio >= 1.5, f"compiled torch is only {ratio:.1f}x faster than skimage frame by frame"
