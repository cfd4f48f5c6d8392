"""The contract helpers plugin authors use must be able to fail."""

import pytest

from hvg_sampler.samplers.temporal import TemporalSampler
from hvg_sampler.testing import check_sampler


class DropsLastCall(TemporalSampler):
    """Broken: skips its last denoiser call (images of that window are never fused)."""

    def calls(self, plan, *, batch_size=1, cfg=None):
        return super().calls(plan, batch_size=batch_size, cfg=cfg)[:-1]


class CostLies(TemporalSampler):
    """Broken: its dry run under-reports the calls."""

    def cost(self, *args, **kwargs):
        import dataclasses

        report = super().cost(*args, **kwargs)
        return dataclasses.replace(report, calls_by_step=tuple(c - 1 for c in report.calls_by_step))


def test_working_sampler_passes():
    check_sampler(lambda **options: TemporalSampler(**options))


@pytest.mark.parametrize("broken", [DropsLastCall, CostLies])
def test_broken_samplers_fail(broken):
    with pytest.raises(AssertionError):
        check_sampler(lambda **options: broken(**options))
