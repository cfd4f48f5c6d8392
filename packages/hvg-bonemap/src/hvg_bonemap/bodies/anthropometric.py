"""A built-in SMPL-X-compatible skeleton that needs no licensed model file.

The rest joints are an anthropometric adult (1.69 m) in SMPL-X's rest pose and frame (Y up,
facing +z, arms out along +-x, left = +x), with the SMPL-X neutral bone lengths listed in
``research/bonemap.md`` §1.1 (hip -> knee 0.383 m, elbow -> wrist 0.253 m, ...) and the pelvis
where SMPL-X's neutral model has it, so that fitted ``transl`` values land the body in the same
place. It poses with exactly SMPL-X's forward kinematics, so a real fit's pose parameters give
the same joint rotations; only the rest shape (``betas``) differs, which the bone map, being a
skeleton signal, mostly does not show.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch

from hvg_bonemap.bodies.kinematics import forward_kinematics
from hvg_bonemap.bodies.params import HandPCA, full_pose_from_params, scale_and_translation
from hvg_bonemap.skeleton import JOINT_NAMES, NUM_JOINTS, PARENTS


def _rest_joint_table() -> list[tuple[float, float, float]]:
    offsets: dict[str, tuple[float, float, float]] = {
        "spine1": (0.0, 0.110, -0.020),
        "spine2": (0.0, 0.130, 0.010),
        "spine3": (0.0, 0.058, 0.010),
        "neck": (0.0, 0.165, -0.030),
        "head": (0.0, 0.160, 0.030),
        "jaw": (0.0, -0.012, 0.012),
    }
    # Left side (+x); the right side mirrors x.
    left: dict[str, tuple[float, float, float]] = {
        "hip": (0.058, -0.095, -0.013),
        "knee": (0.010, -0.382, 0.005),
        "ankle": (-0.005, -0.405, -0.040),
        "foot": (0.020, -0.060, 0.125),
        "collar": (0.075, 0.060, -0.015),
        "shoulder": (0.125, 0.040, -0.020),
        "elbow": (0.265, -0.020, -0.020),
        "wrist": (0.253, 0.005, 0.000),
        "eye_smplhf": (0.030, 0.045, 0.060),
        "index1": (0.100, -0.008, 0.028),
        "index2": (0.032, 0.000, 0.000),
        "index3": (0.023, 0.000, 0.000),
        "middle1": (0.104, -0.008, 0.005),
        "middle2": (0.034, 0.000, 0.000),
        "middle3": (0.025, 0.000, 0.000),
        "pinky1": (0.085, -0.012, -0.035),
        "pinky2": (0.022, 0.000, 0.000),
        "pinky3": (0.018, 0.000, 0.000),
        "ring1": (0.096, -0.010, -0.015),
        "ring2": (0.031, 0.000, 0.000),
        "ring3": (0.023, 0.000, 0.000),
        "thumb1": (0.030, -0.015, 0.040),
        "thumb2": (0.025, -0.005, 0.016),
        "thumb3": (0.020, -0.005, 0.016),
    }
    for side, sign in (("left", 1.0), ("right", -1.0)):
        for part, (x, y, z) in left.items():
            offsets[f"{side}_{part}"] = (sign * x, y, z)
    table: list[tuple[float, float, float]] = [(0.003, -0.351, 0.012)]
    for i in range(1, NUM_JOINTS):
        px, py, pz = table[PARENTS[i]]
        dx, dy, dz = offsets[JOINT_NAMES[i]]
        table.append((px + dx, py + dy, pz + dz))
    return table


REST_JOINTS: tuple[tuple[float, float, float], ...] = tuple(_rest_joint_table())
"""``(55, 3)`` rest-pose joints of the built-in body in metres (SMPL-X frame)."""


def rest_joints(
    dtype: torch.dtype = torch.float32, device: torch.device | str | None = None
) -> torch.Tensor:
    """The built-in rest joints as a ``(55, 3)`` tensor."""
    return torch.tensor(REST_JOINTS, dtype=dtype, device=device)


def joints_from_smplx_params(
    params: Mapping[str, object] | None = None,
    /,
    *,
    rest: torch.Tensor | None = None,
    left_hand_pca: HandPCA | None = None,
    right_hand_pca: HandPCA | None = None,
    dtype: torch.dtype | None = None,
    device: torch.device | str | None = None,
    **kwargs: object,
) -> torch.Tensor:
    """Posed SMPL-X joints from pose parameters with the built-in (or a given) rest skeleton.

    Accepts the SMPL-X forward arguments ``global_orient (..., 3)``, ``body_pose (..., 63)``,
    ``jaw_pose``, ``leye_pose``, ``reye_pose (..., 3)``, ``left_hand_pose``/``right_hand_pose``
    ``(..., 45)`` axis-angle (or ``(..., C)`` PCA coefficients with ``*_hand_pca``), ``transl
    (..., 3)``, and THuman's ``scale``/``translation`` (``joints * scale + translation``). Each
    block may also be ``(..., J, 3)``. Missing blocks are zero; other keys (``betas``,
    ``expression``...) are ignored. Batch shapes broadcast.

    Args:
        params: SMPL-X parameters as a mapping (e.g. a loaded ``.npz``); or pass them as kwargs.
        rest: ``(..., 55, 3)`` rest joints (default: the built-in anthropometric skeleton), e.g.
            ``J_regressor @ v_shaped`` of a real SMPL-X model for an exact match.
        left_hand_pca: PCA basis for left-hand coefficients.
        right_hand_pca: PCA basis for right-hand coefficients.
        dtype: Compute dtype (default: the parameters' floating dtype, else float32).
        device: Compute device.
        **kwargs: SMPL-X parameters by name.

    Returns:
        ``(..., 55, 3)`` joints in metres, world frame.
    """
    merged: dict[str, object] = dict(params or {})
    merged.update(kwargs)
    full, transl, _ = full_pose_from_params(
        merged,
        left_hand_pca=left_hand_pca,
        right_hand_pca=right_hand_pca,
        dtype=dtype,
        device=device,
    )
    rest_t = (
        rest_joints(full.dtype, full.device)
        if rest is None
        else rest.to(dtype=full.dtype, device=full.device)
    )
    joints, _ = forward_kinematics(full, rest_t)
    joints = joints + transl[..., None, :]
    scale, translation = scale_and_translation(merged, full.dtype, full.device)
    if scale is not None:
        joints = joints * scale
    if translation is not None:
        joints = joints + translation
    return joints


class AnthropometricBody(torch.nn.Module):
    """Body model ``forward(**smplx_params) -> joints (..., 55, 3)`` with the built-in skeleton.

    Args:
        rest: Optional ``(55, 3)`` rest joints replacing the built-in ones.
        left_hand_pca: Optional PCA basis for left-hand coefficients.
        right_hand_pca: Optional PCA basis for right-hand coefficients.
    """

    def __init__(
        self,
        rest: torch.Tensor | None = None,
        left_hand_pca: HandPCA | None = None,
        right_hand_pca: HandPCA | None = None,
    ) -> None:
        super().__init__()
        self.register_buffer(
            "rest", rest_joints(torch.float32) if rest is None else torch.as_tensor(rest).float()
        )
        self.left_hand_pca = left_hand_pca
        self.right_hand_pca = right_hand_pca

    def forward(
        self, params: Mapping[str, object] | None = None, /, **kwargs: object
    ) -> torch.Tensor:
        """Posed joints ``(..., 55, 3)``; see :func:`joints_from_smplx_params`."""
        rest: torch.Tensor = self.rest  # type: ignore[assignment]
        return joints_from_smplx_params(
            params,
            rest=rest,
            left_hand_pca=self.left_hand_pca,
            right_hand_pca=self.right_hand_pca,
            device=rest.device,
            **kwargs,
        )
