"""Bone ellipsoids: the ``Ellipsoids`` container and their construction from joints (§3.1)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import torch

from hvg_bonemap._validation import (
    BoneMapInputError,
    as_float_tensor,
    broadcast_batch,
    check_trailing_shape,
)
from hvg_bonemap.rotations import rotation_aligning
from hvg_bonemap.skeleton import (
    DEFAULT_BONE_SET,
    DEFAULT_RADII,
    NUM_JOINTS,
    Bone,
    joint_positions_with_virtual,
    resolve_bones,
    resolve_radii,
)

UP_AXIS = (0.0, 1.0, 0.0)
"""Canonical up axis of SMPL-X's world (Y up); an ellipsoid's column 1 is aligned to its bone."""


@dataclass(frozen=True)
class Ellipsoids:
    """A batch of ellipsoids in world coordinates (metres).

    Attributes:
        centers: ``(..., N, 3)`` centres.
        rotations: ``(..., N, 3, 3)`` rotations whose columns are the ellipsoid's local axes in
            world coordinates.
        radii: ``(..., N, 3)`` semi-axes along those columns, ``>= 0``. An ellipsoid with a
            semi-axis of (near) zero, e.g. from a zero-length bone, has no volume and is not drawn.

    The leading ``...`` is the ellipsoid batch shape (e.g. frames ``(T,)``); it broadcasts with
    the camera batch shape in :func:`hvg_bonemap.render`.
    """

    centers: torch.Tensor
    rotations: torch.Tensor
    radii: torch.Tensor

    def __post_init__(self) -> None:
        centers = as_float_tensor(self.centers, "centers")
        rotations = as_float_tensor(
            self.rotations, "rotations", dtype=centers.dtype, device=centers.device
        )
        radii = as_float_tensor(self.radii, "radii", dtype=centers.dtype, device=centers.device)
        check_trailing_shape(centers, "centers", (None, 3), "(..., N, 3)")
        n = centers.shape[-2]
        check_trailing_shape(rotations, "rotations", (n, 3, 3), f"(..., N={n}, 3, 3)")
        check_trailing_shape(radii, "radii", (n, 3), f"(..., N={n}, 3)")
        if bool((radii < 0).any()):
            raise BoneMapInputError("radii: semi-axes must be >= 0")
        broadcast_batch(
            [centers.shape[:-2], rotations.shape[:-3], radii.shape[:-2]],
            ["centers", "rotations", "radii"],
        )
        object.__setattr__(self, "centers", centers)
        object.__setattr__(self, "rotations", rotations)
        object.__setattr__(self, "radii", radii)

    @property
    def batch_shape(self) -> tuple[int, ...]:
        """Broadcast batch shape of the three fields (without ``N``)."""
        return tuple(
            torch.broadcast_shapes(
                self.centers.shape[:-2], self.rotations.shape[:-3], self.radii.shape[:-2]
            )
        )

    @property
    def count(self) -> int:
        """Number of ellipsoids ``N`` per batch element."""
        return int(self.centers.shape[-2])

    def to(
        self, device: torch.device | str | None = None, dtype: torch.dtype | None = None
    ) -> Ellipsoids:
        """Moves/casts all fields."""
        return Ellipsoids(
            self.centers.to(device=device, dtype=dtype),
            self.rotations.to(device=device, dtype=dtype),
            self.radii.to(device=device, dtype=dtype),
        )

    def expand(self, batch_shape: tuple[int, ...]) -> Ellipsoids:
        """Broadcasts every field to ``batch_shape`` (views, no copy)."""
        n = self.count
        return Ellipsoids(
            self.centers.expand(*batch_shape, n, 3),
            self.rotations.expand(*batch_shape, n, 3, 3),
            self.radii.expand(*batch_shape, n, 3),
        )

    def quadrics(self) -> torch.Tensor:
        """World-space quadric matrices ``Q = R diag(1 / r^2) R^T``, shape ``(..., N, 3, 3)``.

        Points ``x`` on the surface satisfy ``(x - c)^T Q (x - c) = 1``. Zero radii give inf.
        """
        inv_sq = 1.0 / (self.radii * self.radii)
        return (self.rotations * inv_sq[..., None, :]) @ self.rotations.transpose(-1, -2)


def ellipsoids_from_joints(
    joints: torch.Tensor,
    bones: str | tuple[Bone, ...] | list[Bone] = DEFAULT_BONE_SET,
    radii: str | Mapping[str, float] | None = None,
    *,
    radius_preset: str = DEFAULT_RADII,
    min_half_length_ratio: float = 0.0,
) -> Ellipsoids:
    """Builds one ellipsoid per bone from posed SMPL-X joints (the paper's Eq. 1).

    Each ellipsoid is centred at the bone midpoint; its rotation is the minimal rotation taking
    the canonical up axis ``(0, 1, 0)`` to the bone direction (so column 1 is the bone axis);
    its semi-axes are ``(r, max(L / 2, ratio * r), r)`` with ``L`` the bone length and ``r`` the
    bone's minor radius. A bone parallel or anti-parallel to up is handled exactly; a zero-length
    bone gets the identity rotation and a zero semi-axis, so it is not drawn.

    Args:
        joints: ``(..., 55, 3)`` posed joints in metres (world frame).
        bones: Bone-set name (``"paper"``, ``"anatomical"``) or explicit ``Bone`` list.
        radii: Radius preset name or per-bone overrides ``{bone name: metres}``.
        radius_preset: Preset the overrides apply to (``"thin"`` or ``"full"``).
        min_half_length_ratio: Lower bound of the along-bone semi-axis as a multiple of ``r``
            (0 = the paper's ``L / 2``; ~0.6 avoids flat discs on short torso bones).

    Returns:
        :class:`Ellipsoids` with batch shape ``...`` and ``N = len(bones)``.
    """
    joints = as_float_tensor(joints, "joints")
    check_trailing_shape(joints, "joints", (NUM_JOINTS, 3), "(..., 55, 3)")
    bone_list = resolve_bones(bones)
    radius_values = resolve_radii(bone_list, radii, radius_preset)
    points = joint_positions_with_virtual(
        joints, {b.start for b in bone_list} | {b.end for b in bone_list}
    )
    start = torch.stack([points[b.start] for b in bone_list], dim=-2)
    end = torch.stack([points[b.end] for b in bone_list], dim=-2)
    direction = end - start
    up = torch.tensor(UP_AXIS, dtype=joints.dtype, device=joints.device)
    rotations = rotation_aligning(up.expand_as(direction), direction)
    minor = torch.tensor(radius_values, dtype=joints.dtype, device=joints.device).expand(
        direction.shape[:-1]
    )
    half_length = 0.5 * direction.norm(dim=-1)
    if min_half_length_ratio > 0.0:
        half_length = torch.where(
            half_length > 0, torch.maximum(half_length, min_half_length_ratio * minor), half_length
        )
    radii_t = torch.stack([minor, half_length, minor], dim=-1)
    return Ellipsoids(0.5 * (start + end), rotations, radii_t)
