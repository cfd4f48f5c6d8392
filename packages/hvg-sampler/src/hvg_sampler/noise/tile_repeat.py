"""MimicMotion's periodic noise: frame ``t`` reuses the noise of frame ``t mod period``."""

from __future__ import annotations

from hvg_core.errors import InputError

from hvg_sampler.noise.independent import IndependentNoise


class TileRepeatNoise(IndependentNoise):
    """Noise of the first ``period`` frames repeated along time (per view).

    MimicMotion tiles one ``tile_size`` block of noise over the video; ADE calls this
    ``repeated_context``. diffusers' ``repeat_context`` silently did nothing (research §8 #3);
    here frame ``t`` provably equals frame ``t mod period``.

    Args:
        period: Repetition period in frames (usually the frame window).
    """

    def __init__(self, period: int = 24) -> None:
        if period < 1:
            raise InputError(f"period must be >= 1, got {period}", field="period")
        self.period = int(period)

    def source_frame(self, frame: int) -> int:
        """``frame mod period``."""
        return frame % self.period

    def __repr__(self) -> str:
        return f"TileRepeatNoise(period={self.period})"
