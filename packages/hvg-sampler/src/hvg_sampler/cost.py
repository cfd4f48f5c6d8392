"""Dry-run cost planner: windows, denoiser calls and image evaluations, without a model."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from hvg_sampler.budget import WindowBudget
from hvg_sampler.plan import CallPlan, StepPlan
from hvg_sampler.windows import Window


class PlannedSampler(Protocol):
    """What the cost planner reads from a sampler (``hvg_sampler.planning.WindowedPlanning``).

    The cost planner depends on this contract only, never on the sampler's module, so planning
    can price itself without an import circle.
    """

    name: str
    scheduler: Any
    budget: WindowBudget
    frame_planner: Any
    view_planner: Any
    frame_window: int
    frame_overlap: int
    view_window: int
    view_overlap: int

    def step_plan(self, num_frames: int, num_views: int, step_index: int, sigma: float) -> StepPlan:
        """The checked plan of one step."""
        ...

    def calls(
        self, plan: StepPlan, *, batch_size: int = 1, cfg: bool | None = None
    ) -> list[CallPlan]:
        """The plan's windows packed into denoiser calls."""
        ...


@dataclass(frozen=True)
class CostReport:
    """What sampling would cost (research/sampler.md §5).

    Attributes:
        sampler: Registry name of the sampler.
        num_frames: ``T``.
        num_views: ``V``.
        num_steps: ``S``.
        batch_size: ``B``.
        cfg: Whether classifier-free guidance doubles the work.
        windows: Distinct windows in first-use order, with the steps that run them.
        calls_by_step: Denoiser calls at each step.
        images_by_step: Image evaluations (``Σ N·v·t`` over calls) at each step.
        full_pass_images: Image evaluations of one unwindowed pass per step, ``c·B·T·V``.
        peak_images_per_call: The largest call (``N·v·t`` images): what sizes activation memory.
        accumulator_grids: Full ``(B, V, T, C, h, w)`` buffers the fusion keeps (3 per branch:
            base, delta, scratch), next to the latents themselves.
        warnings: Plan smells (redundant passes, windows that cover the axis anyway, ...).
        budget: The sampler's window budget (:meth:`hvg_sampler.budget.WindowBudget.to_json`).
        peak_images_per_window: The largest window (``v · t`` images of one sample).
        peak_frames_per_window: The longest window in frames.
    """

    sampler: str
    num_frames: int
    num_views: int
    num_steps: int
    batch_size: int
    cfg: bool
    windows: tuple[tuple[Window, tuple[int, ...]], ...]
    calls_by_step: tuple[int, ...]
    images_by_step: tuple[int, ...]
    full_pass_images: int
    peak_images_per_call: int = 0
    accumulator_grids: int = 0
    warnings: tuple[str, ...] = field(default=())
    budget: dict[str, Any] = field(default_factory=dict)
    peak_images_per_window: int = 0
    peak_frames_per_window: int = 0

    @property
    def calls_total(self) -> int:
        """Denoiser calls over all steps."""
        return sum(self.calls_by_step)

    @property
    def calls_per_step(self) -> float:
        """Mean denoiser calls per step (an integer unless the plan changes by step)."""
        mean = self.calls_total / self.num_steps
        return int(mean) if mean == int(mean) else mean

    @property
    def image_evaluations_total(self) -> int:
        """Image evaluations over all steps."""
        return sum(self.images_by_step)

    @property
    def overhead(self) -> float:
        """Image evaluations relative to one full pass per step (1.0 = no windowing cost)."""
        return self.image_evaluations_total / (self.full_pass_images * self.num_steps)

    def to_json(self) -> dict[str, Any]:
        """The ``hvg-sampler plan --json`` object."""
        every = tuple(range(self.num_steps))
        images_per_step = self.image_evaluations_total / self.num_steps
        return {
            "sampler": self.sampler,
            "frames": self.num_frames,
            "views": self.num_views,
            "steps": self.num_steps,
            "batch_size": self.batch_size,
            "cfg": self.cfg,
            "windows": [
                {
                    "pass": window.pass_name,
                    "frames": list(window.frames),
                    "views": list(window.views),
                    "images": window.num_images,
                    "steps": "all" if steps == every else list(steps),
                }
                for window, steps in self.windows
            ],
            "calls_per_step": self.calls_per_step,
            "calls_by_step": list(self.calls_by_step),
            "calls_total": self.calls_total,
            "image_evaluations_per_step": int(images_per_step)
            if images_per_step == int(images_per_step)
            else images_per_step,
            "image_evaluations_total": self.image_evaluations_total,
            "full_pass_image_evaluations_per_step": self.full_pass_images,
            "overhead_vs_full_pass": round(self.overhead, 6),
            "peak_images_per_call": self.peak_images_per_call,
            "accumulator_grids": self.accumulator_grids,
            "budget": dict(self.budget),
            "peak_images_per_window": self.peak_images_per_window,
            "peak_frames_per_window": self.peak_frames_per_window,
            "warnings": list(self.warnings),
        }


