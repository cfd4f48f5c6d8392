"""Hook specifications of the ``hvg`` plugin project.

Every part of HVG (the built-ins of each workspace package and third-party plugins alike) is
registered through these hooks, discovered from the ``hvg`` entry-point group. Each hook receives a
``register`` callback and calls it once per part::

    import pluggy

    hookimpl = pluggy.HookimplMarker("hvg")

    @hookimpl
    def hvg_register_metrics(register):
        register("my-metric", "my_package.metrics:MyMetric", description="What it measures.")

The object may be given directly or as a lazy ``"module:attribute"`` string, which the registry
imports on first use; lazy strings keep ``--help`` and ``hvg plugins`` free of heavy imports
(torch, ray). Names are unique per kind: registering a name twice raises
:class:`hvg_core.errors.DuplicateRegistrationError` naming both plugins.

None of the hooks is ``firstresult``: every implementation is called, and return values are
ignored (registration happens through the callback).
"""

from __future__ import annotations

from typing import Any, Protocol

import pluggy

PROJECT_NAME = "hvg"
ENTRY_POINT_GROUP = "hvg"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


class Register(Protocol):
    """The callback each ``hvg_register_*`` hook receives."""

    def __call__(self, name: str, obj: object, *, description: str = "", **metadata: Any) -> None:
        """Register one part.

        Args:
            name: Registry key users type (lowercase, no spaces), e.g. ``"thuman2"``.
            obj: The part itself or a lazy ``"module:attribute"`` reference to it.
            description: One line shown by ``hvg plugins`` and in ``--help`` choices.
            **metadata: Free-form, JSON-serialisable facts about the part (capabilities,
                aliases, defaults) that hosts may read through ``Entry.metadata``.
        """


@hookspec
def hvg_register_body_models(register: Register) -> None:
    """Register body models that turn SMPL-X pose parameters into posed joints.

    The object is a class or factory taking keyword options (e.g. ``model_dir``) and returning a
    module with ``forward(**smplx_params) -> joints (B, 55, 3)`` in metres.

    :param register: Callback ``register(name, obj, *, description="", **metadata)``.
    :return: Nothing; parts are registered through ``register``.
    """


@hookspec
def hvg_register_pose_signals(register: Register) -> None:
    """Register pose signals: the per-pixel conditioning maps rendered from a body.

    Built-ins are the paper's Table 3 variants (bone map depth + normal, depth only, normal only,
    2-D skeleton map, SMPL-X body normal map). The object is a callable or class producing maps
    ``(..., C, H, W)`` from joints and cameras; ``metadata["channels"]`` gives ``C``.

    :param register: Callback ``register(name, obj, *, description="", **metadata)``.
    :return: Nothing; parts are registered through ``register``.
    """


@hookspec
def hvg_register_bonemap_backends(register: Register) -> None:
    """Register bone-map rendering backends (analytic ray-ellipsoid, mesh rasterisers).

    The object renders ``hvg_bonemap.Ellipsoids`` through ``hvg_bonemap.Cameras`` and returns
    depth, normal and mask maps; ``metadata`` states devices (``devices=["cpu", "cuda"]``).

    :param register: Callback ``register(name, obj, *, description="", **metadata)``.
    :return: Nothing; parts are registered through ``register``.
    """


@hookspec
def hvg_register_datasets(register: Register) -> None:
    """Register dataset adapters (scan collections, multi-view captures, synthetic data).

    The object is an adapter class constructed with ``root`` and keyword options; it lists
    subjects and loads them in the dataset's real on-disk layout (see ``hvg_data``).

    :param register: Callback ``register(name, obj, *, description="", **metadata)``.
    :return: Nothing; parts are registered through ``register``.
    """


@hookspec
def hvg_register_scan_renderers(register: Register) -> None:
    """Register scan renderers that turn textured meshes into RGB + mask images per camera.

    :param register: Callback ``register(name, obj, *, description="", **metadata)``.
    :return: Nothing; parts are registered through ``register``.
    """


@hookspec
def hvg_register_window_planners(register: Register) -> None:
    """Register window planners that split an axis (time, views) into overlapping windows.

    :param register: Callback ``register(name, obj, *, description="", **metadata)``.
    :return: Nothing; parts are registered through ``register``.
    """


@hookspec
def hvg_register_fusion_weights(register: Register) -> None:
    """Register fusion weights used to blend overlapping windows.

    The object is a callable ``weights(length: int) -> Tensor (length,)`` of positive weights
    (per axis); the sampler normalises them.

    :param register: Callback ``register(name, obj, *, description="", **metadata)``.
    :return: Nothing; parts are registered through ``register``.
    """


@hookspec
def hvg_register_noise_inits(register: Register) -> None:
    """Register initial-noise strategies (e.g. per (seed, frame, view) independent noise).

    :param register: Callback ``register(name, obj, *, description="", **metadata)``.
    :return: Nothing; parts are registered through ``register``.
    """


@hookspec
def hvg_register_samplers(register: Register) -> None:
    """Register samplers: windowed denoising loops over time and views.

    :param register: Callback ``register(name, obj, *, description="", **metadata)``.
    :return: Nothing; parts are registered through ``register``.
    """


@hookspec
def hvg_register_metrics(register: Register) -> None:
    """Register evaluation metrics with the streaming ``update`` / ``compute`` / ``reset`` API.

    :param register: Callback ``register(name, obj, *, description="", **metadata)``.
    :return: Nothing; parts are registered through ``register``.
    """


@hookspec
def hvg_register_feature_networks(register: Register) -> None:
    """Register feature networks used by metrics (Inception, I3D, VGG16 + LPIPS heads, ...).

    :param register: Callback ``register(name, obj, *, description="", **metadata)``.
    :return: Nothing; parts are registered through ``register``.
    """


@hookspec
def hvg_register_commands(register: Register) -> None:
    """Register extra click commands.

    The object is a ``click.Command`` (or a lazy reference to one); ``metadata["group"]`` names
    the console script it joins (``"hvg"`` by default, or ``"hvg-data"``, ``"hvg-eval"``, ...).

    :param register: Callback ``register(name, obj, *, description="", **metadata)``.
    :return: Nothing; parts are registered through ``register``.
    """
