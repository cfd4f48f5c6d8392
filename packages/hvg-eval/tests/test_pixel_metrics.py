import functools
import math

import numpy as np
import pytest
import torch
from hvg_core.errors import InputError
from hypothesis import given, settings
from hypothesis import strategies as st
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from hvg_eval.metrics.l1 import L1, l1
from hvg_eval.metrics.psnr import PSNR, psnr
from hvg_eval.metrics.ssim import SSIM, ssim
from hvg_eval.ops.kernel_choice import torch_kernels
from hvg_eval.testing import check_metric_contract

cv2 = pytest.importorskip("cv2")


def _pair(seed, height, width, count=3, spread=40):
    rng = np.random.default_rng(seed)
    real = rng.integers(0, 256, (count, height, width, 3), dtype=np.uint8)
    # Smooth "real-looking" content for half the frames.
    for index in range(count // 2):
        real[index] = cv2.GaussianBlur(real[index], (9, 9), 3)
    noise = rng.integers(-spread, spread + 1, real.shape)
    fake = np.clip(real.astype(np.int64) + noise, 0, 255).astype(np.uint8)
    return real, fake


def _chw(frames):
    return torch.from_numpy(frames).permute(0, 3, 1, 2).contiguous()


@pytest.fixture(params=["compiled", "torch"])
def kernels(request):
    """Both CPU implementations: the compiled loops (default) and the torch kernels (CUDA's)."""
    if request.param == "torch":
        with torch_kernels():
            yield request.param
    else:
        yield request.param


@pytest.fixture
def torch_only():
    """Tests of the torch kernels' own machinery (strips, scratch buffers, threads)."""
    with torch_kernels():
        yield


@pytest.mark.parametrize(("height", "width"), [(7, 7), (31, 45), (64, 64), (33, 8)])
def test_ssim_equals_disco_recipe_with_skimage(height, width, kernels):
    real, fake = _pair(height * width, height, width)
    ours = ssim(_chw(real), _chw(fake))
    for index in range(real.shape[0]):
        # DisCo: cv2.imread (BGR) -> COLOR_BGR2GRAY -> skimage defaults.
        grey_real = cv2.cvtColor(real[index][..., ::-1].copy(), cv2.COLOR_BGR2GRAY)
        grey_fake = cv2.cvtColor(fake[index][..., ::-1].copy(), cv2.COLOR_BGR2GRAY)
        expected = structural_similarity(grey_real, grey_fake)
        assert abs(float(ours[index]) - expected) <= 1e-12


def test_exact_integer_path_equals_the_float_path():
    from hvg_eval.metrics.ssim import ssim_gray

    real, fake = _pair(21, 30, 26)
    grey_real = torch.from_numpy(np.stack([cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in real]))
    grey_fake = torch.from_numpy(np.stack([cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in fake]))
    for covariance in ("sample", "population"):
        exact = ssim_gray(grey_real, grey_fake, covariance=covariance)
        floating = ssim_gray(grey_real.double(), grey_fake.double(), covariance=covariance)
        torch.testing.assert_close(exact, floating, rtol=0, atol=1e-12)


def test_ssim_gaussian_variant_equals_skimage_wang_settings(kernels):
    real, fake = _pair(5, 40, 52)
    ours = ssim(_chw(real), _chw(fake), window="gaussian11", covariance="population")
    for index in range(real.shape[0]):
        expected = structural_similarity(
            cv2.cvtColor(real[index], cv2.COLOR_RGB2GRAY),
            cv2.cvtColor(fake[index], cv2.COLOR_RGB2GRAY),
            gaussian_weights=True,
            sigma=1.5,
            use_sample_covariance=False,
            data_range=255,
        )
        assert abs(float(ours[index]) - expected) <= 1e-12


def _wang(grey_real, grey_fake, covariance):
    return structural_similarity(
        grey_real,
        grey_fake,
        gaussian_weights=True,
        sigma=1.5,
        use_sample_covariance=covariance == "sample",
        data_range=255,
    )


def _grey_cases():
    rng = np.random.default_rng(7)
    flat = np.full((24, 30), 250)
    smooth = cv2.GaussianBlur(rng.integers(0, 256, (40, 33), dtype=np.uint8), (9, 9), 3)
    return {
        "black vs white": (np.zeros((16, 16)), np.full((16, 16), 255)),
        "constant 250 vs 3": (np.full((16, 20), 250), np.full((16, 20), 3)),
        "constant 255 vs 254": (np.full((16, 20), 255), np.full((16, 20), 254)),
        # Flat bright areas: the variances cancel E[x²] − μ² at ~250², where float32 fails.
        "bright flat noise": (flat + rng.integers(-2, 3, flat.shape), flat - 5),
        "smooth vs shifted": (smooth, np.roll(smooth, 2, axis=1)),
        "window-sized": tuple(rng.integers(0, 256, (2, 11, 11))),
        "one output row": tuple(rng.integers(0, 256, (2, 11, 57))),
    }


@pytest.mark.parametrize("case", list(_grey_cases()))
@pytest.mark.parametrize("covariance", ["population", "sample"])
def test_ssim_gaussian_equals_skimage_on_edge_cases(case, covariance):
    from hvg_eval.metrics.ssim import ssim_gray

    grey_real, grey_fake = (np.asarray(x, dtype=np.uint8) for x in _grey_cases()[case])
    expected = _wang(grey_real, grey_fake, covariance)
    for dtype in (torch.uint8, torch.float64):
        ours = ssim_gray(
            torch.from_numpy(grey_real)[None].to(dtype),
            torch.from_numpy(grey_fake)[None].to(dtype),
            window="gaussian11",
            covariance=covariance,
        )
        # float64 like skimage (float32 moments were 2e-5 off on the flat bright case).
        assert abs(float(ours[0]) - expected) <= 1e-12


def test_ssim_gaussian_strips_equal_one_pass(monkeypatch, torch_only):
    import hvg_eval.metrics.ssim as ssim_module

    real, fake = _pair(13, 57, 40, count=5, spread=3)
    whole = ssim(_chw(real), _chw(fake), window="gaussian11", covariance="population")
    # One frame per pass, strips of 16 rows (47 output rows: the last strip overlaps).
    monkeypatch.setattr(ssim_module, "_GAUSSIAN_PIXELS_PER_PASS", 16 * 40)
    strips = ssim(_chw(real), _chw(fake), window="gaussian11", covariance="population")
    torch.testing.assert_close(strips, whole, rtol=0, atol=1e-15)
    for index in range(real.shape[0]):
        grey = [cv2.cvtColor(x[index], cv2.COLOR_RGB2GRAY) for x in (real, fake)]
        assert abs(float(strips[index]) - _wang(*grey, "population")) <= 1e-12


def test_ssim_of_identical_frames_is_one_and_small_frames_are_refused(kernels):
    real, _ = _pair(0, 16, 16)
    assert torch.all(ssim(_chw(real), _chw(real)) == 1.0)
    with pytest.raises(InputError, match="at least 7×7"):
        ssim(_chw(real[:, :6, :6]), _chw(real[:, :6, :6]))


def test_psnr_equals_skimage_and_disco_formula(kernels):
    real, fake = _pair(7, 37, 29)
    disco = psnr(_chw(real), _chw(fake))
    skimage_variant = psnr(_chw(real), _chw(fake), variant="skimage")
    for index in range(real.shape[0]):
        expected = peak_signal_noise_ratio(real[index], fake[index], data_range=255)
        assert abs(float(skimage_variant[index]) - expected) <= 1e-12
        mse = np.mean((real[index].astype(np.float64) - fake[index].astype(np.float64)) ** 2)
        assert abs(float(disco[index]) - 20 * math.log10(255.0 / math.sqrt(mse))) <= 1e-12


def test_psnr_closed_forms(kernels):
    base = np.full((2, 16, 16, 3), 100, dtype=np.uint8)
    assert torch.all(psnr(_chw(base), _chw(base)) == 100.0)
    assert torch.all(torch.isinf(psnr(_chw(base), _chw(base), variant="skimage")))
    for offset in (1, 5, 20):
        shifted = base + offset
        expected = 20 * math.log10(255 / offset)
        assert torch.allclose(
            psnr(_chw(base), _chw(shifted)), torch.tensor(expected, dtype=torch.float64)
        )


def _legacy_numpy(real, fake):
    # DisCo before 2024-04-10: uint8 arithmetic throughout.
    mse = np.mean((real - fake) ** 2)
    return 100.0 if mse == 0 else 20 * math.log10(255.0 / math.sqrt(mse))


def test_legacy_uint8_psnr_equals_the_numpy_wraparound(kernels):
    real, fake = _pair(9, 20, 24, spread=120)
    ours = psnr(_chw(real), _chw(fake), variant="legacy-uint8")
    for index in range(real.shape[0]):
        assert abs(float(ours[index]) - _legacy_numpy(real[index], fake[index])) <= 1e-12


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 255))
def test_legacy_uint8_psnr_never_drops_below_24_065_db(seed, spread):
    real, fake = _pair(seed, 8, 8, count=1, spread=spread)
    value = float(psnr(_chw(real), _chw(fake), variant="legacy-uint8")[0])
    assert value >= 10 * math.log10(255) - 1e-9


