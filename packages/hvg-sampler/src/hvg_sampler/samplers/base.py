"""Executing a sampler's plan: noise, windowed network calls, fusion, CFG, scheduler steps.

What to run at each step comes from :class:`hvg_sampler.planning.WindowedPlanning` (windows,
weights, packing, budget); this module only runs it. Options live in ``sampler.options``
(:class:`hvg_sampler.options.SamplerOptions`), which :meth:`WindowedSampler.to_config` writes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from hvg_core.errors import InputError

from hvg_sampler.callbacks import SamplerCallback
from hvg_sampler.conditioning import Conditioning, slice_conditioning, take
from hvg_sampler.fusion import WindowFusion, plan_blocks
from hvg_sampler.guidance import apply_guidance, linear_frame_guidance
from hvg_sampler.plan import StepPlan, window_weights
from hvg_sampler.planning import WindowedPlanning
from hvg_sampler.protocols import Denoiser
from hvg_sampler.schedulers.base import Schedule
from hvg_sampler.schedulers.factory import make_schedule
from hvg_sampler.weights._evaluate import accepts_sigma

LATENT_LETTERS = "(B, V, T, C, h, w)"


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


class WindowedSampler(WindowedPlanning):
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
        scheduler: A registered scheduler name (``"edm-euler"``, SVD-xt's) or a schedule object
            (``for_steps(num_steps)``, or a diffusers scheduler).
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
            ``max_frames_per_window``, ``view_window`` above ``max_images_per_window``), an
            unknown option or an unregistered name.
    """

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._plan_cache: dict[Any, Any] = {}

    def to_config(self) -> dict[str, Any]:
        """A JSON-serialisable config that :func:`hvg_sampler.build.sampler_from_config` rebuilds.

        ``{"version", "sampler", <every option>, "not_serialised"}``: the options as
        :class:`hvg_sampler.options.SamplerOptions` writes them, plus the registry name. Options
        given as Python objects (callables, planner instances, scheduler objects) cannot be
        written: they are listed under ``"not_serialised"`` and the rebuilt sampler uses the
        config's value for them (the default, or the name the object replaced).
        """
        config = self.options.to_dict()
        return {
            "version": config.pop("version"),
            "sampler": self.name,
            **config,
            "not_serialised": list(self.not_serialised),
        }

    def _fusion_blocks(
        self,
        plan: StepPlan,
        num_frames: int,
        num_views: int,
        device: torch.device,
        dtype: torch.dtype,
    ):
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
