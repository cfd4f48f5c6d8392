"""Built-in procedural SMPL-X motions (walk, turn in place, arm raise) and motion-file loading.

Every motion returns SMPL-X parameters with a leading frame axis ``T``: ``global_orient (T, 3)``,
``body_pose (T, 63)``, ``left_hand_pose``/``right_hand_pose (T, 45)``, ``jaw_pose``,
``leye_pose``, ``reye_pose (T, 3)`` and ``transl (T, 3)`` (float32), ready for
:func:`hvg_bonemap.joints_from_smplx_params` or the real SMPL-X model.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable

import numpy as np
import torch

from hvg_bonemap._validation import BoneMapInputError
from hvg_bonemap.rotations import axis_angle_to_matrix, matrix_to_axis_angle
from hvg_bonemap.skeleton import JOINT_INDEX

ARMS_DOWN_DEG = 70.0
"""How far the arms are lowered from SMPL-X's T-pose in the procedural motions."""


def _empty(num_frames: int) -> dict[str, torch.Tensor]:
    if num_frames < 1:
        raise BoneMapInputError(f"num_frames: expected >= 1, got {num_frames}")
    return {
        "global_orient": torch.zeros(num_frames, 3),
        "body_pose": torch.zeros(num_frames, 21, 3),
        "jaw_pose": torch.zeros(num_frames, 3),
        "leye_pose": torch.zeros(num_frames, 3),
        "reye_pose": torch.zeros(num_frames, 3),
        "left_hand_pose": torch.zeros(num_frames, 45),
        "right_hand_pose": torch.zeros(num_frames, 45),
        "transl": torch.zeros(num_frames, 3),
    }


def _set(params: dict[str, torch.Tensor], joint: str, axis_angle: torch.Tensor) -> None:
    params["body_pose"][:, JOINT_INDEX[joint] - 1] = axis_angle


def _axis(angle: torch.Tensor, axis: int) -> torch.Tensor:
    out = torch.zeros(*angle.shape, 3)
    out[..., axis] = angle
    return out


def _arm(side: str, lower_deg: torch.Tensor, swing_deg: torch.Tensor) -> torch.Tensor:
    """Shoulder rotation: lower the arm from the T-pose (about z), then swing it (about x)."""
    sign = 1.0 if side == "left" else -1.0
    lower = axis_angle_to_matrix(_axis(torch.deg2rad(-sign * lower_deg), 2))
    swing = axis_angle_to_matrix(_axis(torch.deg2rad(swing_deg), 0))
    return matrix_to_axis_angle(swing @ lower)