def plan_cost(
    sampler: PlannedSampler,
    num_frames: int,
    num_views: int,
    *,
    batch_size: int = 1,
    cfg: bool = True,
    num_steps: int = 25,
) -> CostReport:
    """Walk the steps with the sampler's own planning and packing code (no denoiser).

    The counts come from the same :meth:`~hvg_sampler.planning.WindowedPlanning.step_plan`
    and :meth:`~hvg_sampler.planning.WindowedPlanning.calls` the loop uses, with the EDM σ of each step, so they equal
    what :meth:`~WindowedSampler.sample` does (a test counts real calls).
    """
    from hvg_sampler.schedulers.factory import make_schedule

    schedule = make_schedule(sampler.scheduler, num_steps)
    first_use: dict[Window, list[int]] = {}
    calls_by_step, images_by_step = [], []
    peak = 0
    for step_index in range(num_steps):
        plan = sampler.step_plan(
            num_frames, num_views, step_index, float(schedule.sigmas[step_index])
        )
        for window in plan.windows:
            first_use.setdefault(window, []).append(step_index)
        calls = sampler.calls(plan, batch_size=batch_size, cfg=cfg)
        calls_by_step.append(len(calls))
        images_by_step.append(sum(call.num_images(batch_size) for call in calls))
        peak = max([peak, *(call.num_images(batch_size) for call in calls)])
    pass_names = {window.pass_name for window in first_use}
    warnings = _warnings(sampler, num_frames, num_views, pass_names)
    return CostReport(
        sampler=sampler.name,
        num_frames=num_frames,
        num_views=num_views,
        num_steps=num_steps,
        batch_size=batch_size,
        cfg=cfg,
        windows=tuple((window, tuple(steps)) for window, steps in first_use.items()),
        calls_by_step=tuple(calls_by_step),
        images_by_step=tuple(images_by_step),
        full_pass_images=(2 if cfg else 1) * batch_size * num_frames * num_views,
        peak_images_per_call=peak,
        accumulator_grids=3 * (2 if cfg else 1),
        warnings=tuple(warnings),
        budget=sampler.budget.to_json(),
        peak_images_per_window=max(window.num_images for window in first_use),
        peak_frames_per_window=max(len(window.frames) for window in first_use),
    )


def _warnings(
    sampler: PlannedSampler, num_frames: int, num_views: int, pass_names: set[str]
) -> list[str]:
    from hvg_sampler.planners.partition import PartitionPlanner

    notes = []
    uses_time = bool(pass_names & {"time", "grid"})
    uses_views = bool(pass_names & {"view", "grid"})
    partition_frames = isinstance(sampler.frame_planner, PartitionPlanner)
    partition_views = isinstance(sampler.view_planner, PartitionPlanner)
    if uses_time and num_frames <= sampler.frame_window:
        notes.append(
            f"frames ({num_frames}) <= frame window ({sampler.frame_window}): one temporal "
            "window covers the video, the temporal pass is a full pass"
        )
    if uses_views and num_views <= sampler.view_window:
        notes.append(
            f"views ({num_views}) <= view window ({sampler.view_window}): one view window "
            "covers all views, the view pass repeats a full pass of all images"
        )
    if uses_time and not partition_frames and sampler.frame_overlap == 0:
        notes.append("frame overlap 0: temporal windows do not blend, expect seams")
    if uses_views and not partition_views and sampler.view_overlap == 0:
        notes.append("view overlap 0: view windows do not blend, expect seams")
    if (partition_frames and sampler.frame_overlap) or (partition_views and sampler.view_overlap):
        notes.append("partition planners do not overlap: the overlaps are ignored")
    return notes
