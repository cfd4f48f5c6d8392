"""Built-in samplers, one per file; all share :class:`WindowedSampler`'s loop."""

from hvg_sampler.samplers.alternate import AlternateSampler
from hvg_sampler.samplers.base import SamplerOutput, WindowedSampler
from hvg_sampler.samplers.human4dit import Human4DiTSampler
from hvg_sampler.samplers.hvg import HVGSampler
from hvg_sampler.samplers.mimicmotion import MimicMotionSampler
from hvg_sampler.samplers.temporal import TemporalSampler
from hvg_sampler.samplers.view import ViewSampler

__all__ = [
    "AlternateSampler",
    "HVGSampler",
    "Human4DiTSampler",
    "MimicMotionSampler",
    "SamplerOutput",
    "TemporalSampler",
    "ViewSampler",
    "WindowedSampler",
]