def _finish(params: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    params["body_pose"] = params["body_pose"].reshape(-1, 63)
    return {k: v.to(torch.float32).contiguous() for k, v in params.items()}


def walk(
    num_frames: int = 24, *, fps: float = 24.0, cadence_hz: float = 1.0, speed: float = 0.0
) -> dict[str, torch.Tensor]:
    """A walk cycle: hip/knee flexion, counter-swinging arms, pelvis bob.

    Args:
        num_frames: Number of frames ``T``.
        fps: Frames per second.
        cadence_hz: Gait cycles (two steps) per second.
        speed: Forward speed along +z in m/s (0 = walking in place, stays centred in orbit views).
    """
    params = _empty(num_frames)
    time = torch.arange(num_frames, dtype=torch.float64) / fps
    phase = 2.0 * math.pi * cadence_hz * time
    hip = torch.deg2rad(25.0 * torch.sin(phase))
    _set(params, "left_hip", _axis(-hip, 0))
    _set(params, "right_hip", _axis(hip, 0))
    knee_l = torch.deg2rad(35.0 * torch.clamp(torch.sin(phase + 1.2), min=0.0) + 5.0)
    knee_r = torch.deg2rad(35.0 * torch.clamp(torch.sin(phase + 1.2 + math.pi), min=0.0) + 5.0)
    _set(params, "left_knee", _axis(knee_l, 0))
    _set(params, "right_knee", _axis(knee_r, 0))
    swing = 20.0 * torch.sin(phase)
    down = torch.full_like(swing, ARMS_DOWN_DEG)
    _set(params, "left_shoulder", _arm("left", down, swing))
    _set(params, "right_shoulder", _arm("right", down, -swing))
    _set(params, "left_elbow", _axis(torch.full_like(swing, -0.3), 1))
    _set(params, "right_elbow", _axis(torch.full_like(swing, 0.3), 1))
    params["transl"][:, 1] = (0.02 * torch.cos(2.0 * phase)).float()
    params["transl"][:, 2] = (speed * time).float()
    params["global_orient"][:, 1] = torch.deg2rad(4.0 * torch.sin(phase)).float()
    return _finish(params)


def turn(num_frames: int = 24, *, degrees: float = 360.0) -> dict[str, torch.Tensor]:
    """Turning in place about the vertical axis by ``degrees`` over the clip, arms lowered."""
    params = _empty(num_frames)
    yaw = torch.deg2rad(torch.linspace(0.0, degrees, num_frames + 1, dtype=torch.float64)[:-1])
    params["global_orient"] = _axis(yaw, 1)
    down = torch.full((num_frames,), ARMS_DOWN_DEG, dtype=torch.float64)
    zero = torch.zeros(num_frames, dtype=torch.float64)
    _set(params, "left_shoulder", _arm("left", down, zero))
    _set(params, "right_shoulder", _arm("right", down, zero))
    return _finish(params)


def arm_raise(num_frames: int = 24) -> dict[str, torch.Tensor]:
    """Both arms rise from the sides to above the head and back (one cosine cycle)."""
    params = _empty(num_frames)
    s = 0.5 - 0.5 * torch.cos(
        2.0 * math.pi * torch.arange(num_frames, dtype=torch.float64) / max(num_frames, 1)
    )
    lower = ARMS_DOWN_DEG - s * (ARMS_DOWN_DEG + 80.0)
    zero = torch.zeros(num_frames, dtype=torch.float64)
    _set(params, "left_shoulder", _arm("left", lower, zero))
    _set(params, "right_shoulder", _arm("right", lower, zero))
    return _finish(params)


MOTIONS: dict[str, Callable[[int], dict[str, torch.Tensor]]] = {
    "walk": walk,
    "turn": turn,
    "arm_raise": arm_raise,
}
"""Built-in motions by name, each ``f(num_frames) -> SMPL-X parameters``."""

_AMASS_SPLIT = (("global_orient", 3), ("body_pose", 63), ("jaw_pose", 3), ("leye_pose", 3), ("reye_pose", 3),
                ("left_hand_pose", 45), ("right_hand_pose", 45))  # fmt: skip


def load_motion(path: str | os.PathLike[str]) -> dict[str, torch.Tensor]:
    """Loads SMPL-X parameters with a leading frame axis from an ``.npz`` file.

    Accepts the SMPL-X forward names (``global_orient``, ``body_pose``, ``*_hand_pose``,
    ``transl``, ...) and AMASS-style SMPL-X files (``poses (T, 165)``, ``trans (T, 3)``). Arrays
    are read without pickle; non-numeric entries (``gender``...) are skipped.

    Raises:
        BoneMapInputError: naming the file and field when it is unreadable or malformed.
    """
    name = os.fspath(path)
    try:
        with np.load(name, allow_pickle=False) as data:
            arrays = {
                k: np.asarray(data[k])
                for k in data.files
                if np.asarray(data[k]).dtype.kind in "fiu"
            }
    except (OSError, ValueError) as error:
        raise BoneMapInputError(
            f"{name}: cannot read as an .npz of SMPL-X parameters ({error})"
        ) from error
    out: dict[str, torch.Tensor] = {}
    if "poses" in arrays:
        poses = arrays.pop("poses")
        if poses.ndim != 2 or poses.shape[1] != 165:
            raise BoneMapInputError(
                f"{name}: field 'poses': expected shape (T, 165) SMPL-X, got {poses.shape}"
            )
        start = 0
        for key, size in _AMASS_SPLIT:
            out[key] = torch.from_numpy(poses[:, start : start + size].astype(np.float32))
            start += size
    if "trans" in arrays:
        out["transl"] = torch.from_numpy(arrays.pop("trans").astype(np.float32))
    known = {"global_orient", "body_pose", "jaw_pose", "leye_pose", "reye_pose", "left_hand_pose", "right_hand_pose",
             "transl", "scale", "translation"}  # fmt: skip
    for key, value in arrays.items():
        if key in known:
            out[key] = torch.from_numpy(value.astype(np.float32))
    if not out:
        raise BoneMapInputError(
            f"{name}: no SMPL-X pose fields found (expected e.g. body_pose or poses)"
        )
    lengths = {k: v.shape[0] for k, v in out.items() if v.ndim >= 2}
    if len(set(lengths.values())) > 1:
        raise BoneMapInputError(f"{name}: fields disagree on the number of frames: {lengths}")
    return out
