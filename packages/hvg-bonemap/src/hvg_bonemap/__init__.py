"""HVG bone maps: exact, fast depth + normal maps of SMPL-X bone ellipsoids (paper §3.1-3.3).

Public API (stable):

* :class:`Cameras`, :func:`orbit_cameras`, :func:`look_at`, :func:`intrinsics` - OpenCV cameras.
* :class:`Ellipsoids`, :func:`ellipsoids_from_joints` - bone ellipsoids.
* :func:`render` -> :class:`BoneMap` (depth, normal, mask, index).
* :func:`joints_from_smplx_params`, :class:`AnthropometricBody` - built-in body kinematics.
* :func:`view_alignment_boxes`, :func:`align_cameras` - the view alignment of pose input;
  :func:`pelvis_crop_boxes`, :func:`crop_cameras`, :func:`crop_images`,
  :func:`temporal_alignment_boxes` - crops and temporal alignment.
* :class:`PoseSpec` - the serialisable description of a network's pose input;
  :mod:`hvg_bonemap.pose_codec` - encode (render -> stored) and decode (stored -> network input).

Importing this package needs only torch, numpy and pluggy. Names are resolved lazily so that
``import hvg_bonemap`` (e.g. by a plugin registry or ``hvg-bonemap --help``) does not import
torch until an attribute that needs it is used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
    "BoneMapInputError": "hvg_bonemap._validation",
    "align_cameras": "hvg_bonemap.alignment",
    "view_alignment_boxes": "hvg_bonemap.alignment",
    "DEFAULT_POSE_SPEC": "hvg_bonemap.pose_spec",
    "PoseSpec": "hvg_bonemap.pose_spec",
    "PoseSpecError": "hvg_bonemap.pose_spec",
    "crop_cameras": "hvg_bonemap.alignment",
    "crop_images": "hvg_bonemap.alignment",
    "mask_boxes": "hvg_bonemap.alignment",
    "pelvis_crop_boxes": "hvg_bonemap.alignment",
    "temporal_alignment_boxes": "hvg_bonemap.alignment",
    "AnthropometricBody": "hvg_bonemap.bodies",
    "HandPCA": "hvg_bonemap.bodies",
    "forward_kinematics": "hvg_bonemap.bodies",
    "joints_from_smplx_params": "hvg_bonemap.bodies",
    "rest_joints": "hvg_bonemap.bodies",
    "Cameras": "hvg_bonemap.cameras",
    "intrinsics": "hvg_bonemap.cameras",
    "look_at": "hvg_bonemap.cameras",
    "orbit_cameras": "hvg_bonemap.cameras",
    "Ellipsoids": "hvg_bonemap.ellipsoids",
    "ellipsoids_from_joints": "hvg_bonemap.ellipsoids",
    "AnalyticRenderer": "hvg_bonemap.renderers",
    "BoneMap": "hvg_bonemap.renderers",
    "render_reference": "hvg_bonemap.renderers",
    "render": "hvg_bonemap.rendering",
    "BONE_SETS": "hvg_bonemap.skeleton",
    "JOINT_NAMES": "hvg_bonemap.skeleton",
    "PARENTS": "hvg_bonemap.skeleton",
    "RADII_PRESETS": "hvg_bonemap.skeleton",
    "Bone": "hvg_bonemap.skeleton",
}

__all__ = [
    "BONE_SETS",
    "DEFAULT_POSE_SPEC",
    "JOINT_NAMES",
    "PARENTS",
    "RADII_PRESETS",
    "AnalyticRenderer",
    "AnthropometricBody",
    "Bone",
    "BoneMap",
    "BoneMapInputError",
    "Cameras",
    "Ellipsoids",
    "HandPCA",
    "PoseSpec",
    "PoseSpecError",
    "__version__",
    "align_cameras",
    "crop_cameras",
    "crop_images",
    "ellipsoids_from_joints",
    "forward_kinematics",
    "intrinsics",
    "joints_from_smplx_params",
    "look_at",
    "mask_boxes",
    "orbit_cameras",
    "pelvis_crop_boxes",
    "render",
    "render_reference",
    "rest_joints",
    "temporal_alignment_boxes",
    "view_alignment_boxes",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'hvg_bonemap' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))


if TYPE_CHECKING:
    from hvg_bonemap._validation import BoneMapInputError
    from hvg_bonemap.alignment import (
        align_cameras,
        crop_cameras,
        crop_images,
        mask_boxes,
        pelvis_crop_boxes,
        temporal_alignment_boxes,
        view_alignment_boxes,
    )
    from hvg_bonemap.bodies import (
        AnthropometricBody,
        HandPCA,
        forward_kinematics,
        joints_from_smplx_params,
        rest_joints,
    )
    from hvg_bonemap.cameras import Cameras, intrinsics, look_at, orbit_cameras
    from hvg_bonemap.ellipsoids import Ellipsoids, ellipsoids_from_joints
    from hvg_bonemap.pose_spec import DEFAULT_POSE_SPEC, PoseSpec, PoseSpecError
    from hvg_bonemap.renderers import AnalyticRenderer, BoneMap, render_reference
    from hvg_bonemap.rendering import render
    from hvg_bonemap.skeleton import BONE_SETS, JOINT_NAMES, PARENTS, RADII_PRESETS, Bone