def test_l1_closed_forms_and_disco_definition(kernels):
    height, width = 24, 40
    base = np.full((1, height, width, 3), 50, dtype=np.uint8)
    for offset in (1, 7):
        value = float(l1(_chw(base), _chw(base + offset)))
        assert value == pytest.approx(offset / (height * width), rel=1e-15)
        assert float(l1(_chw(base), _chw(base + offset), variant="mae")) == pytest.approx(
            offset / 255, rel=1e-15
        )
    real, fake = _pair(11, height, width)
    # DisCo: np.mean over the list of abs(float(A) - float(B)) / (H * W) arrays.
    per_image = [
        np.abs(a.astype(np.float64) - b.astype(np.float64)) / (height * width)
        for a, b in zip(real, fake)
    ]
    streaming = L1()
    streaming.update(_chw(real)[None, None].float() / 255, _chw(fake)[None, None].float() / 255)
    assert streaming.compute() == pytest.approx(float(np.mean(per_image)), rel=1e-12)
    assert float(l1(_chw(real), _chw(real)).max()) == 0.0


@pytest.mark.parametrize("metric", [SSIM, PSNR, L1])
def test_pixel_metrics_follow_the_contract(metric):
    check_metric_contract(metric, tolerance=1e-12)


def test_clean_protocol_gaussian_ssim_follows_the_contract():
    check_metric_contract(functools.partial(SSIM, protocol="clean"), tolerance=1e-12)
    assert SSIM(protocol="clean").conventions()["window"] == "gaussian11"


