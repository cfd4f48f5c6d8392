"""Built-in parts of hvg-bonemap, registered through the `hvg` entry-point group.

Uses pluggy's marker directly (not hvg_core) so that hvg-bonemap stays standalone. Every part is
registered as a lazy ``"module:attr"`` string, so loading the registry imports no torch. The table
lists parts only: each part's description (its docstring summary or ``description`` attribute) and
class facts (``devices``, ``channels``) are read from the part itself (docs/plugins.md).
"""

from __future__ import annotations

from typing import Any

import pluggy

hookimpl = pluggy.HookimplMarker("hvg")


#: Built-in bone-map backends: name -> (backend class, registration metadata). Also read by
#: ``hvg_bonemap.rendering`` when hvg-core (the registry) is not installed.
BONEMAP_BACKENDS: dict[str, tuple[str, dict[str, Any]]] = {
    "analytic": ("hvg_bonemap.renderers.analytic:AnalyticRenderer", {"default": True}),
    "reference": ("hvg_bonemap.renderers.reference:ReferenceRenderer", {}),
    "embree": ("hvg_bonemap.renderers.embree_mesh:EmbreeMeshRenderer", {"requires": ["embreex"]}),
}

#: Built-in body models, same layout (read by ``hvg_bonemap.bodies.body_model`` without hvg-core).
BODY_MODELS: dict[str, tuple[str, dict[str, Any]]] = {
    "anthropometric": ("hvg_bonemap.bodies.anthropometric:AnthropometricBody", {"default": True}),
    "smplx": ("hvg_bonemap.bodies.smplx_body:SMPLXBody", {"requires": ["smplx"]}),
}


@hookimpl
def hvg_register_bonemap_backends(register: Any) -> None:
    """Analytic (default), float64 reference and Embree mesh cross-check backends."""
    for name, (backend, metadata) in BONEMAP_BACKENDS.items():
        register(name, backend, **metadata)


@hookimpl
def hvg_register_body_models(register: Any) -> None:
    """Built-in anthropometric skeleton and the real SMPL-X model (extra ``[smplx]``)."""
    for name, (body, metadata) in BODY_MODELS.items():
        register(name, body, **metadata)


@hookimpl
def hvg_register_pose_signals(register: Any) -> None:
    """The paper's Table 3 pose-signal variants."""
    register(
        "bonemap",
        "hvg_bonemap.signals.bonemap:BoneMapSignal",
        default=True,
    )
    register(
        "depth",
        "hvg_bonemap.signals.bonemap:DepthSignal",
    )
    register(
        "normal",
        "hvg_bonemap.signals.bonemap:NormalSignal",
    )
    register(
        "skeleton2d",
        "hvg_bonemap.signals.skeleton2d:Skeleton2DSignal",
    )
    register(
        "body_normal",
        "hvg_bonemap.signals.body_normal:BodyNormalSignal",
    )
