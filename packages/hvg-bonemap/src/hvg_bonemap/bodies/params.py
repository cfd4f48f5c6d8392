"""SMPL-X pose parameters: parsing, defaults and the 55 x 3 full pose (smplx's order)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import torch

from hvg_bonemap._validation import BoneMapInputError, as_float_tensor, broadcast_batch

POSE_KEYS: dict[str, int] = {
    "global_orient": 1,
    "body_pose": 21,
    "jaw_pose": 1,
    "leye_pose": 1,
    "reye_pose": 1,
    "left_hand_pose": 15,
    "right_hand_pose": 15,
}
"""Axis-angle pose blocks in ``full_pose`` order with their joint counts (sum 55)."""

SCALE_KEYS = ("scale", "translation")
"""THuman-style post-transform: ``joints * scale + translation`` (applied by the bodies)."""


@dataclass(frozen=True)
class HandPCA:
    """A hand pose PCA basis as stored in the SMPL-X model file.

    Attributes:
        components: ``(C, 45)`` rows of ``hands_components{l,r}`` (the first ``C`` are used).
        mean: ``(45,)`` ``hands_mean{l,r}``, added to the decoded pose (zeros = flat hand mean).
    """

    components: torch.Tensor
    mean: torch.Tensor


def _hand_pose(
    value: torch.Tensor, name: str, pca: HandPCA | None, mean: torch.Tensor | None
) -> torch.Tensor:
    """Decodes a hand pose to ``(..., 15, 3)`` axis-angle."""
    last = value.shape[-1] if value.ndim else 0
    if value.ndim >= 2 and tuple(value.shape[-2:]) == (15, 3):
        pose = value.reshape(*value.shape[:-2], 45)
    elif last == 45 and pca is None:
        pose = value
    elif pca is not None and last <= pca.components.shape[0]:
        comps = pca.components[:last].to(value)
        pose = value @ comps
    else:
        hint = "" if pca is not None else " (PCA coefficients need the model's hand components)"
        raise BoneMapInputError(
            f"{name}: expected shape (..., 45), (..., 15, 3) or (..., C) PCA, got {tuple(value.shape)}{hint}"
        )
    offset = pca.mean if pca is not None else mean
    if offset is not None:
        pose = pose + offset.to(pose)
    return pose.reshape(*pose.shape[:-1], 15, 3)


def full_pose_from_params(
    params: Mapping[str, object],
    *,
    left_hand_pca: HandPCA | None = None,
    right_hand_pca: HandPCA | None = None,
    dtype: torch.dtype | None = None,
    device: torch.device | str | None = None,
) -> tuple[torch.Tensor, torch.Tensor, tuple[int, ...]]:
    """Assembles SMPL-X parameters into the ``(..., 55, 3)`` axis-angle full pose and ``transl``.

    Missing blocks are zeros (``transl`` too). Each block may be flat (``(..., 3 J)``) or
    ``(..., J, 3)``; hand poses may be PCA coefficients when a basis is given. Other keys
    (``betas``, ``expression``, ``scale``...) are not read here.

    Args:
        params: Mapping of SMPL-X parameter names to arrays.
        left_hand_pca: Left-hand PCA basis (and mean) for PCA coefficients.
        right_hand_pca: Right-hand PCA basis.
        dtype: Output dtype (default: first floating input's, else float32).
        device: Output device.

    Returns:
        ``full_pose`` ``(..., 55, 3)``, ``transl`` ``(..., 3)`` and the batch shape ``...``.
    """
    tensors: dict[str, torch.Tensor] = {}
    for key in [*POSE_KEYS, "transl"]:
        if key in params and params[key] is not None:
            tensors[key] = as_float_tensor(params[key], key, device=device)
    if dtype is None:
        dtype = next((t.dtype for t in tensors.values()), torch.float32)
    tensors = {k: v.to(dtype) for k, v in tensors.items()}
    blocks: dict[str, torch.Tensor] = {}
    for key, joints in POSE_KEYS.items():
        if key not in tensors:
            continue
        value = tensors[key]
        if key in ("left_hand_pose", "right_hand_pose"):
            pca = left_hand_pca if key.startswith("left") else right_hand_pca
            blocks[key] = _hand_pose(value, key, pca, None)
        elif value.ndim >= 2 and tuple(value.shape[-2:]) == (joints, 3):
            blocks[key] = value
        elif value.ndim >= 1 and value.shape[-1] == 3 * joints:
            blocks[key] = value.reshape(*value.shape[:-1], joints, 3)
        else:
            raise BoneMapInputError(
                f"{key}: expected shape (..., {3 * joints}) or (..., {joints}, 3), got {tuple(value.shape)}"
            )
    for key, pca in (("left_hand_pose", left_hand_pca), ("right_hand_pose", right_hand_pca)):
        if key not in blocks and pca is not None:
            # A missing hand pose is the zero coefficient vector, i.e. the PCA mean hand.
            blocks[key] = pca.mean.to(dtype=dtype, device=device).reshape(15, 3)
    shapes = [b.shape[:-2] for b in blocks.values()]
    names = list(blocks)
    if "transl" in tensors:
        transl = tensors["transl"]
        if transl.ndim == 0 or transl.shape[-1] != 3:
            raise BoneMapInputError(f"transl: expected shape (..., 3), got {tuple(transl.shape)}")
        shapes.append(transl.shape[:-1])
        names.append("transl")
    batch = broadcast_batch(shapes, names) if shapes else ()
    zeros = torch.zeros(*batch, 1, 3, dtype=dtype, device=device)
    full = torch.cat(
        [
            blocks[k].expand(*batch, j, 3) if k in blocks else zeros.expand(*batch, j, 3)
            for k, j in POSE_KEYS.items()
        ],
        dim=-2,
    )
    transl = (
        tensors["transl"].expand(*batch, 3)
        if "transl" in tensors
        else torch.zeros(*batch, 3, dtype=dtype, device=device)
    )
    return full, transl, batch


def scale_and_translation(
    params: Mapping[str, object], dtype: torch.dtype, device: torch.device | str | None
) -> tuple[torch.Tensor | None, torch.Tensor | None]:
    """Reads THuman-style ``scale`` ``(...,)``/``(..., 1)`` and ``translation`` ``(..., 3)``.

    Returns ``(scale (..., 1, 1), translation (..., 1, 3))`` ready to broadcast over joints, or
    ``None`` for each that is absent.
    """
    scale = params.get("scale")
    translation = params.get("translation")
    scale_t = trans_t = None
    if scale is not None:
        scale_t = as_float_tensor(scale, "scale", dtype=dtype, device=device)
        if scale_t.ndim >= 1 and scale_t.shape[-1] == 1:
            scale_t = scale_t[..., 0]
        if bool((scale_t <= 0).any()):
            raise BoneMapInputError("scale: expected > 0")
        scale_t = scale_t[..., None, None]
    if translation is not None:
        trans_t = as_float_tensor(translation, "translation", dtype=dtype, device=device)
        if trans_t.ndim == 0 or trans_t.shape[-1] != 3:
            raise BoneMapInputError(
                f"translation: expected shape (..., 3), got {tuple(trans_t.shape)}"
            )
        trans_t = trans_t[..., None, :]
    return scale_t, trans_t
