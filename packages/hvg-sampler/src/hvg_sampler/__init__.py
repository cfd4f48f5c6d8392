"""hvg-sampler: progressive spatio-temporal windowed sampling for multi-view video diffusion.

Public API (see the package README for the contracts)::

    from hvg_sampler import build_sampler, Conditioning

    sampler = build_sampler("hvg", frame_window=24, frame_overlap=8, view_window=6,
                            view_overlap=2, fusion_weight="pyramid", num_steps=25,
                            min_guidance_scale=1.0, max_guidance_scale=3.0)
    out = sampler.sample(denoiser, (B, V, T, C, h, w), conditioning=cond,
                         uncond_conditioning=uncond, seed=0)
    out.latents  # (B, V, T, C, h, w)

Names are imported lazily: importing ``hvg_sampler`` (which the registry does to read the
plugin module) must not import torch, so ``--help`` of every HVG command stays instant.
"""

from __future__ import annotations

from hvg_core.lazy import lazy_exports

_EXPORTS = {
    "AlternateSampler": "hvg_sampler.samplers.alternate",
    "Conditioning": "hvg_sampler.conditioning",
    "CostReport": "hvg_sampler.cost",
    "Denoiser": "hvg_sampler.protocols",
    "DiffusersSchedule": "hvg_sampler.schedulers.diffusers_adapter",
    "EDMEulerSchedule": "hvg_sampler.schedulers.edm_euler",
    "FusionPass": "hvg_sampler.plan",
    "FusionWeight": "hvg_sampler.protocols",
    "HVGSampler": "hvg_sampler.samplers.hvg",
    "Human4DiTSampler": "hvg_sampler.samplers.human4dit",
    "MimicMotionSampler": "hvg_sampler.samplers.mimicmotion",
    "SamplerCallback": "hvg_sampler.callbacks",
    "SamplerOutput": "hvg_sampler.samplers.base",
    "StepPlan": "hvg_sampler.plan",
    "TemporalSampler": "hvg_sampler.samplers.temporal",
    "ViewSampler": "hvg_sampler.samplers.view",
    "Window": "hvg_sampler.windows",
    "WindowConditioning": "hvg_sampler.conditioning",
    "WindowGroup": "hvg_sampler.conditioning",
    "WindowPlanner": "hvg_sampler.protocols",
    "WindowedSampler": "hvg_sampler.samplers.base",
    "build_sampler": "hvg_sampler.build",
    "get_fusion_weight": "hvg_sampler.build",
    "make_schedule": "hvg_sampler.schedulers.factory",
    "sampler_from_config": "hvg_sampler.build",
}

__getattr__, __dir__, __all__ = lazy_exports(__name__, _EXPORTS)