def test_streaming_breakdown_and_float_round_trip():
    real, fake = _pair(13, 16, 16, count=4)
    real_t = (_chw(real).float() / 255).reshape(1, 2, 2, 3, 16, 16)
    fake_t = (_chw(fake).float() / 255).reshape(1, 2, 2, 3, 16, 16)
    metric = PSNR()
    metric.update(real_t, fake_t)
    per_frame = psnr(_chw(real), _chw(fake)).numpy()
    assert metric.compute() == pytest.approx(per_frame.mean(), rel=1e-12)
    breakdown = metric.breakdown()
    assert breakdown["per_view"][0] == pytest.approx(per_frame[:2].mean(), rel=1e-12)
    assert breakdown["per_view"][1] == pytest.approx(per_frame[2:].mean(), rel=1e-12)
    assert breakdown["per_frame"][1] == pytest.approx(per_frame[[1, 3]].mean(), rel=1e-12)
    conventions = metric.conventions()
    assert conventions["resolution"] == [16, 16] and conventions["frames"] == 4


def test_inputs_are_validated_with_argument_names():
    metric = SSIM()
    with pytest.raises(InputError, match=r"field 'real'.*\[0, 1\]"):
        metric.update(torch.full((1, 3, 8, 8), 2.0), torch.zeros(1, 3, 8, 8))
    with pytest.raises(InputError, match=r"field 'fake'.*same"):
        metric.update(torch.zeros(1, 3, 8, 8), torch.zeros(1, 3, 8, 9))
    with pytest.raises(InputError, match=r"field 'real'.*\(B, V, T, 3, H, W\)"):
        metric.update(torch.zeros(3, 8, 8), torch.zeros(3, 8, 8))
    with pytest.raises(InputError, match="no frames"):
        metric.compute()


@pytest.mark.parametrize("width", [576, 577, 1031, 64])
def test_exact_frame_sums_are_exact_at_the_largest_values(width):
    from hvg_eval.ops.exact_sum import exact_frame_sums

    # Worst case for float32: every squared difference is 255**2 (rows far past 2**24).
    values = torch.full((2, 3, 5, width), 255.0 * 255.0)
    values[1, 0, 0, 0] = 0.0
    sums = exact_frame_sums(values, 255 * 255)
    expected = [3 * 5 * width * 65025, 3 * 5 * width * 65025 - 65025]
    assert sums.dtype == torch.float64 and sums.tolist() == expected


def test_psnr_and_l1_exact_for_maximal_differences(kernels):
    black = np.zeros((2, 40, 577, 3), dtype=np.uint8)
    white = np.full_like(black, 255)
    white[1, 0, 0, 0] = 0
    mse_expected = (40 * 577 * 3 - 1) * 255.0**2 / (40 * 577 * 3)
    psnr_value = float(psnr(_chw(black), _chw(white), variant="skimage")[1])
    assert psnr_value == pytest.approx(10 * math.log10(255.0**2 / mse_expected), abs=1e-12)
    assert float(l1(_chw(black), _chw(white), variant="mae")[0]) == 1.0


def test_ssim_strips_and_frame_chunks_equal_one_pass_and_skimage(monkeypatch, torch_only):
    import hvg_eval.metrics.ssim as ssim_module

    # Tall frames with smooth (flat-ish) content: rounding would show in low-variance areas.
    real, fake = _pair(11, 61, 45, count=5, spread=3)
    whole = ssim(_chw(real), _chw(fake))
    # A small pass budget: one frame per pass, strips of 44 rows, the last one overlapping.
    monkeypatch.setattr(ssim_module, "_PIXELS_PER_PASS", 2000)
    strips = ssim(_chw(real), _chw(fake))
    assert torch.equal(whole, strips)
    for index in range(real.shape[0]):
        expected = structural_similarity(
            cv2.cvtColor(real[index], cv2.COLOR_RGB2GRAY),
            cv2.cvtColor(fake[index], cv2.COLOR_RGB2GRAY),
        )
        assert abs(float(strips[index]) - expected) <= 1e-12


