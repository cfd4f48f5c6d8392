"""The options every windowed sampler takes, as one :class:`hvg_core.config.Config` dataclass.

A sampler keeps its options in ``sampler.options`` and writes them with
:meth:`~hvg_sampler.samplers.base.WindowedSampler.to_config`; parts chosen by name (planners,
fusion weights, noise inits, schedulers) must be registered under their kind. Options given as
Python objects instead of names (a callable blend, a planner or scheduler instance) work but are
not part of the config: the sampler lists them in ``not_serialised``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from hvg_core.config import Config, registered

from hvg_sampler.budget import PAPER_BUDGET

#: The fields a sampler also accepts as a Python object instead of a name or number.
OBJECT_OPTIONS = (
    "fusion_weight",
    "frame_fusion_weight",
    "view_fusion_weight",
    "frame_planner",
    "view_planner",
    "axis_blend",
    "scheduler",
    "noise_init",
)


@dataclass
class SamplerOptions(Config):
    """Options of :class:`~hvg_sampler.samplers.base.WindowedSampler` (see its docstring).

    ``None`` for a fusion weight or a planner means "the sampler's default" (e.g. flat weights
    and partition planners for ``human4dit``); ``None`` for a budget means "no limit".
    """

    #: 2: the ``version`` key and a ``None`` planner meaning the sampler's default.
    CONFIG_VERSION: ClassVar[int] = 2
    LEGACY_VERSION_KEYS: ClassVar[tuple[str, ...]] = ("config_version",)

    frame_window: int = 24
    frame_overlap: int = 8
    view_window: int = 6
    view_overlap: int = 2
    fusion_weight: str | None = registered("fusion_weights", None)
    frame_fusion_weight: str | None = registered("fusion_weights", None)
    view_fusion_weight: str | None = registered("fusion_weights", None)
    frame_planner: str | None = registered("window_planners", None)
    view_planner: str | None = registered("window_planners", None)
    normalisation: Literal["separate", "joint"] = "separate"
    axis_blend: float = 0.5
    num_steps: int = 25
    scheduler: str = registered("schedulers", "edm-euler")
    min_guidance_scale: float = 1.0
    max_guidance_scale: float = 3.0
    cfg_batch: bool = True
    max_images_per_call: int | None = None
    noise_init: str = registered("noise_inits", "independent")
    max_views_per_time_window: int | None = None
    max_frames_per_view_window: int | None = None
    max_images_per_window: int | None = PAPER_BUDGET.max_images
    max_frames_per_window: int | None = PAPER_BUDGET.max_frames

    @classmethod
    def upgrade(cls, data: dict[str, Any], version: int) -> dict[str, Any]:
        """Version 1 wrote the sampler's default planners by name and a ``not_serialised`` list."""
        data = dict(data)
        data.pop("not_serialised", None)
        return data


@dataclass
class MimicMotionOptions(SamplerOptions):
    """:class:`SamplerOptions` plus the frames MimicMotion keeps in every temporal tile."""

    anchors: list[int] = field(default_factory=lambda: [0])


def split_options(options: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Separate plain values (config) from Python objects (kept by the sampler only).

    Args:
        options: Keyword options given to a sampler.

    Returns:
        ``(values, objects)``: ``objects`` holds the :data:`OBJECT_OPTIONS` given as something
        other than a name, a number or ``None``.
    """
    values, objects = {}, {}
    for key, value in options.items():
        plain = value is None or isinstance(value, str | int | float | bool | list | tuple)
        if key in OBJECT_OPTIONS and not plain:
            objects[key] = value
        else:
            values[key] = list(value) if isinstance(value, tuple) else value
    return values, objects


__all__ = ["OBJECT_OPTIONS", "MimicMotionOptions", "SamplerOptions", "split_options"]
