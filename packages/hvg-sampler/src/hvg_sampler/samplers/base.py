"""The windowed sampling loop shared by every built-in sampler."""

from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from hvg_core.errors import InputError

from hvg_sampler.budget import PAPER_BUDGET, WindowBudget, scaled_overlap
from hvg_sampler.callbacks import SamplerCallback
from hvg_sampler.conditioning import Conditioning, slice_conditioning, take
from hvg_sampler.fusion import WindowFusion
from hvg_sampler.guidance import apply_guidance, linear_frame_guidance
from hvg_sampler.plan import NORMALISATIONS, CallPlan, FusionPass, StepPlan, pack_calls
from hvg_sampler.protocols import Denoiser
from hvg_sampler.schedulers.base import Schedule, make_schedule
from hvg_sampler.weights._evaluate import accepts_sigma, fusion_weight_by_name

LATENT_LETTERS = "(B, V, T, C, h, w)"
#: Options whose ``None`` (no budget) is written into configs.
BUDGET_KEYS = ("max_images_per_window", "max_frames_per_window")


@dataclass(frozen=True)
class SamplerOutput:
    """Result of :meth:`WindowedSampler.sample`.

    Attributes:
        latents: ``(B, V, T, C, h, w)`` denoised latents (σ = 0), dtype of the input noise.
        num_denoiser_calls: Denoiser calls made.
        image_evaluations: Latent images evaluated over all calls (``Σ N·v·t``).
        sigmas: ``(S + 1,)`` the noise levels used.
    """

    latents: torch.Tensor
    num_denoiser_calls: int
    image_evaluations: int
    sigmas: torch.Tensor


def _resolve_planner(planner: Any, axis: str) -> Any:
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


