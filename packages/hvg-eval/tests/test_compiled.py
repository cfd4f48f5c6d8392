import pytest
import torch
from hvg_core.errors import HVGError, InputError

from hvg_eval.metrics.l1 import L1
from hvg_eval.metrics.psnr import PSNR
from hvg_eval.metrics.ssim import SSIM
from hvg_eval.ops import compiled as compiled_module
from hvg_eval.testing import random_videos


@pytest.mark.slow
@pytest.mark.parametrize("metric", [SSIM, PSNR, L1])
def test_compiled_kernels_equal_eager(metric):
    real, fake = random_videos(0, (1, 2, 2, 40, 48))
    eager, fast = metric(), metric(compile=True)
    eager.update(real, fake)
    fast.update(real, fake)
    assert fast.compute() == pytest.approx(eager.compute(), rel=0, abs=1e-12)
    assert fast.conventions()["compiled"] is True


def test_compile_failures_are_reported_not_swallowed(monkeypatch):
    from torch._dynamo.exc import BackendCompilerFailed

    def failing_compile(function):
        def run(*args, **kwargs):
            raise BackendCompilerFailed("inductor", RuntimeError("no C++ compiler"), None)

        return run

    monkeypatch.setattr(torch, "compile", failing_compile)
    metric = SSIM(compile=True)
    real, fake = random_videos(1, (1, 1, 1, 16, 16))
    with pytest.raises(
        HVGError, match=r"torch\.compile of ssim_whole_frames failed.*without --compile"
    ):
        metric.update(real, fake)


def test_errors_of_the_metric_itself_pass_through_unchanged(monkeypatch):
    monkeypatch.setattr(torch, "compile", lambda function: function)
    kernel = compiled_module.compiled(lambda real, fake: (_ for _ in ()).throw(InputError("bad")))
    with pytest.raises(InputError, match="bad"):
        kernel(None, None)
