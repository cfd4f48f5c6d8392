"""Built-in parts of hvg-sampler, registered through the `hvg` entry-point group.

Everything is registered as a lazy ``"module:attribute"`` string, so building the registry
never imports torch.
"""

from __future__ import annotations

from hvg_core.hookspecs import Register, hookimpl


@hookimpl
def hvg_register_window_planners(register: Register) -> None:
    """Sliding (time), cyclic (360° views), anchored (MimicMotion) and partition planners."""
    register(
        "sliding",
        "hvg_sampler.planners.sliding:SlidingPlanner",
        description="Sliding windows, last one shifted back to the end; never wraps.",
        cyclic=False,
    )
    register(
        "cyclic",
        "hvg_sampler.planners.cyclic:CyclicPlanner",
        description="Windows that wrap around a closed axis (views on a 360° orbit).",
        cyclic=True,
    )
    register(
        "anchored",
        "hvg_sampler.planners.anchored:AnchoredPlanner",
        description="Sliding windows that keep anchor indices (reference frame 0) in every window.",
        cyclic=False,
    )
    register(
        "partition",
        "hvg_sampler.planners.partition:PartitionPlanner",
        description="Non-overlapping chunks (Human4DiT as the HVG paper describes it).",
        cyclic=False,
    )


@hookimpl
def hvg_register_fusion_weights(register: Register) -> None:
    """Flat, pyramid, triangular, Gaussian (fixed and σ-dependent), cosine, overlap-linear."""
    weights = {
        "flat": ("flat", "Plain average (AnimateAnyone family, UniAnimate)."),
        "pyramid": ("pyramid", "min(k+1, L-k): FreeNoise, ADE/ComfyUI default."),
        "triangular": ("triangular", "1-|2k+1-L|/L: MimicMotion's half-offset triangle."),
        "gaussian": ("gaussian", "exp(-½((k-(L-1)/2)/(L/4))²), centre-weighted."),
        "cosine": ("cosine", "sin(π(k+½)/L), a Hann window that stays positive at the ends."),
        "overlap-linear": (
            "overlap_linear",
            "1 inside, linear crossfade over the actual overlaps (ADE/ComfyUI).",
        ),
    }
    register(
        "gaussian-sigma",
        "hvg_sampler.weights.gaussian_sigma:gaussian_sigma_weights",
        description="Gaussian widening with σ: broad early, centre-peaked late (ADE gauss-sigma).",
        sigma_dependent=True,
    )
    for name, (module, description) in weights.items():
        register(
            name,
            f"hvg_sampler.weights.{module}:{module}_weights",
            description=description,
        )


@hookimpl
def hvg_register_noise_inits(register: Register) -> None:
    """Counter-based noise from (seed, item, frame, view), plain and tile-repeated."""
    register(
        "independent",
        "hvg_sampler.noise.independent:IndependentNoise",
        description="i.i.d. noise, one generator per (seed, item, frame, view); prefix-stable.",
    )
    register(
        "tile-repeat",
        "hvg_sampler.noise.tile_repeat:TileRepeatNoise",
        description="Frame t reuses frame t mod period's noise (MimicMotion).",
    )


@hookimpl
def hvg_register_samplers(register: Register) -> None:
    """HVG's two-axis sampler and the baselines it is compared with."""
    samplers = {
        "hvg": ("hvg:HVGSampler", "Temporal and view windows every step, blended (paper §3.3)."),
        "temporal": ("temporal:TemporalSampler", "Temporal windows of all views only."),
        "view": ("view:ViewSampler", "View windows of all frames only."),
        "human4dit": (
            "human4dit:Human4DiTSampler",
            "Non-overlapping frame × view partition, flat weights.",
        ),
        "mimicmotion": (
            "mimicmotion:MimicMotionSampler",
            "Reference frame in every temporal tile, triangular weights.",
        ),
        "alternate": (
            "alternate:AlternateSampler",
            "Temporal pass on even steps, view pass on odd steps.",
        ),
    }
    for name, (target, description) in samplers.items():
        register(name, f"hvg_sampler.samplers.{target}", description=description)