class WindowedSampler(ABC):
    """Windows over time and views, model outputs fused, one scheduler step per step.

    Every built-in sampler takes the same keyword arguments (a sampler ignores the windows of an
    axis it does not split), so they can be built by name from the registry with one set of
    options (:func:`hvg_sampler.build_sampler`).

    Args:
        frame_window: Frames per temporal window ``N_t``.
        frame_overlap: Frames shared by neighbouring temporal windows ``O_t``.
        view_window: Views per view window ``N_v``.
        view_overlap: Views shared by neighbouring view windows ``O_v``.
        fusion_weight: Registered fusion-weight name (or callable) for both axes.
        frame_fusion_weight: Override for the time axis.
        view_fusion_weight: Override for the view axis.
        frame_planner: Registered window-planner name (or planner) for time.
        view_planner: Registered window-planner name (or planner) for views (``"cyclic"`` for a
            360° orbit, ``"sliding"`` for an open arc).
        normalisation: ``"separate"`` (normalise each pass, then blend) or ``"joint"``.
        axis_blend: Weight of the temporal pass when blending with the view pass, a number in
            ``[0, 1]`` or a callable ``σ -> weight``.
        num_steps: Denoising steps.
        scheduler: ``"edm-euler"`` (SVD-xt) or a diffusers scheduler object.
        min_guidance_scale: CFG scale at the first frame (SVD-xt default 1.0).
        max_guidance_scale: CFG scale at the last frame (SVD-xt default 3.0); CFG runs when it is
            above 1.
        cfg_batch: Run the cond and uncond branches in one call (else two calls).
        max_images_per_call: Pack consecutive equal-shape windows into one call up to this many
            images (``B · windows · v · t``, both branches counted); ``None``: one window per call.
        noise_init: Registered noise-init name (or object) for the initial noise.
        max_views_per_time_window: Split the views of each temporal window into groups of at
            most this many (view planner, ``view_overlap``) when the model cannot take all
            ``V`` views in one call (``g_V`` of research §5); ``None``: as many as the budget
            allows.
        max_frames_per_view_window: Likewise, split the frames of each view window into chunks
            (frame planner, ``frame_overlap``); ``None``: as many as the budget allows.
        max_images_per_window: Training budget, images ``v · t`` per window and sample (default
            72, HVG's stage-2 sample, :mod:`hvg_sampler.budget`); ``None``: unlimited (every
            temporal window holds all views and every view window all frames).
        max_frames_per_window: Training budget, frames per window (default 24, the longest
            stage-2 layout); ``None``: unlimited.

    Raises:
        InputError: A window larger than the budget on its own axis (``frame_window`` above
            ``max_frames_per_window``, ``view_window`` above ``max_images_per_window``).
    """

    #: Registry name of the sampler (set by subclasses).
    name = "windowed"
    #: Default fusion weight when the caller gives none.
    default_fusion_weight = "pyramid"

    def __init__(
        self,
        *,
        frame_window: int = 24,
        frame_overlap: int = 8,
        view_window: int = 6,
        view_overlap: int = 2,
        fusion_weight: str | Callable[..., Any] | None = None,
        frame_fusion_weight: str | Callable[..., Any] | None = None,
        view_fusion_weight: str | Callable[..., Any] | None = None,
        frame_planner: Any = "sliding",
        view_planner: Any = "cyclic",
        normalisation: str = "separate",
        axis_blend: float | Callable[[float], float] = 0.5,
        num_steps: int = 25,
        scheduler: Any = "edm-euler",
        min_guidance_scale: float = 1.0,
        max_guidance_scale: float = 3.0,
        cfg_batch: bool = True,
        max_images_per_call: int | None = None,
        noise_init: Any = "independent",
        max_views_per_time_window: int | None = None,
        max_frames_per_view_window: int | None = None,
        max_images_per_window: int | None = PAPER_BUDGET.max_images,
        max_frames_per_window: int | None = PAPER_BUDGET.max_frames,
    ) -> None:
        if normalisation not in NORMALISATIONS:
            raise InputError(
                f"normalisation must be one of {NORMALISATIONS}, got {normalisation!r}",
                field="normalisation",
            )
        if num_steps < 1:
            raise InputError(f"num_steps must be >= 1, got {num_steps}", field="num_steps")
        if max_images_per_call is not None and max_images_per_call < 1:
            raise InputError(
                f"max_images_per_call must be >= 1 or None, got {max_images_per_call}",
                field="max_images_per_call",
            )
        if not callable(axis_blend) and not 0 <= float(axis_blend) <= 1:
            raise InputError(f"axis_blend must lie in [0, 1], got {axis_blend}", field="axis_blend")
        self.frame_window, self.frame_overlap = int(frame_window), int(frame_overlap)
        self.view_window, self.view_overlap = int(view_window), int(view_overlap)
        shared_weight = fusion_weight if fusion_weight is not None else self.default_fusion_weight
        self.frame_fusion_weight = fusion_weight_by_name(frame_fusion_weight or shared_weight)
        self.view_fusion_weight = fusion_weight_by_name(view_fusion_weight or shared_weight)
        self.frame_planner = _resolve_planner(frame_planner, "frame")
        self.view_planner = _resolve_planner(view_planner, "view")
        self.normalisation = normalisation
        self.axis_blend = axis_blend
        self.num_steps = int(num_steps)
        self.scheduler = scheduler
        self.min_guidance_scale = float(min_guidance_scale)
        self.max_guidance_scale = float(max_guidance_scale)
        self.cfg_batch = bool(cfg_batch)
        self.max_images_per_call = max_images_per_call
        noise_init_name = noise_init if isinstance(noise_init, str) else None
        if isinstance(noise_init, str):
            from hvg_core.registry import get_registry

            noise_init = get_registry().load("noise_inits", noise_init)
        if isinstance(noise_init, type):
            # Periodic inits repeat with the temporal window unless configured otherwise.
            accepts_period = "period" in inspect.signature(noise_init).parameters
            noise_init = noise_init(period=self.frame_window) if accepts_period else noise_init()
        self.noise_init = noise_init
        for name, cap in (
            ("max_views_per_time_window", max_views_per_time_window),
            ("max_frames_per_view_window", max_frames_per_view_window),
        ):
            if cap is not None and cap < 1:
                raise InputError(f"{name} must be >= 1 or None, got {cap}", field=name)
        self.max_views_per_time_window = max_views_per_time_window
        self.max_frames_per_view_window = max_frames_per_view_window
        self.budget = WindowBudget(
            max_images=max_images_per_window, max_frames=max_frames_per_window, source="sampler"
        )
        if max_frames_per_window is not None and self.frame_window > max_frames_per_window:
            raise InputError(
                f"frame_window {self.frame_window} exceeds the training budget of "
                f"{max_frames_per_window} frames per window; lower it or raise "
                "max_frames_per_window",
                field="frame_window",
            )
        if max_images_per_window is not None and self.view_window > max_images_per_window:
            raise InputError(
                f"view_window {self.view_window} exceeds the training budget of "
                f"{max_images_per_window} images per window; lower it or raise "
                "max_images_per_window",
                field="view_window",
            )
        self._plan_cache: dict[Any, Any] = {}
        self._options = {
            "frame_window": self.frame_window,
            "frame_overlap": self.frame_overlap,
            "view_window": self.view_window,
            "view_overlap": self.view_overlap,
            "fusion_weight": fusion_weight,
            "frame_fusion_weight": frame_fusion_weight,
            "view_fusion_weight": view_fusion_weight,
            "frame_planner": frame_planner,
            "view_planner": view_planner,
            "normalisation": normalisation,
            "axis_blend": axis_blend,
            "num_steps": self.num_steps,
            "scheduler": scheduler,
            "min_guidance_scale": self.min_guidance_scale,
            "max_guidance_scale": self.max_guidance_scale,
            "cfg_batch": self.cfg_batch,
            "max_images_per_call": max_images_per_call,
            # The registered name, never the loaded object (the object cannot be serialised).
            "noise_init": noise_init_name if noise_init_name is not None else noise_init,
            "max_views_per_time_window": max_views_per_time_window,
            "max_frames_per_view_window": max_frames_per_view_window,
            "max_images_per_window": max_images_per_window,
            "max_frames_per_window": max_frames_per_window,
        }

    #: Version of the dictionary :meth:`to_config` writes.
    CONFIG_VERSION = 1

    def to_config(self) -> dict[str, Any]:
        """A JSON-serialisable config that :func:`hvg_sampler.build.sampler_from_config` rebuilds.

        Parts given by registry name are stored by name; options given as Python objects
        (callables, planner instances, scheduler objects) cannot be serialised and are left out
        (listed under ``"not_serialised"``), so the rebuilt sampler uses their defaults.
        """
        config: dict[str, Any] = {"sampler": self.name, "config_version": self.CONFIG_VERSION}
        left_out = []
        for key, value in self._options.items():
            if value is None or isinstance(value, bool | int | float | str):
                # The budget's None (unlimited) differs from its default, so it is written.
                if value is not None or key in BUDGET_KEYS:
                    config[key] = value
            else:
                left_out.append(key)
        config["not_serialised"] = left_out
        return config

    # ----------------------------------------------------------------------------- planning

    @property
    def uses_guidance(self) -> bool:
        """Whether CFG runs (SVD's rule: ``max_guidance_scale > 1``)."""
        return self.max_guidance_scale > 1.0

    def blend_at(self, sigma: float) -> float:
        """Weight of the temporal pass at noise level ``sigma``."""
        value = (
            float(self.axis_blend(sigma)) if callable(self.axis_blend) else float(self.axis_blend)
        )
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
        caps = [cap for cap in caps if cap is not None]
        return min(caps) if caps else None

    def frames_per_view_window(self, num_views: int) -> int | None:
        """Frames a view window may hold: the explicit cap and the budget (``None``: all)."""
        caps = [
            self.max_frames_per_view_window,
            self.budget.frames_for(min(self.view_window, num_views)),
        ]
        caps = [cap for cap in caps if cap is not None]
        return min(caps) if caps else None

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
        return FusionPass(
            name="time",
            frame_windows=self.frame_windows(num_frames),
            view_windows=view_windows,
            frame_weight=self.frame_fusion_weight,
            view_weight=self.view_fusion_weight,
            blend=blend,
            frame_cyclic=bool(self.frame_planner.cyclic),
            view_cyclic=bool(self.view_planner.cyclic),
        )

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
        return FusionPass(
            name="view",
            frame_windows=frame_windows,
            view_windows=self.view_windows(num_views),
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

    def step_plan(self, num_frames: int, num_views: int, step_index: int, sigma: float) -> StepPlan:
        """The plan of one step, with its window invariants checked.

        Raises:
            InputError: A planner broke an invariant (see
                :func:`hvg_sampler.windows.check_axis_windows`).
        """
        from hvg_sampler.windows import check_axis_windows

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
    ):
        """Dry run: the windows, calls and image evaluations sampling would do.

        Returns:
            :class:`hvg_sampler.cost.CostReport`.
        """
        from hvg_sampler.cost import plan_cost

        return plan_cost(
            self,
            num_frames,
            num_views,
            batch_size=batch_size,
            cfg=self.uses_guidance if cfg is None else cfg,
            num_steps=self.num_steps if num_steps is None else num_steps,
        )

    def _fusion_blocks(
        self,
        plan: StepPlan,
        num_frames: int,
        num_views: int,
        device: torch.device,
        dtype: torch.dtype,
    ):
        from hvg_sampler.fusion import plan_blocks
        from hvg_sampler.plan import window_weights

        depends_on_sigma = accepts_sigma(self.frame_fusion_weight) or accepts_sigma(
            self.view_fusion_weight
        )
        key = (
            plan.passes,
            plan.normalisation,
            num_frames,
            num_views,
            plan.sigma if depends_on_sigma else None,
            str(device),
            dtype,
        )
        cached = self._plan_cache.get(key)
        if cached is None:
            omegas = window_weights(plan, num_frames, num_views)
            cached = plan_blocks(plan.windows, omegas, num_views, num_frames, device, dtype)
            if len(self._plan_cache) > 64:
                self._plan_cache.clear()
            self._plan_cache[key] = cached
        return cached

    # ------------------------------------------------------------------------------- sampling

    def initial_noise(
        self,
        shape: Sequence[int],
        *,
        seed: int = 0,
        device: torch.device | str | None = None,
        dtype: torch.dtype = torch.float32,
    ) -> torch.Tensor:
        """Unit-variance initial noise ``(B, V, T, C, h, w)`` from (seed, item, frame, view)."""
        return self.noise_init(shape, seed=seed, device=device, dtype=dtype)

    def predict(
        self,
        denoiser: Denoiser,
        model_input: torch.Tensor,
        sigma: float,
        *,
        conditioning: Conditioning | None = None,
        uncond_conditioning: Conditioning | None = None,
        step_index: int = 0,
        timestep: torch.Tensor | float | None = None,
        callbacks: Sequence[SamplerCallback] = (),
        _counter: list[int] | None = None,
        _workspaces: dict[str, dict[str, torch.Tensor]] | None = None,
    ) -> torch.Tensor:
        """One windowed network evaluation of the whole grid: fused, then guided.

        Looks like one full denoiser call on ``(B, V, T, C, h, w)``: windows are cut, run,
        fused per branch, and CFG is applied to the fused outputs.

        Args:
            denoiser: The network (:class:`hvg_sampler.protocols.Denoiser`).
            model_input: ``(B, V, T, C, h, w)`` scaled noisy latents.
            sigma: Noise level.
            conditioning: Cond branch (``None``: empty).
            uncond_conditioning: Uncond branch, required when CFG runs.
            step_index: Step index given to the plan and the denoiser.
            timestep: Network time input (default ``0.25·log σ``, SVD's).
            callbacks: Hooks.

        Returns:
            ``(B, V, T, C, h, w)`` fused (and guided) network output.
        """
        batch, num_views, num_frames = _check_latents(model_input, "model_input")
        branches = self._branches(conditioning, uncond_conditioning, model_input)
        plan = self.step_plan(num_frames, num_views, step_index, float(sigma))
        for callback in callbacks:
            callback.on_plan(step_index, plan)
        windows = plan.windows
        acc_dtype = torch.promote_types(model_input.dtype, torch.float32)
        blocks = self._fusion_blocks(plan, num_frames, num_views, model_input.device, acc_dtype)
        fusions = {
            branch: WindowFusion(
                windows,
                (),
                model_input.shape,
                device=model_input.device,
                dtype=acc_dtype,
                blocks=blocks,
                workspace=None if _workspaces is None else _workspaces.setdefault(branch, {}),
            )
            for branch in branches
        }
        if timestep is None:
            timestep = 0.25 * torch.log(torch.tensor(float(sigma)))
        timestep = torch.as_tensor(timestep, device=model_input.device)
        sigma_tensor = torch.tensor(float(sigma), device=model_input.device)
        for call in self.calls(plan, batch_size=batch, cfg=len(branches) == 2):
            inputs = [
                take(take(model_input, 1, g.window.views), 2, g.window.frames) for g in call.groups
            ]
            latents = inputs[0] if len(inputs) == 1 else torch.cat(inputs, 0)
            window_conditioning = slice_conditioning(
                branches,
                call.groups,
                timestep=timestep,
                step_index=step_index,
                batch_size=batch,
                device=model_input.device,
            )
            output = denoiser(latents, sigma_tensor, window_conditioning)
            if _counter is not None:
                _counter[0] += 1
                _counter[1] += int(latents.shape[0] * latents.shape[1] * latents.shape[2])
            if not isinstance(output, torch.Tensor) or output.shape != latents.shape:
                raise InputError(
                    f"the denoiser returned {getattr(output, 'shape', type(output).__name__)} "
                    f"for input {tuple(latents.shape)}; it must return the input's shape "
                    f"{LATENT_LETTERS}",
                    field="denoiser",
                )
            for g, (group, index) in enumerate(zip(call.groups, call.window_indices)):
                part = output[g * batch : (g + 1) * batch]
                for callback in callbacks:
                    callback.on_window(step_index, group, part)
                fusions[group.branch].add(index, part)
        cond = fusions["cond"].result()
        if "uncond" not in fusions:
            return cond.to(model_input.dtype)
        scale = linear_frame_guidance(
            num_frames,
            self.min_guidance_scale,
            self.max_guidance_scale,
            device=model_input.device,
            dtype=acc_dtype,
        )
        return apply_guidance(cond, fusions["uncond"].result(), scale).to(model_input.dtype)

    def _branches(
        self,
        conditioning: Conditioning | None,
        uncond_conditioning: Conditioning | None,
        latents: torch.Tensor,
    ) -> dict[str, Conditioning]:
        batch, num_views, num_frames = latents.shape[:3]
        cond = conditioning if conditioning is not None else Conditioning()
        cond.check(batch, num_views, num_frames, branch="cond")
        branches = {"cond": cond}
        if self.uses_guidance:
            if uncond_conditioning is None:
                raise InputError(
                    f"max_guidance_scale={self.max_guidance_scale} > 1 runs classifier-free "
                    "guidance, which needs uncond_conditioning (or set max_guidance_scale=1)",
                    field="uncond_conditioning",
                )
            uncond_conditioning.check(batch, num_views, num_frames, branch="uncond")
            for kind in ("per_frame", "per_view", "per_image", "shared"):
                if set(getattr(cond, kind)) != set(getattr(uncond_conditioning, kind)):
                    raise InputError(
                        f"cond and uncond conditioning must have the same {kind} keys, got "
                        f"{sorted(getattr(cond, kind))} and "
                        f"{sorted(getattr(uncond_conditioning, kind))}",
                        field=kind,
                    )
            branches["uncond"] = uncond_conditioning
        return branches

    def sample(
        self,
        denoiser: Denoiser,
        shape: Sequence[int] | None = None,
        *,
        conditioning: Conditioning | None = None,
        uncond_conditioning: Conditioning | None = None,
        seed: int = 0,
        latents: torch.Tensor | None = None,
        device: torch.device | str | None = None,
        dtype: torch.dtype = torch.float32,
        callbacks: Sequence[SamplerCallback] = (),
    ) -> SamplerOutput:
        """Run the whole denoising loop.

        Per step: scale the input, run every window (packed into calls), fuse each CFG branch
        over the windows, apply SVD's per-frame linear guidance, take one scheduler step.

        Args:
            denoiser: The network (:class:`hvg_sampler.protocols.Denoiser`).
            shape: ``(B, V, T, C, h, w)`` of the latents; the initial noise comes from
                ``noise_init`` with ``seed`` (ignored when ``latents`` is given).
            conditioning: Cond branch.
            uncond_conditioning: Uncond branch (needed when ``max_guidance_scale > 1``).
            seed: Base seed of the (seed, item, frame, view) noise.
            latents: Initial noisy latents at ``σ_max`` (already scaled by
                ``init_noise_sigma``), instead of drawing them.
            device: Device of drawn noise.
            dtype: Dtype of drawn noise.
            callbacks: Hooks (:class:`hvg_sampler.callbacks.SamplerCallback`).

        Returns:
            :class:`SamplerOutput`.
        """
        schedule: Schedule = make_schedule(self.scheduler, self.num_steps)
        if latents is None:
            if shape is None:
                raise InputError(
                    "give the latent shape (B, V, T, C, h, w) or latents", field="shape"
                )
            if len(tuple(shape)) != 6:
                raise InputError(
                    f"shape must be {LATENT_LETTERS}, got {tuple(shape)}", field="shape"
                )
            noise = self.initial_noise(shape, seed=seed, device=device, dtype=dtype)
            latents = noise * schedule.init_noise_sigma
        _check_latents(latents, "latents")
        counter = [0, 0]
        workspaces: dict[str, dict[str, torch.Tensor]] = {}
        sample = latents
        for step_index in range(len(schedule.timesteps)):
            sigma = float(schedule.sigmas[step_index])
            model_input = schedule.scale_model_input(sample, step_index)
            output = self.predict(
                denoiser,
                model_input,
                sigma,
                conditioning=conditioning,
                uncond_conditioning=uncond_conditioning,
                step_index=step_index,
                timestep=schedule.timesteps[step_index],
                callbacks=callbacks,
                _counter=counter,
                _workspaces=workspaces,
            )
            sample = schedule.step(output, sample, step_index)
            for callback in callbacks:
                callback.on_step_end(step_index, sigma, sample)
        return SamplerOutput(
            latents=sample,
            num_denoiser_calls=counter[0],
            image_evaluations=counter[1],
            sigmas=schedule.sigmas,
        )

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(frame_window={self.frame_window}, "
            f"frame_overlap={self.frame_overlap}, view_window={self.view_window}, "
            f"view_overlap={self.view_overlap}, normalisation={self.normalisation!r}, "
            f"num_steps={self.num_steps})"
        )


def _check_latents(latents: torch.Tensor, argument: str) -> tuple[int, int, int]:
    if not isinstance(latents, torch.Tensor) or latents.ndim != 6:
        raise InputError(
            f"{argument} must be a {LATENT_LETTERS} tensor, got "
            f"{tuple(latents.shape) if isinstance(latents, torch.Tensor) else type(latents).__name__}",
            field=argument,
        )
    if not latents.is_floating_point():
        raise InputError(f"{argument} must be floating point, got {latents.dtype}", field=argument)
    return int(latents.shape[0]), int(latents.shape[1]), int(latents.shape[2])
