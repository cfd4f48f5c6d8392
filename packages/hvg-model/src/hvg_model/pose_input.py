"""The DenoisingNet's ``pose_maps`` input under its ``hvg_bonemap.PoseSpec``.

The spec of a network comes from the registered pose signal (``pose_signals`` registry: its class
gives the channel layout) or from the network's saved config; every conversion of the pose signal
goes through :mod:`hvg_bonemap.pose_codec` with that spec: decoding stored bone maps (dataset
shards keep depth in metres and normals as uint8), drawing a signal from joints and cameras, and
checking pose input given to a pipeline. Errors are ``hvg_core`` ``InputError`` naming the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from os import PathLike
from typing import Any

import torch
from hvg_bonemap.pose_spec import PoseSpec, PoseSpecError
from hvg_core.errors import InputError


def signal_class(name: str) -> Any:
    """The class registered as pose signal ``name`` (hvg-bonemap's built-ins or a plugin's).

    Raises:
        InputError: No such registered signal (``field="pose_signal"``).
    """
    from hvg_core.registry import get_registry

    registry = get_registry()
    known = registry.names("pose_signals")
    if name not in known:
        raise InputError(
            f"unknown pose signal {name!r}; registered: {', '.join(sorted(known))}",
            field="pose_signal",
        )
    return registry.load("pose_signals", name)


def pose_spec_for(
    pose: str | Mapping[str, Any] | PoseSpec, *, path: str | PathLike[str] | None = None
) -> PoseSpec:
    """The :class:`~hvg_bonemap.PoseSpec` of a signal name, a spec dict or a spec.

    A name gets the registered signal's layout and the default depth range, bones and view
    alignment.

    Raises:
        InputError: Unknown signal or an invalid spec dict (``field`` names the spec field,
            ``path`` the file it came from, if given).
    """
    if isinstance(pose, PoseSpec):
        return pose
    try:
        if isinstance(pose, str):
            return PoseSpec.for_signal(pose, signal_class(pose))
        return PoseSpec.from_dict(pose)
    except PoseSpecError as error:
        raise InputError(str(error), path=path, field=f"pose_spec.{error.field}") from error


def check_pose_maps(
    spec: PoseSpec,
    pose_maps: torch.Tensor,
    made_with: PoseSpec | None = None,
    *,
    path: str | PathLike[str] | None = None,
) -> None:
    """Refuse pose input that disagrees with the spec a network was trained with.

    Args:
        spec: The network's spec.
        pose_maps: ``(..., C, H, W)`` pose input.
        made_with: The spec the input says it was made with (e.g. saved beside the maps).
        path: The file the maps came from, for the message.

    Raises:
        InputError: ``field`` is ``pose_spec.<field>`` of the first disagreement (signal, layout,
            depth range, bones, ..., channels).
    """
    from hvg_bonemap.pose_codec import check_pose_input

    try:
        check_pose_input(spec, pose_maps, made_with)
    except PoseSpecError as error:
        raise InputError(str(error), path=path, field=f"pose_spec.{error.field}") from error


def encode_stored_bonemap(
    depth: torch.Tensor,
    normal: torch.Tensor,
    reference_distance: torch.Tensor,
    *,
    pose_signal: str | PoseSpec = "bonemap",
    depth_range: float | None = None,
) -> torch.Tensor:
    """Encode stored bone maps as network input (``hvg_bonemap.pose_codec.decode``).

    Args:
        depth: ``(..., H, W)`` or ``(..., 1, H, W)`` Euclidean depth in metres, 0 background.
        normal: ``(..., 3, H, W)`` camera-space unit normals, float in [-1, 1] or uint8
            ``round((n + 1)·127.5)``; 0 background.
        reference_distance: ``(...)`` distance from the camera centre to the pelvis (metres).
        pose_signal: A bone-map signal name (``"bonemap"``, ``"depth"``, ``"normal"``) or spec.
        depth_range: Overrides the spec's depth range.

    Returns:
        ``(..., C, H, W)`` float32 in [0, 1].

    Raises:
        InputError: A signal not made from bone maps, or shapes that disagree.
    """
    from hvg_bonemap.pose_codec import decode

    spec = pose_spec_for(pose_signal)
    if depth_range is not None:
        spec = spec.replace(depth_range=depth_range)
    try:
        return decode(spec, depth, normal, torch.as_tensor(reference_distance))
    except PoseSpecError as error:
        raise InputError(str(error), field=f"pose_spec.{error.field}") from error


def render_pose_signal(
    joints: torch.Tensor,
    cameras: Any,
    *,
    pose_signal: str | PoseSpec = "bonemap",
    **options: Any,
) -> torch.Tensor:
    """Draw a pose signal: joints ``(..., 55, 3)`` x aligned cameras -> ``(..., C, H, W)``.

    Args:
        joints: World joints; ``...`` broadcasts with the camera batch.
        cameras: ``hvg_bonemap.Cameras`` (already view-aligned).
        pose_signal: A registered signal name or a spec.
        **options: Extra constructor arguments of the signal (e.g. ``faces``).
    """
    from hvg_bonemap.pose_codec import check_pose_input, signal_for

    spec = pose_spec_for(pose_signal)
    maps = signal_for(spec, signal_class(spec.signal), **options)(joints, cameras)
    check_pose_input(spec, maps)
    return maps.float()
