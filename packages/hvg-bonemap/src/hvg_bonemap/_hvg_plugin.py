"""Built-in parts of hvg-bonemap, registered through the `hvg` entry-point group.

Uses pluggy's marker directly (not hvg_core) so that hvg-bonemap stays standalone. Every part is
registered as a lazy ``"module:attr"`` string, so loading the registry imports no torch.
"""

from __future__ import annotations

from typing import Any

import pluggy

hookimpl = pluggy.HookimplMarker("hvg")


@hookimpl
def hvg_register_bonemap_backends(register: Any) -> None:
    """Analytic (default), float64 reference and Embree mesh cross-check backends."""
    register(
        "analytic",
        "hvg_bonemap.renderers.analytic:AnalyticRenderer",
        description="Exact analytic ray-ellipsoid renderer with row-span culling (torch, default).",
        devices=["cpu", "cuda"],
        default=True,
    )
    register(
        "reference",
        "hvg_bonemap.renderers.reference:ReferenceRenderer",
        description="Slow float64 brute-force ray-ellipsoid renderer (test oracle).",
        devices=["cpu", "cuda"],
    )
    register(
        "embree",
        "hvg_bonemap.renderers.embree_mesh:EmbreeMeshRenderer",
        description="Icosphere meshes ray-cast with Embree (needs embreex; cross-check only).",
        devices=["cpu"],
        requires=["embreex"],
    )


@hookimpl
def hvg_register_body_models(register: Any) -> None:
    """Built-in anthropometric skeleton and the real SMPL-X model (extra ``[smplx]``)."""
    register(
        "anthropometric",
        "hvg_bonemap.bodies.anthropometric:AnthropometricBody",
        description="Built-in SMPL-X-compatible skeleton and kinematics; needs no model file.",
        default=True,
    )
    register(
        "smplx",
        "hvg_bonemap.bodies.smplx_body:SMPLXBody",
        description="Real SMPL-X model through the smplx package (needs model files, extra [smplx]).",
        requires=["smplx"],
    )


@hookimpl
def hvg_register_pose_signals(register: Any) -> None:
    """The paper's Table 3 pose-signal variants."""
    register(
        "bonemap",
        "hvg_bonemap.signals.bonemap:BoneMapSignal",
        description="Dual-dimensional bone map: encoded depth + camera-space normals (paper §3.1).",
        channels=4,
        default=True,
    )
    register(
        "depth",
        "hvg_bonemap.signals.bonemap:DepthSignal",
        description="Bone-map depth only (Table 3 ablation).",
        channels=1,
    )
    register(
        "normal",
        "hvg_bonemap.signals.bonemap:NormalSignal",
        description="Bone-map normals only (Table 3 ablation).",
        channels=3,
    )
    register(
        "skeleton2d",
        "hvg_bonemap.signals.skeleton2d:Skeleton2DSignal",
        description="2-D skeleton map drawn from projected joints (Table 3 ablation).",
        channels=3,
    )
    register(
        "body_normal",
        "hvg_bonemap.signals.body_normal:BodyNormalSignal",
        description="SMPL-X body-mesh normal map (Table 3 ablation; needs a body mesh).",
        channels=3,
    )
