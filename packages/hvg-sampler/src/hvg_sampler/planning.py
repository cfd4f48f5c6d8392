"""Sampler planning: from options to each step's windows, weights, packing and cost.

:class:`WindowedPlanning` turns a sampler's options (:class:`hvg_sampler.options.SamplerOptions`)
into the plan of every step (:class:`hvg_sampler.plan.StepPlan`: passes of windows with their
fusion weights), checks it against the window budget, packs windows into denoiser calls and
prices a whole run without a model (:mod:`hvg_sampler.cost`). It never touches a tensor of
latents: executing a plan is :class:`hvg_sampler.samplers.base.WindowedSampler`'s job, which
subclasses this class. A sampler plugin only writes :meth:`WindowedPlanning.passes`.

(``hvg_sampler.plan`` holds the plan's data types; this module builds plans.)
"""

from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, ClassVar

from hvg_core.errors import InputError

from hvg_sampler.budget import WindowBudget, scaled_overlap
from hvg_sampler.cost import CostReport, plan_cost
from hvg_sampler.options import SamplerOptions, split_options
from hvg_sampler.plan import CallPlan, FusionPass, StepPlan, pack_calls
from hvg_sampler.weights._evaluate import fusion_weight_by_name
from hvg_sampler.windows import check_axis_windows


def resolve_planner(planner: Any, axis: str) -> Any:
    """A window planner from a registered name, a planner class or a planner object.

    Raises:
        InputError: Not a registered name nor a callable with a ``cyclic`` attribute.
    """
    if isinstance(planner, str):
        from hvg_core.registry import get_registry

        planner = get_registry().load("window_planners", planner)
    if isinstance(planner, type):
        planner = planner(axis=axis)
    if not callable(planner) or not hasattr(planner, "cyclic"):
        raise InputError(
            f"{axis} planner must be a registered name or a callable with a `cyclic` attribute",
            field=f"{axis}_planner",
        )
    return planner


def resolve_noise_init(noise_init: Any, period: int) -> Any:
    """A noise init from a registered name, a class or an object.

    A class that takes a ``period`` (periodic noise) repeats with ``period`` frames.
    """
    if isinstance(noise_init, str):
        from hvg_core.registry import get_registry

        noise_init = get_registry().load("noise_inits", noise_init)
    if isinstance(noise_init, type):
        accepts_period = "period" in inspect.signature(noise_init).parameters
        noise_init = noise_init(period=period) if accepts_period else noise_init()
    return noise_init