def test_ssim_gray_keeps_leading_batch_dimensions():
    from hvg_eval.metrics.ssim import ssim_gray

    real, fake = _pair(3, 20, 24, count=4)
    grey = [
        torch.from_numpy(np.stack([cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in x]))
        for x in (real, fake)
    ]
    flat = ssim_gray(grey[0], grey[1])
    nested = ssim_gray(grey[0].reshape(2, 2, 20, 24), grey[1].reshape(2, 2, 20, 24))
    assert nested.shape == (2, 2)
    assert torch.equal(nested.reshape(-1), flat)


def test_scratch_buffers_are_reused_per_name_and_shape():
    from hvg_eval.ops.scratch import release_scratch, scratch

    first = scratch("test.buffer", (3, 4), torch.float32, "cpu")
    assert scratch("test.buffer", (3, 4), torch.float32, "cpu").data_ptr() == first.data_ptr()
    other = scratch("test.buffer", (5,), torch.float32, "cpu")
    assert other.shape == (5,) and other.dtype == torch.float32
    assert scratch("test.other", (5,), torch.float32, "cpu").data_ptr() != other.data_ptr()
    release_scratch()
    assert scratch("test.buffer", (5,), torch.int32, "cpu").dtype == torch.int32


def test_psnr_and_l1_do_not_see_each_others_scratch(torch_only):
    real, fake = _pair(4, 32, 32, count=2)
    expected_l1 = l1(_chw(real), _chw(fake))
    psnr(_chw(fake), _chw(real[::-1].copy()))  # overwrites the shared difference buffer
    assert torch.equal(l1(_chw(real), _chw(fake)), expected_l1)


def test_eager_kernels_run_on_one_thread_and_restore_the_setting(monkeypatch, torch_only):
    import hvg_eval.metrics.ssim as ssim_module

    seen = []
    original = ssim_module._ssim_row_sums

    def spy(*args, **kwargs):
        seen.append(torch.get_num_threads())
        return original(*args, **kwargs)

    monkeypatch.setattr(ssim_module, "_ssim_row_sums", spy)
    real, fake = _pair(8, 16, 16, count=1)
    previous = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        ssim(_chw(real), _chw(fake))
        assert seen == [1] and torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(previous)


def test_psnr_and_l1_row_strips_equal_one_pass(monkeypatch, torch_only):
    import hvg_eval.ops.exact_sum as exact_sum

    real, fake = _pair(9, 37, 40, count=3)
    whole = psnr(_chw(real), _chw(fake)), l1(_chw(real), _chw(fake))
    # 3 frames × 3 channels × 40 columns: strips of 5 rows, the last one of 2.
    monkeypatch.setattr(exact_sum, "_STRIP_VALUES", 1800)
    strips = psnr(_chw(real), _chw(fake)), l1(_chw(real), _chw(fake))
    assert torch.equal(whole[0], strips[0]) and torch.equal(whole[1], strips[1])
    diff = real.astype(np.float64) - fake.astype(np.float64)
    np.testing.assert_allclose(
        strips[1].numpy(), np.abs(diff).mean(axis=(1, 2, 3)) / (37 * 40), rtol=0, atol=1e-15
    )


@pytest.mark.parametrize("window", ["uniform7", "gaussian11"])
@pytest.mark.parametrize("covariance", ["sample", "population"])
def test_compiled_cpu_kernels_equal_the_torch_kernels(window, covariance):
    # Odd sizes, flat and noisy frames, an identical pair and the largest differences.
    real, fake = _pair(31, 23, 50, count=5, spread=60)
    fake[1] = real[1]
    real[2], fake[2] = 0, 255
    a, b = _chw(real), _chw(fake)
    options = {"window": window, "covariance": covariance}
    compiled = ssim(a, b, **options), psnr(a, b), l1(a, b), psnr(a, b, variant="skimage")
    with torch_kernels():
        reference = ssim(a, b, **options), psnr(a, b), l1(a, b)
        reference += (psnr(a, b, variant="skimage"),)
    torch.testing.assert_close(compiled[0], reference[0], rtol=0, atol=1e-13)
    for ours, theirs in zip(compiled[1:], reference[1:], strict=True):
        assert torch.equal(ours[torch.isfinite(ours)], theirs[torch.isfinite(theirs)])
    assert compiled[0][1] == pytest.approx(1.0, abs=1e-15) and compiled[1][1] == 100.0
