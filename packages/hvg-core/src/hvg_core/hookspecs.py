"""Hook specifications of the ``hvg`` plugin project.

Every part of HVG (the built-ins of each workspace package and third-party plugins alike) is
registered through these hooks, discovered from the ``hvg`` entry-point group. Each hook receives a
``register`` callback and calls it once per part::

    import pluggy

    hookimpl = pluggy.HookimplMarker("hvg")

    @hookimpl
    def hvg_register_metrics(register):
        register("my_package.metrics:MyMetric")  # the class says name = "my-metric"
        register("my-weights", "my_package.weights:my_weights")  # a function: name given here

The object may be given directly or as a lazy ``"module:attribute"`` string, which the registry
imports on first use; lazy strings keep ``--help`` and ``hvg plugins`` free of heavy imports
(torch, ray). One source per fact: the part states its own ``name`` (class attribute), its
description (``description`` attribute, else its docstring's first line) and its other facts
(public literal class attributes such as ``kind``, ``channels``, ``higher_is_better``), read from
the source without importing it. The registration gives only what the part cannot say itself (a
function's name, facts about how the host uses it); ``hvg_core.testing.check_plugin`` fails when
it repeats a fact the part states, and the registry refuses one that contradicts it. Names are
unique per kind: registering a name twice raises
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

    def __call__(
        self,
        name_or_part: object,
        part: object = None,
        *,
        description: str | None = None,
        **metadata: Any,
    ) -> None:
        """Register one part: ``register(part, **metadata)`` or ``register(name, part, ...)``.

        Args:
            name_or_part: The part (or its lazy ``"module:attribute"`` reference) when it states
                its own ``name``; otherwise the registry key users type (lowercase, no spaces).
            part: The part, when ``name_or_part`` is its name.
            description: Only for a part that has neither a ``description`` attribute nor a
                docstring; shown by ``hvg plugins`` and in ``--help`` choices.
            **metadata: JSON-serialisable facts the part does not state itself (capabilities,
                weight files, defaults), merged over the part's own class facts into
                ``Entry.metadata``.
        """


@hookspec
def hvg_register_body_models(register: Register) -> None:
    """Register body models that turn SMPL-X pose parameters into posed joints.

    The object is a class or factory taking keyword options (hosts offer ``model_path`` and
    ``gender``; :func:`hvg_bonemap.bodies.body_model` passes only those its signature names) and
    returning a module whose ``forward(params)`` maps a mapping of SMPL-X parameters to joints
    ``(..., 55, 3)`` in metres. Consumers: ``hvg_bonemap.bodies.body_model``,
    ``hvg-bonemap render --body``, ``hvg-data render --body-model``.

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

    The object is a class built with the backend options whose instances are called as
    ``backend(ellipsoids, cameras) -> hvg_bonemap.BoneMap`` (depth, normal, mask, index); a
    ``devices`` class attribute states where it runs. Consumers: ``hvg_bonemap.render(...,
    backend=name)`` and ``hvg-bonemap render --backend``.

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
def hvg_register_schedulers(register: Register) -> None:
    """Register noise schedules: ``factory(num_steps) -> Schedule`` (``hvg_sampler.schedulers``).

    The object builds the σ levels, network time inputs and update step of one sampling run of
    ``num_steps`` steps (e.g. SVD-xt's Karras σ with Euler steps); samplers choose it by name.

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

    The object is a ``torch.nn.Module`` class; metrics build it by name
    (``FID(feature_network=name)``, through :func:`hvg_eval.networks.load_feature_network`). A
    ``feature_dim`` class attribute gives its feature size; ``weights=[...]`` metadata lists the
    reference weight files to load (weight-registry keys, or ``{"file", "module",
    "keep_prefix"}`` for a submodule).

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
