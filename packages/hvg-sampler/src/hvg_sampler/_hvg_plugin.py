"""Built-in parts of hvg-sampler, registered through the `hvg` entry-point group.

Everything is registered as a lazy ``"module:attribute"`` string, so building the registry
never imports torch. The tables list parts only: names a class states (samplers), descriptions
(``description`` attribute or docstring summary) and class facts (``cyclic``) are read from the part
itself (docs/plugins.md).
"""

from __future__ import annotations

from hvg_core.hookspecs import Register, hookimpl

#: Registry name -> window planner (``cyclic`` is a class fact, read from each planner).
WINDOW_PLANNERS = {
    "sliding": "hvg_sampler.planners.sliding:SlidingPlanner",
    "cyclic": "hvg_sampler.planners.cyclic:CyclicPlanner",
    "anchored": "hvg_sampler.planners.anchored:AnchoredPlanner",
    "partition": "hvg_sampler.planners.partition:PartitionPlanner",
}

#: Registry name -> fusion-weight function (its docstring summary is the description).
FUSION_WEIGHTS = {
    "flat": "hvg_sampler.weights.flat:flat_weights",
    "pyramid": "hvg_sampler.weights.pyramid:pyramid_weights",
    "triangular": "hvg_sampler.weights.triangular:triangular_weights",
    "gaussian": "hvg_sampler.weights.gaussian:gaussian_weights",
    "cosine": "hvg_sampler.weights.cosine:cosine_weights",
    "overlap-linear": "hvg_sampler.weights.overlap_linear:overlap_linear_weights",
}

NOISE_INITS = {
    "independent": "hvg_sampler.noise.independent:IndependentNoise",
    "tile-repeat": "hvg_sampler.noise.tile_repeat:TileRepeatNoise",
}

#: HVG's two-axis sampler and the baselines it is compared with (each class states its name).
SAMPLERS = (
    "hvg_sampler.samplers.hvg:HVGSampler",
    "hvg_sampler.samplers.temporal:TemporalSampler",
    "hvg_sampler.samplers.view:ViewSampler",
    "hvg_sampler.samplers.human4dit:Human4DiTSampler",
    "hvg_sampler.samplers.mimicmotion:MimicMotionSampler",
    "hvg_sampler.samplers.alternate:AlternateSampler",
)


@hookimpl
def hvg_register_window_planners(register: Register) -> None:
    """Sliding (time), cyclic (360° views), anchored (MimicMotion) and partition planners."""
    for name, planner in WINDOW_PLANNERS.items():
        register(name, planner)


@hookimpl
def hvg_register_fusion_weights(register: Register) -> None:
    """Flat, pyramid, triangular, Gaussian (fixed and σ-dependent), cosine, overlap-linear."""
    register(
        "gaussian-sigma",
        "hvg_sampler.weights.gaussian_sigma:gaussian_sigma_weights",
        sigma_dependent=True,
    )
    for name, weights in FUSION_WEIGHTS.items():
        register(name, weights)


@hookimpl
def hvg_register_noise_inits(register: Register) -> None:
    """Counter-based noise from (seed, item, frame, view), plain and tile-repeated."""
    for name, noise in NOISE_INITS.items():
        register(name, noise)


@hookimpl
def hvg_register_samplers(register: Register) -> None:
    """HVG's two-axis sampler and the baselines it is compared with."""
    for sampler in SAMPLERS:
        register(sampler)


@hookimpl
def hvg_register_schedulers(register: Register) -> None:
    """SVD-xt's schedule: Karras σ, EDM preconditioning with v-prediction, Euler steps."""
    register("edm-euler", "hvg_sampler.schedulers.edm_euler:EDMEulerSchedule")
