"""The pose codec: render output -> stored maps -> the network's pose input, under a ``PoseSpec``.

Pure tensor functions (kornia style). The three forms of a pose signal are:

* **rendered**: a :class:`~hvg_bonemap.renderers.BoneMap` (depth in metres, unit camera-space
  normals, mask), or the joints and cameras a signal is drawn from;
* **stored**: what datasets keep (``hvg-data`` shards): depth ``(..., H, W)`` metres as float16 and
  normals ``(..., 3, H, W)`` as uint8 ``round((n + 1) * 127.5)``, both 0 on the background;
* **network input**: ``(..., C, H, W)`` float32 in [0, 1] in the spec's channel layout: the depth
  code (nearer is brighter, the pelvis at 0.5, background 0) and the normal code ``(n + 1) / 2``
  (background 0), or a drawn signal such as ``skeleton2d``.

The value codes themselves (depth, normal, pelvis distance) live in
:mod:`hvg_bonemap.pose_encoding` and are re-exported here.
"""

from __future__ import annotations

from typing import Any

import torch

from hvg_bonemap._validation import check_trailing_shape
from hvg_bonemap.cameras import Cameras
from hvg_bonemap.pose_encoding import (
    MIN_DEPTH_CODE,
    depth_code,
    load_normal,
    normal_code,
    pelvis_distance,
    store_normal,
)
from hvg_bonemap.pose_spec import PoseSpec, PoseSpecError
from hvg_bonemap.renderers.output import BoneMap
from hvg_bonemap.signals import BUILTIN_SIGNALS

__all__ = [
    "MIN_DEPTH_CODE",
    "check_pose_input",
    "decode",
    "depth_code",
    "draws_mesh",
    "encode",
    "load_normal",
    "normal_code",
    "pelvis_distance",
    "pose_input",
    "pose_input_from_stored",
    "signal_class_for",
    "signal_for",
    "store_normal",
]


def encode(bonemap: BoneMap) -> tuple[torch.Tensor, torch.Tensor]:
    """Rendered bone map -> stored form.

    Args:
        bonemap: Rendered maps, batch ``...``.

    Returns:
        ``depth (..., H, W)`` float16 metres and ``normal (..., 3, H, W)`` uint8, 0 on background
        (the background of ``depth`` is exactly 0, body depths are > 0).
    """
    depth = torch.where(bonemap.mask, bonemap.depth, torch.zeros_like(bonemap.depth))
    return depth.to(torch.float16), store_normal(bonemap.normal, bonemap.mask)


def decode(
    spec: PoseSpec, depth: torch.Tensor, normal: torch.Tensor, reference: torch.Tensor
) -> torch.Tensor:
    """Stored (or rendered) bone maps -> network input for a bone-map spec.

    Args:
        spec: A spec whose parts are ``depth`` and/or ``normal`` (``spec.from_bone_maps``).
        depth: ``(..., H, W)`` or ``(..., 1, H, W)`` metres, 0 on the background.
        normal: ``(..., 3, H, W)`` uint8 (stored) or float unit normals, 0 on the background.
        reference: ``(...)`` pelvis distance (:func:`pelvis_distance`), broadcasting with ``...``.

    Returns:
        ``(..., spec.channels, H, W)`` float32 in [0, 1].

    Raises:
        PoseSpecError: A spec with parts not made from bone maps (``field="signal"``), or maps
            whose shapes disagree (``field="depth"``).
    """
    if not spec.from_bone_maps:
        raise PoseSpecError(
            f"{spec.signal!r} is drawn from joints and cameras, not decoded from bone maps "
            "(use pose_input)",
            field="signal",
        )
    if depth.ndim == normal.ndim and depth.shape[-3] == 1:
        depth = depth[..., 0, :, :]
    if normal.shape[-3] != 3 or normal.shape[:-3] != depth.shape[:-2]:
        raise PoseSpecError(
            f"expected depth (..., H, W) and normal (..., 3, H, W) with the same batch, got "
            f"{tuple(depth.shape)} and {tuple(normal.shape)}",
            field="depth",
        )
    mask = depth > 0
    if normal.dtype == torch.uint8:
        normal = load_normal(normal, mask)
    parts = {
        "depth": lambda: depth_code(
            depth, mask, torch.as_tensor(reference).expand(mask.shape[:-2]), spec.depth_range
        ),
        "normal": lambda: normal_code(normal, mask),
    }
    return torch.cat([parts[name]() for name, _ in spec.layout], dim=-3)


def signal_for(spec: PoseSpec, signal_class: Any = None, **options: Any) -> Any:
    """The pose-signal object drawing ``spec`` (bones, radii, depth range, limb width applied).

    Args:
        spec: The pose spec.
        signal_class: The registered signal class; default: hvg-bonemap's built-in of that name.
        **options: Extra constructor arguments (e.g. ``faces`` of ``body_normal``).
    """
    signal_class = signal_class_for(spec, signal_class)
    if not isinstance(signal_class, type):
        return signal_class
    known = getattr(signal_class, "spec_options", ())
    values = {
        "bones": spec.bones,
        "radii": spec.radii,
        "depth_range": spec.depth_range,
        "width_px": spec.skeleton_width_px,
    }
    return signal_class(**{k: v for k, v in values.items() if k in known}, **options)


