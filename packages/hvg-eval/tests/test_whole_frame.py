"""The compile kernels (whole-frame expressions) equal the eager kernels, checked eagerly."""

import pytest
import torch

from hvg_eval.metrics.l1 import l1
from hvg_eval.metrics.psnr import psnr
from hvg_eval.metrics.ssim import ssim
from hvg_eval.metrics.whole_frame import l1_whole_frames, psnr_whole_frames, ssim_whole_frames


def frames(seed: int, shape=(3, 3, 45, 61), noise: int = 30):
    """uint8 ``(N, 3, H, W)`` pairs: random images and a noisy copy, one frame identical."""
    gen = torch.Generator().manual_seed(seed)
    real = torch.randint(0, 256, shape, dtype=torch.uint8, generator=gen)
    step = torch.randint(-noise, noise + 1, shape, generator=gen)
    fake = (real.to(torch.int32) + step).clamp(0, 255).to(torch.uint8)
    fake[0] = real[0]
    return real, fake


@pytest.mark.parametrize("window", ["uniform7", "gaussian11"])
@pytest.mark.parametrize("covariance", ["sample", "population"])
def test_ssim_whole_frames_equals_the_eager_kernel(window, covariance):
    real, fake = frames(0)
    expected = ssim(real, fake, window=window, covariance=covariance)
    got = ssim_whole_frames(real, fake, window=window, covariance=covariance)
    assert got.dtype == torch.float64 and got.shape == (3,)
    torch.testing.assert_close(got, expected, rtol=0, atol=1e-12)
    assert got[0] == pytest.approx(1.0, abs=1e-12) and (got[1:] < 0.99).all()


@pytest.mark.parametrize("variant", ["disco", "skimage", "legacy-uint8"])
def test_psnr_whole_frames_equals_the_eager_kernel(variant):
    real, fake = frames(1)
    expected, got = (
        psnr(real, fake, variant=variant),
        psnr_whole_frames(real, fake, variant=variant),
    )
    torch.testing.assert_close(got, expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("variant", ["disco", "mae"])
def test_l1_whole_frames_equals_the_eager_kernel(variant):
    real, fake = frames(2)
    expected, got = l1(real, fake, variant=variant), l1_whole_frames(real, fake, variant=variant)
    torch.testing.assert_close(got, expected, rtol=0, atol=1e-15)


def test_float_frames_are_quantised_like_the_eager_kernels():
    real, fake = frames(3, shape=(2, 3, 16, 20))
    real_f, fake_f = real.double() / 255, fake.double() / 255
    torch.testing.assert_close(
        ssim_whole_frames(real_f, fake_f), ssim(real, fake), rtol=0, atol=1e-12
    )
    torch.testing.assert_close(
        psnr_whole_frames(real_f, fake_f), psnr(real, fake), rtol=0, atol=1e-12
    )


def test_cpu_kernels_compile_uncached_with_a_warning_where_no_cache_can_be_written(monkeypatch):
    import hvg_eval.ops._numba as helper

    numba_njit = helper.njit

    def njit(*, cache=False, **options):
        if cache:  # what numba raises when no cache directory is writable
            raise RuntimeError("cannot cache function 'f': no locator available for file 'f.py'")
        return numba_njit(**options)

    monkeypatch.setattr(helper, "njit", njit)
    with pytest.warns(RuntimeWarning, match="NUMBA_CACHE_DIR"):
        add_one = helper.cpu_kernel()(lambda x: x + 1)
    assert add_one(1) == 2
