"""A third-party HVG plugin with one part of every kind the test-suite proves reaches its consumer.

Everything is registered lazily, so importing this module costs nothing. The tables list parts
only: a part that states its ``name`` (a class attribute) is registered alone, and every
description is the part's docstring summary — never repeated here (one source per fact).
"""

from __future__ import annotations

from hvg_core.hookspecs import Register, hookimpl


@hookimpl
def hvg_register_fusion_weights(register: Register) -> None:
    """Register the Hann fusion weight (a function: its name is given here)."""
    register("testplugin-hann", "hvg_testplugin.weights:hann")


@hookimpl
def hvg_register_datasets(register: Register) -> None:
    """Register the box-people dataset."""
    register("hvg_testplugin.datasets:BlocksAdapter")


@hookimpl
def hvg_register_metrics(register: Register) -> None:
    """Register the max-abs-difference metric."""
    register("hvg_testplugin.metrics:MaxAbsDifference")


@hookimpl
def hvg_register_bonemap_backends(register: Register) -> None:
    """Register the flat-normals bone-map backend."""
    register("hvg_testplugin.bonemap:FlatNormalsRenderer")


@hookimpl
def hvg_register_pose_signals(register: Register) -> None:
    """Register the one-channel silhouette pose signal."""
    register("hvg_testplugin.pose:SilhouetteSignal")


@hookimpl
def hvg_register_body_models(register: Register) -> None:
    """Register the tall body."""
    register("hvg_testplugin.bonemap:TallBody")


@hookimpl
def hvg_register_feature_networks(register: Register) -> None:
    """Register the colour-moments feature network (no weight files)."""
    register("testplugin-colour-moments", "hvg_testplugin.networks:ColourMoments")


@hookimpl
def hvg_register_scan_renderers(register: Register) -> None:
    """Register the flat-colour scan renderer."""
    register("hvg_testplugin.renderers:FlatColourRenderer")


@hookimpl
def hvg_register_window_planners(register: Register) -> None:
    """Register the whole-axis window planner."""
    register("hvg_testplugin.sampling:WholeAxisPlanner")


@hookimpl
def hvg_register_noise_inits(register: Register) -> None:
    """Register the constant noise initialisation."""
    register("hvg_testplugin.sampling:ConstantNoise")


@hookimpl
def hvg_register_samplers(register: Register) -> None:
    """Register the flat-weights HVG sampler."""
    register("hvg_testplugin.sampling:FlatHVGSampler")


@hookimpl
def hvg_register_commands(register: Register) -> None:
    """Register ``hvg testplugin-hello`` (a click command: its name is given here)."""
    register("testplugin-hello", "hvg_testplugin.commands:hello", group="hvg")


@hookimpl
def hvg_register_schedulers(register: Register) -> None:
    """Register the linear-σ Euler schedule (a factory ``(num_steps) -> Schedule``)."""
    register("testplugin-linear", "hvg_testplugin.schedulers:LinearEulerSchedule")
