"""SMPL-X's 55-joint topology, the bones that get ellipsoids and their anthropometric radii.

Joint names and parents follow the SMPL-X model (``smplx/joint_names.py`` and the model's
``kintree_table``). A bone is named after its child endpoint (the SMPL-X convention: joint ``i``
is the end of the bone from ``PARENTS[i]``).

Bone sets (``BONE_SETS``):

* ``"paper"`` (default): the 54 parent -> child bones of the kinematic tree, i.e. every joint
  pair of the skeleton as in the paper's §3.1: 21 body bones (hips, legs, feet, spine, neck,
  head, collars, arms), 3 head bones (jaw, both eyes) and 30 hand bones (per hand 5 metacarpals
  wrist -> knuckle and 10 phalanges).
* ``"anatomical"``: drops jaw and eyes (a 1.7 cm blob and two "horns"), adds one head ellipsoid
  from ``head`` to a virtual ``head_top`` and a distal phalanx per finger to a virtual tip (62
  bones). See ``research/bonemap.md`` §1.2.

Radii (``RADII_PRESETS``) are the minor semi-axes ``b = c`` in metres, keyed by bone name. The
``"thin"`` preset (default) uses the girth at the bone's distal joint, e.g. 2.5 cm at the wrist
as in the paper (wrist minimum girth 16.1 cm -> r = G / 2 pi = 2.56 cm, Heinz et al. 2003); the
``"full"`` preset uses mid-segment girths for fuller silhouettes. Override any bone with
``radii={"left_wrist": 0.03}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import torch

JOINT_NAMES: tuple[str, ...] = (
    "pelvis", "left_hip", "right_hip", "spine1", "left_knee", "right_knee", "spine2",
    "left_ankle", "right_ankle", "spine3", "left_foot", "right_foot", "neck", "left_collar",
    "right_collar", "head", "left_shoulder", "right_shoulder", "left_elbow", "right_elbow",
    "left_wrist", "right_wrist", "jaw", "left_eye_smplhf", "right_eye_smplhf",
    "left_index1", "left_index2", "left_index3", "left_middle1", "left_middle2", "left_middle3",
    "left_pinky1", "left_pinky2", "left_pinky3", "left_ring1", "left_ring2", "left_ring3",
    "left_thumb1", "left_thumb2", "left_thumb3",
    "right_index1", "right_index2", "right_index3", "right_middle1", "right_middle2",
    "right_middle3", "right_pinky1", "right_pinky2", "right_pinky3", "right_ring1", "right_ring2",
    "right_ring3", "right_thumb1", "right_thumb2", "right_thumb3",
)  # fmt: skip
"""The 55 SMPL-X skeleton joints in model order."""

PARENTS: tuple[int, ...] = (
    -1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19, 15, 15, 15,
    20, 25, 26, 20, 28, 29, 20, 31, 32, 20, 34, 35, 20, 37, 38,
    21, 40, 41, 21, 43, 44, 21, 46, 47, 21, 49, 50, 21, 52, 53,
)  # fmt: skip
"""Parent index of each joint (``-1`` for the pelvis, the root)."""

NUM_JOINTS = 55
JOINT_INDEX: dict[str, int] = {name: i for i, name in enumerate(JOINT_NAMES)}
FINGERS: tuple[str, ...] = ("index", "middle", "pinky", "ring", "thumb")
SIDES: tuple[str, ...] = ("left", "right")


@dataclass(frozen=True)
class VirtualJoint:
    """A point extrapolated from two joints: ``base + (base - origin) * ratio + unit * length``.

    ``unit`` is the unit vector from ``origin`` to ``base``; ``ratio`` extends proportionally
    (fingertips: 0.8 of the middle phalanx), ``length`` by a fixed distance in metres (head top).
    """

    name: str
    base: str
    origin: str
    ratio: float = 0.0
    length: float = 0.0


@dataclass(frozen=True)
class Bone:
    """One ellipsoid: from ``start`` to ``end`` (joint or virtual-joint names), named ``name``."""

    name: str
    start: str
    end: str


VIRTUAL_JOINTS: dict[str, VirtualJoint] = {
    "head_top": VirtualJoint("head_top", base="head", origin="neck", length=0.12),
    **{
        f"{side}_{finger}_tip": VirtualJoint(
            f"{side}_{finger}_tip", base=f"{side}_{finger}3", origin=f"{side}_{finger}2", ratio=0.8
        )
        for side in SIDES
        for finger in FINGERS
    },
}
"""Virtual endpoints used by the ``"anatomical"`` bone set (not SMPL-X joints)."""

_KINEMATIC_BONES = tuple(
    Bone(JOINT_NAMES[i], JOINT_NAMES[PARENTS[i]], JOINT_NAMES[i]) for i in range(1, NUM_JOINTS)
)

BONE_SETS: dict[str, tuple[Bone, ...]] = {
    "paper": _KINEMATIC_BONES,
    "anatomical": (
        *tuple(
            b
            for b in _KINEMATIC_BONES
            if b.name not in {"jaw", "left_eye_smplhf", "right_eye_smplhf"}
        ),
        Bone("head_top", "head", "head_top"),
        *tuple(
            Bone(f"{side}_{finger}_tip", f"{side}_{finger}3", f"{side}_{finger}_tip")
            for side in SIDES
            for finger in FINGERS
        ),
    ),
}
"""Named bone sets; see the module docstring."""

DEFAULT_BONE_SET = "paper"


def _radii_thin() -> dict[str, float]:
    radii = {
        "spine1": 0.12, "spine2": 0.12, "spine3": 0.13, "neck": 0.06, "head": 0.08, "head_top": 0.08,
        "jaw": 0.03, "left_eye_smplhf": 0.012, "right_eye_smplhf": 0.012,
    }  # fmt: skip
    for side in SIDES:
        radii |= {
            f"{side}_hip": 0.080, f"{side}_knee": 0.058, f"{side}_ankle": 0.035, f"{side}_foot": 0.035,
            f"{side}_collar": 0.05, f"{side}_shoulder": 0.05, f"{side}_elbow": 0.041, f"{side}_wrist": 0.025,
        }  # fmt: skip
        for finger in FINGERS:
            thumb = finger == "thumb"
            radii[f"{side}_{finger}1"] = 0.013 if thumb else 0.011
            radii[f"{side}_{finger}2"] = 0.0105 if thumb else 0.0095
            radii[f"{side}_{finger}3"] = 0.0095 if thumb else 0.0085
            radii[f"{side}_{finger}_tip"] = 0.0075
    return radii


def _radii_full() -> dict[str, float]:
    radii = _radii_thin() | {
        "spine1": 0.13,
        "spine2": 0.13,
        "spine3": 0.14,
        "head": 0.09,
        "head_top": 0.09,
    }
    for side in SIDES:
        radii |= {
            f"{side}_hip": 0.090, f"{side}_knee": 0.075, f"{side}_ankle": 0.055, f"{side}_foot": 0.040,
            f"{side}_collar": 0.055, f"{side}_shoulder": 0.055, f"{side}_elbow": 0.050, f"{side}_wrist": 0.038,
        }  # fmt: skip
        for finger in FINGERS:
            radii[f"{side}_{finger}1"] = 0.013 if finger == "thumb" else 0.012
    return radii


RADII_PRESETS: dict[str, dict[str, float]] = {"thin": _radii_thin(), "full": _radii_full()}
"""Minor radius (metres) per bone name; ``"thin"`` is the paper-like default."""

DEFAULT_RADII = "thin"


def resolve_bones(bones: str | tuple[Bone, ...] | list[Bone]) -> tuple[Bone, ...]:
    """Returns the bone tuple for a set name or validates an explicit bone list."""
    if isinstance(bones, str):
        if bones not in BONE_SETS:
            raise ValueError(f"bones: unknown bone set {bones!r}; available: {sorted(BONE_SETS)}")
        return BONE_SETS[bones]
    result = tuple(bones)
    known = set(JOINT_NAMES) | set(VIRTUAL_JOINTS)
    for bone in result:
        if not isinstance(bone, Bone):
            raise ValueError(f"bones: expected Bone entries, got {type(bone).__name__}")
        for end in (bone.start, bone.end):
            if end not in known:
                raise ValueError(f"bones: bone {bone.name!r} has unknown endpoint {end!r}")
    return result


def resolve_radii(
    bones: tuple[Bone, ...],
    radii: str | Mapping[str, float] | None = None,
    preset: str = DEFAULT_RADII,
) -> list[float]:
    """Minor radius per bone: the preset's values updated with per-bone overrides.

    Args:
        bones: The bones to size.
        radii: A preset name, or a mapping ``bone name -> radius in metres`` overriding ``preset``.
        preset: Base preset used when ``radii`` is a mapping or ``None``.
    """
    if isinstance(radii, str):
        preset, radii = radii, None
    if preset not in RADII_PRESETS:
        raise ValueError(f"radii: unknown preset {preset!r}; available: {sorted(RADII_PRESETS)}")
    table = dict(RADII_PRESETS[preset])
    names = {b.name for b in bones}
    for name, value in (radii or {}).items():
        if name not in names:
            raise ValueError(f"radii: no bone named {name!r} in this bone set")
        if not (float(value) >= 0.0):
            raise ValueError(f"radii: radius of {name!r} must be >= 0 metres, got {value!r}")
        table[name] = float(value)
    missing = [b.name for b in bones if b.name not in table]
    if missing:
        raise ValueError(f"radii: no radius for bones {missing}; pass radii={{name: metres}}")
    return [table[b.name] for b in bones]


def joint_positions_with_virtual(joints: torch.Tensor, names: set[str]) -> dict[str, torch.Tensor]:
    """Looks up joint and virtual-joint positions by name.

    Args:
        joints: ``(..., 55, 3)`` SMPL-X joints.
        names: Endpoint names needed.

    Returns:
        Mapping name -> ``(..., 3)`` positions.
    """
    out: dict[str, torch.Tensor] = {}
    for name in names:
        if name in JOINT_INDEX:
            out[name] = joints[..., JOINT_INDEX[name], :]
            continue
        virtual = VIRTUAL_JOINTS[name]
        base = joints[..., JOINT_INDEX[virtual.base], :]
        offset = base - joints[..., JOINT_INDEX[virtual.origin], :]
        unit = offset / offset.norm(dim=-1, keepdim=True).clamp_min(1e-12)
        out[name] = base + virtual.ratio * offset + virtual.length * unit
    return out


def bone_geometry(
    bones: str | tuple[Bone, ...] | list[Bone] = "paper", radii: str = DEFAULT_RADII
) -> dict[str, object]:
    """Everything that fixes the bone ellipsoids drawn for a bone set, as plain JSON data.

    The bones (name, start, end), the default radius preset's radius per bone and the virtual
    joints they use. Stored with rendered data (``hvg_data.config.RenderConfig.hash`` includes
    it), so that changing the radius rule or a bone changes the render hash instead of mixing
    old and new shards in a resumed render.
    """
    resolved = resolve_bones(bones)
    used = {name for bone in resolved for name in (bone.start, bone.end)}
    return {
        "bones": [[bone.name, bone.start, bone.end] for bone in resolved],
        "radii_preset": radii,
        "radii": resolve_radii(resolved, radii),
        "virtual_joints": {
            name: [joint.base, joint.origin, joint.ratio, joint.length]
            for name, joint in sorted(VIRTUAL_JOINTS.items())
            if name in used
        },
    }