def signal_class_for(spec: PoseSpec, signal_class: Any = None) -> Any:
    """The class (or instance) drawing ``spec``: ``signal_class``, else the built-in of that name.

    Raises:
        PoseSpecError: No class given and no built-in signal of that name (``field="signal"``).
    """
    if signal_class is not None:
        return signal_class
    if spec.signal not in BUILTIN_SIGNALS:
        raise PoseSpecError(f"no built-in signal {spec.signal!r}", field="signal")
    return BUILTIN_SIGNALS[spec.signal]


def draws_mesh(spec: PoseSpec, signal_class: Any = None) -> bool:
    """Whether ``spec``'s signal is drawn from a posed body mesh (``body_normal``), not joints."""
    return bool(getattr(signal_class_for(spec, signal_class), "draws_mesh", False))


def pose_input(
    spec: PoseSpec,
    joints: torch.Tensor,
    cameras: Cameras,
    signal_class: Any = None,
    *,
    mesh: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> torch.Tensor:
    """Joints (or a body mesh) seen by (already aligned) cameras -> network input.

    Args:
        spec: The pose spec.
        joints: ``(..., 55, 3)`` world joints; ``...`` broadcasts with the camera batch.
        cameras: Aligned cameras (:func:`hvg_bonemap.alignment.align_cameras`).
        signal_class: The registered signal class (default: the built-in).
        mesh: ``(vertices (..., N, 3), faces (F, 3))``, the posed world-space body mesh, for
            signals drawn from it (:func:`draws_mesh`, e.g. ``body_normal``); ``...`` as
            ``joints``.

    Returns:
        ``(..., spec.channels, H, W)`` float32 in [0, 1].

    Raises:
        PoseSpecError: A mesh signal without ``mesh`` (``field="mesh"``).
    """
    if draws_mesh(spec, signal_class):
        if mesh is None:
            raise PoseSpecError(
                f"the {spec.signal!r} signal is drawn from the posed body mesh: pass "
                "mesh=(vertices, faces) (e.g. from an SMPL-X body, hvg_bonemap.SMPLXBody)",
                field="mesh",
            )
        vertices, faces = mesh
        maps = signal_for(spec, signal_class, faces=faces)(vertices, cameras)
    else:
        maps = signal_for(spec, signal_class)(joints, cameras)
    check_pose_input(spec, maps)
    return maps.float()


def pose_input_from_stored(
    spec: PoseSpec,
    depth: torch.Tensor,
    normal: torch.Tensor,
    joints: torch.Tensor,
    cameras: Cameras,
    signal_class: Any = None,
    *,
    mesh: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> torch.Tensor:
    """Network input of a stored sample: decoded bone maps, or the signal drawn from its joints.

    Args:
        spec: The pose spec.
        depth: ``(V, T, H, W)`` or ``(V, T, 1, H, W)`` stored depth, metres.
        normal: ``(V, T, 3, H, W)`` stored normals (uint8 or float).
        joints: ``(T, 55, 3)`` world joints of the frames.
        cameras: The stored (aligned) cameras of the views, batch ``(V,)``, at the maps' size.
        signal_class: The registered signal class for specs not made from bone maps.
        mesh: ``(vertices (T, N, 3), faces (F, 3))`` of the frames, for mesh signals
            (``body_normal``; built from the stored SMPL-X parameters).

    Returns:
        ``(V, T, spec.channels, H, W)`` float32 in [0, 1].
    """
    if spec.from_bone_maps:
        reference = pelvis_distance(joints[None], cameras.centers[:, None])
        return decode(spec, depth, normal, reference)
    if mesh is not None:
        mesh = (mesh[0][None], mesh[1])
    return pose_input(spec, joints[None], cameras[:, None], signal_class, mesh=mesh)


#: Fields compared between a consumer's spec and the spec pose input says it was made with.
INPUT_FIELDS = ("signal", "layout", "depth_range", "bones", "radii", "alignment", "crop_extent")


def check_pose_input(spec: PoseSpec, maps: torch.Tensor, made_with: PoseSpec | None = None) -> None:
    """Refuse pose input that cannot come from ``spec``.

    Args:
        spec: The spec the consumer (e.g. a pipeline) was built for.
        maps: ``(..., C, H, W)`` pose input.
        made_with: The spec the input says it was made with (e.g. stored beside pose maps in
            a file), if known.

    Raises:
        PoseSpecError: ``made_with`` differs from ``spec`` (the first differing field of
            :data:`INPUT_FIELDS` is named), a wrong channel count (``field="channels"``), or
            values outside [0, 1] — e.g. raw depth in metres or normals in [-1, 1]
            (``field="depth_range"``).
    """
    if made_with is not None:
        for name in INPUT_FIELDS:
            ours, theirs = getattr(spec, name), getattr(made_with, name)
            if ours != theirs:
                raise PoseSpecError(
                    f"pose input was made with {theirs!r}, this model expects {ours!r}",
                    field=name,
                )
    check_trailing_shape(maps, "pose_maps", (None, None, None), "(..., C, H, W)")
    if maps.shape[-3] != spec.channels:
        raise PoseSpecError(
            f"pose input has {maps.shape[-3]} channels, the {spec.signal!r} spec "
            f"{[list(p) for p in spec.layout]} has {spec.channels}",
            field="channels",
        )
    if maps.numel() and (float(maps.min()) < 0.0 or float(maps.max()) > 1.0):
        raise PoseSpecError(
            f"pose input values span [{float(maps.min()):.3g}, {float(maps.max()):.3g}], not the "
            "codes in [0, 1] (raw depth or normals? encode them with hvg_bonemap.pose_codec)",
            field="depth_range",
        )