class WindowedPlanning(ABC):
    """Windows over time and views for every step, from one set of sampler options.

    Args:
        **options: The fields of :attr:`options_class` (see
            :class:`hvg_sampler.samplers.base.WindowedSampler` for their meaning). Fusion
            weights, planners, the axis blend, the scheduler and the noise init may also be
            Python objects; those are used but not written by ``to_config``.

    Raises:
        InputError: An unknown option, a value of the wrong type, an unregistered name, or a
            window larger than the budget on its own axis.
    """

    #: Registry name of the sampler (set by subclasses).
    name: ClassVar[str] = "windowed"
    #: Default fusion weight when the caller gives none.
    default_fusion_weight: ClassVar[str] = "pyramid"
    #: The options dataclass; a sampler with options of its own subclasses SamplerOptions.
    options_class: ClassVar[type[SamplerOptions]] = SamplerOptions

    def __init__(self, **options: Any) -> None:
        values, objects = split_options(options)
        self.options = self.options_class.from_dict(values, source=f"{self.name} sampler options")
        #: Options given as Python objects: used, but left out of ``to_config``.
        self.not_serialised: tuple[str, ...] = tuple(sorted(objects))
        opts = self.options
        self._check_ranges(opts, objects)
        self.frame_window, self.frame_overlap = opts.frame_window, opts.frame_overlap
        self.view_window, self.view_overlap = opts.view_window, opts.view_overlap
        shared = objects.get("fusion_weight", opts.fusion_weight) or self.default_fusion_weight
        frame_weight = objects.get("frame_fusion_weight", opts.frame_fusion_weight)
        view_weight = objects.get("view_fusion_weight", opts.view_fusion_weight)
        self.frame_fusion_weight = fusion_weight_by_name(frame_weight or shared)
        self.view_fusion_weight = fusion_weight_by_name(view_weight or shared)
        frame_planner = objects.get("frame_planner", opts.frame_planner)
        view_planner = objects.get("view_planner", opts.view_planner)
        self.frame_planner = resolve_planner(
            frame_planner or self.default_planner("frame"), "frame"
        )
        self.view_planner = resolve_planner(view_planner or self.default_planner("view"), "view")
        self.normalisation = opts.normalisation
        self.axis_blend: float | Callable[[float], float] = objects.get(
            "axis_blend", opts.axis_blend
        )
        self.num_steps = opts.num_steps
        self.scheduler: Any = objects.get("scheduler", opts.scheduler)
        self.min_guidance_scale = opts.min_guidance_scale
        self.max_guidance_scale = opts.max_guidance_scale
        self.cfg_batch = opts.cfg_batch
        self.max_images_per_call = opts.max_images_per_call
        self.noise_init = resolve_noise_init(
            objects.get("noise_init", opts.noise_init), self.frame_window
        )
        self.max_views_per_time_window = opts.max_views_per_time_window
        self.max_frames_per_view_window = opts.max_frames_per_view_window
        self.budget = WindowBudget(
            max_images=opts.max_images_per_window,
            max_frames=opts.max_frames_per_window,
            source="sampler",
        )

    def default_planner(self, axis: str) -> Any:
        """The planner of ``axis`` when the options name none: sliding time, cyclic views."""
        return "sliding" if axis == "frame" else "cyclic"

    @staticmethod
    def _check_ranges(opts: SamplerOptions, objects: dict[str, Any]) -> None:
        def fail(message: str, field: str) -> None:
            raise InputError(message, field=field)

        if opts.num_steps < 1:
            fail(f"num_steps must be >= 1, got {opts.num_steps}", "num_steps")
        if opts.max_images_per_call is not None and opts.max_images_per_call < 1:
            fail(
                f"max_images_per_call must be >= 1 or None, got {opts.max_images_per_call}",
                "max_images_per_call",
            )
        if "axis_blend" not in objects and not 0 <= opts.axis_blend <= 1:
            fail(f"axis_blend must lie in [0, 1], got {opts.axis_blend}", "axis_blend")
        for name in ("max_views_per_time_window", "max_frames_per_view_window"):
            cap = getattr(opts, name)
            if cap is not None and cap < 1:
                fail(f"{name} must be >= 1 or None, got {cap}", name)
        frames_cap, images_cap = opts.max_frames_per_window, opts.max_images_per_window
        if frames_cap is not None and opts.frame_window > frames_cap:
            fail(
                f"frame_window {opts.frame_window} exceeds the training budget of "
                f"{frames_cap} frames per window; lower it or raise max_frames_per_window",
                "frame_window",
            )
        if images_cap is not None and opts.view_window > images_cap:
            fail(
                f"view_window {opts.view_window} exceeds the training budget of "
                f"{images_cap} images per window; lower it or raise max_images_per_window",
                "view_window",
            )

    # ------------------------------------------------------------------------------ axes

    @property
    def uses_guidance(self) -> bool:
        """Whether CFG runs (SVD's rule: ``max_guidance_scale > 1``)."""
        return self.max_guidance_scale > 1.0

    def blend_at(self, sigma: float) -> float:
        """Weight of the temporal pass at noise level ``sigma``."""
        blend = self.axis_blend
        value = float(blend(sigma)) if callable(blend) else float(blend)
        if not 0 <= value <= 1:
            raise InputError(f"axis_blend({sigma}) = {value} is outside [0, 1]", field="axis_blend")
        return value

    def frame_windows(self, num_frames: int) -> tuple[tuple[int, ...], ...]:
        """Temporal windows of a video of ``num_frames``."""
        return tuple(self.frame_planner(num_frames, self.frame_window, self.frame_overlap))

    def view_windows(self, num_views: int) -> tuple[tuple[int, ...], ...]:
        """View windows of ``num_views`` views."""
        return tuple(self.view_planner(num_views, self.view_window, self.view_overlap))

    def views_per_time_window(self, num_frames: int) -> int | None:
        """Views a temporal window may hold: the explicit cap and the budget (``None``: all)."""
        caps = [
            self.max_views_per_time_window,
            self.budget.views_for(min(self.frame_window, num_frames)),
        ]
        present = [cap for cap in caps if cap is not None]
        return min(present) if present else None

    def frames_per_view_window(self, num_views: int) -> int | None:
        """Frames a view window may hold: the explicit cap and the budget (``None``: all)."""
        caps = [
            self.max_frames_per_view_window,
            self.budget.frames_for(min(self.view_window, num_views)),
        ]
        present = [cap for cap in caps if cap is not None]
        return min(present) if present else None

    # ---------------------------------------------------------------------------- passes

    def time_pass(self, num_frames: int, num_views: int, blend: float = 1.0) -> FusionPass:
        """Temporal windows of all views, or of view groups within the budget.

        The groups come from the view planner with ``view_overlap`` scaled to the group size
        (:func:`hvg_sampler.budget.scaled_overlap`).
        """
        cap = self.views_per_time_window(num_frames)
        if cap is None or cap >= num_views:
            view_windows: tuple[tuple[int, ...], ...] = (tuple(range(num_views)),)
        else:
            overlap = scaled_overlap(cap, self.view_window, self.view_overlap)
            view_windows = tuple(self.view_planner(num_views, cap, overlap))
        return self._pass("time", self.frame_windows(num_frames), view_windows, blend)

    def view_pass(self, num_frames: int, num_views: int, blend: float = 1.0) -> FusionPass:
        """View windows of all frames, or of frame chunks within the budget.

        The chunks come from the frame planner with ``frame_overlap`` scaled to the chunk size.
        """
        cap = self.frames_per_view_window(num_views)
        if cap is None or cap >= num_frames:
            frame_windows: tuple[tuple[int, ...], ...] = (tuple(range(num_frames)),)
        else:
            overlap = scaled_overlap(cap, self.frame_window, self.frame_overlap)
            frame_windows = tuple(self.frame_planner(num_frames, cap, overlap))
        return self._pass("view", frame_windows, self.view_windows(num_views), blend)

    def _pass(
        self,
        name: str,
        frame_windows: tuple[tuple[int, ...], ...],
        view_windows: tuple[tuple[int, ...], ...],
        blend: float = 1.0,
    ) -> FusionPass:
        return FusionPass(
            name=name,
            frame_windows=frame_windows,
            view_windows=view_windows,
            frame_weight=self.frame_fusion_weight,
            view_weight=self.view_fusion_weight,
            blend=blend,
            frame_cyclic=bool(self.frame_planner.cyclic),
            view_cyclic=bool(self.view_planner.cyclic),
        )

    @abstractmethod
    def passes(
        self, num_frames: int, num_views: int, step_index: int, sigma: float
    ) -> tuple[FusionPass, ...]:
        """The fusion passes of one step."""

    # ------------------------------------------------------------------------------ plans

    def step_plan(self, num_frames: int, num_views: int, step_index: int, sigma: float) -> StepPlan:
        """The plan of one step, with its window invariants checked.

        Raises:
            InputError: A planner broke an invariant (see
                :func:`hvg_sampler.windows.check_axis_windows`) or a window exceeds the budget.
        """
        plan = StepPlan(
            passes=self.passes(num_frames, num_views, step_index, sigma),
            normalisation=self.normalisation,
            sigma=sigma,
        )
        for fusion_pass in plan.passes:
            frame_size = max(len(w) for w in fusion_pass.frame_windows)
            view_size = max(len(w) for w in fusion_pass.view_windows)
            check_axis_windows(
                fusion_pass.frame_windows,
                num_frames,
                frame_size,
                cyclic=fusion_pass.frame_cyclic,
                axis="frame",
            )
            check_axis_windows(
                fusion_pass.view_windows,
                num_views,
                view_size,
                cyclic=fusion_pass.view_cyclic,
                axis="view",
            )
        self._check_budget(plan)
        return plan

    def _check_budget(self, plan: StepPlan) -> None:
        """Refuse a plan with a window over the training budget (a planner's bug or plugin)."""
        budget = self.budget
        for window in plan.windows:
            over_images = budget.max_images is not None and window.num_images > budget.max_images
            over_frames = budget.max_frames is not None and len(window.frames) > budget.max_frames
            if over_images or over_frames:
                raise InputError(
                    f"the {window.pass_name!r} window of {len(window.views)} views × "
                    f"{len(window.frames)} frames exceeds the training budget "
                    f"({budget.max_images} images, {budget.max_frames} frames per window); "
                    "lower the windows or raise max_images_per_window / max_frames_per_window",
                    field="max_images_per_window",
                )

    def calls(
        self, plan: StepPlan, *, batch_size: int = 1, cfg: bool | None = None
    ) -> list[CallPlan]:
        """How the plan's windows are packed into denoiser calls."""
        use_cfg = self.uses_guidance if cfg is None else cfg
        return pack_calls(
            plan.windows,
            branches=("cond", "uncond") if use_cfg else ("cond",),
            batch_size=batch_size,
            cfg_batch=self.cfg_batch,
            max_images_per_call=self.max_images_per_call,
        )

    def cost(
        self,
        num_frames: int,
        num_views: int,
        *,
        batch_size: int = 1,
        cfg: bool | None = None,
        num_steps: int | None = None,
    ) -> CostReport:
        """Dry run: the windows, calls and image evaluations sampling would do."""
        return plan_cost(
            self,
            num_frames,
            num_views,
            batch_size=batch_size,
            cfg=self.uses_guidance if cfg is None else cfg,
            num_steps=self.num_steps if num_steps is None else num_steps,
        )


__all__ = ["WindowedPlanning", "resolve_noise_init", "resolve_planner"]
